"""Word documents (.docx) through python-docx: the body in document order, paragraphs and tables.

Headings are paragraphs styled "Heading 1".."Heading 9" or "Title" (Word writes the built-in
names in English whatever the interface language; python-docx reports them so), or that carry
an outline level 0-8 themselves or through their style: they become sections, as Markdown
headings do. A table is written row by row, one line per row, its cells separated by " | "
(a merged cell once), and is a chunk boundary. Page headers and footers are left out (running
text, like a PDF's); so are text boxes and footnotes, which python-docx does not expose.
"""
from __future__ import annotations

import io
import re
from typing import Any

from ingest import containers
from ingest.document import Loaded, Loader, TextLayout

_HEADING_STYLE = re.compile(r"^(heading|제목)\s*([1-9])$", re.I)
BODY_TEXT_LEVEL = 9  # w:outlineLvl 9 means "body text", not a heading (ECMA-376 Part 1, 17.3.1.20)
CELL_SEPARATOR = " | "


def sniff(data: bytes) -> bool:
    names = containers.zip_members(data)
    return names is not None and "word/document.xml" in names


def _outline_level(element: Any) -> int | None:
    values = element.xpath("./w:pPr/w:outlineLvl/@w:val")
    try:
        return int(values[0]) if values else None
    except ValueError:
        return None


def _style_level(style: Any) -> int | None:
    """1-based heading level a paragraph style gives, by name or by the outline level in its chain."""
    name = ((style.name or "") if style is not None else "").strip()
    if name.lower() == "title":
        return 1
    if m := _HEADING_STYLE.match(name):
        return int(m.group(2))
    while style is not None:
        level = _outline_level(style.element)
        if level is not None:
            return level + 1 if level < BODY_TEXT_LEVEL else None
        style = style.base_style
    return None


class HeadingLevels:
    """Heading levels of a document's paragraphs, each style resolved once: python-docx's
    ``paragraph.style`` scans every style of the document per call (quadratic on long files)."""

    def __init__(self, document: Any) -> None:
        from docx.enum.style import WD_STYLE_TYPE

        self.styles = {s.style_id: s for s in document.styles if s.type == WD_STYLE_TYPE.PARAGRAPH}
        self.default = document.styles.default(WD_STYLE_TYPE.PARAGRAPH)
        self.by_style: dict[str | None, int | None] = {}

    def __call__(self, paragraph: Any) -> int | None:
        """1-based heading level of a paragraph, None for body text."""
        own = _outline_level(paragraph._p)
        if own is not None:
            return own + 1 if own < BODY_TEXT_LEVEL else None
        style_id = paragraph._p.style
        if style_id not in self.by_style:
            self.by_style[style_id] = _style_level(self.styles.get(style_id, self.default) if style_id else self.default)
        return self.by_style[style_id]


def _cell_text(cell: Any) -> str:
    parts: list[str] = []
    for block in cell.iter_inner_content():
        if hasattr(block, "rows"):  # a table inside the cell: its rows, separated by "; "
            parts.append("; ".join(table_rows(block)))
        else:
            parts.append(block.text)
    return " ".join(" ".join(parts).split())


def table_rows(table: Any) -> list[str]:
    """One line per row: the cells' text joined by CELL_SEPARATOR, a merged cell written once."""
    rows: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(_cell_text(cell))
        if any(cells):
            rows.append(CELL_SEPARATOR.join(cells))
    return rows


def load(data: bytes, chunk_chars: int) -> Loaded:
    import docx

    containers.open_zip(data).close()  # declared sizes checked before python-docx inflates anything
    document = docx.Document(io.BytesIO(data))
    layout = TextLayout()
    heading_level = HeadingLevels(document)
    for block in document.iter_inner_content():
        if hasattr(block, "rows"):
            layout.mark_break()
            for row in table_rows(block):
                layout.paragraph(row)
            layout.mark_break()
        elif (level := heading_level(block)) is not None and block.text.strip():
            layout.heading(block.text, level)
        else:
            layout.paragraph(block.text)
    title = (document.core_properties.title or "").strip()
    return layout.result(title)


LOADER = Loader("docx", "a Word document (.docx)", (".docx",),
                ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",),
                "paragraphs and tables in document order (a table row per line, cells separated by "
                "' | '); sections from Heading 1-9 / Title styles and outline levels; headers, "
                "footers, text boxes and footnotes left out",
                load, sniff=sniff, expected="a ZIP package with word/document.xml expected", metadata_title=True)
