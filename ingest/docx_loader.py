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


def heading_level(paragraph: Any) -> int | None:
    """1-based heading level of a paragraph, None for body text."""
    style = paragraph.style
    name = (style.name or "") if style is not None else ""
    if name.lower() == "title":
        return 1
    if m := _HEADING_STYLE.match(name.strip()):
        return int(m.group(2))
    level = _outline_level(paragraph._p)
    while level is None and style is not None:  # the style chain may set the outline level
        level = _outline_level(style.element)
        style = style.base_style
    return level + 1 if level is not None and level < BODY_TEXT_LEVEL else None


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
    for block in document.iter_inner_content():
        if hasattr(block, "rows"):
            layout.mark_break()
            for row in table_rows(block):
                layout.paragraph(row)
            layout.mark_break()
        elif heading_level(block) is not None and block.text.strip():
            layout.heading(block.text)
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
