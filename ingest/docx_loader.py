"""Word documents (.docx) through python-docx: the body in document order, paragraphs and tables.

Headings are paragraphs styled "Heading 1".."Heading 9" or "Title" (Word writes the built-in
names in English whatever the interface language; python-docx reports them so), or that carry
an outline level 0-8 themselves or through their style: they become sections, as Markdown
headings do. A table is written row by row, one line per row (``ingest.document.table_lines``:
the header row's cells separated by " | ", each later row with its headers, "모델: GoogLeNet · 연도: 2014")
(a merged cell once), each row a part cited at its table and row ("표 2, 3행"), and is a chunk boundary; a row whose merged cells python-docx cannot map
onto the table grid (a vertical merge starting inside the row above's horizontal span, as
converters write) is read cell by cell. Automatic list numbers ("1.", "가.") are written before
their paragraph (``ingest.docx_numbering``); text boxes (``w:txbxContent``; the drawing's
``mc:Fallback`` copy is skipped) follow the paragraph they are anchored in. Page headers and
footers are left out (running text, like a PDF's); footnotes, endnotes and comments too, each
named in the ingest summary's warnings.
"""
from __future__ import annotations

import io
import re
from typing import Any

from ingest import containers
from ingest.docx_numbering import ListNumbers
from ingest.document import Loaded, Loader, TextLayout, table_lines

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
# Parts python-docx does not read, named in the warnings when they hold text: (part, element, what).
SIDE_PARTS = (("/word/footnotes.xml", "footnote", "footnotes"), ("/word/endnotes.xml", "endnote", "endnotes"),
              ("/word/comments.xml", "comment", "comments"))

_HEADING_STYLE = re.compile(r"^(heading|제목)\s*([1-9])$", re.I)
BODY_TEXT_LEVEL = 9  # w:outlineLvl 9 means "body text", not a heading (ECMA-376 Part 1, 17.3.1.20)


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

    def style_of(self, paragraph: Any) -> Any:
        """The paragraph's style object (the default paragraph style when it names none)."""
        style_id = paragraph._p.style
        return self.styles.get(style_id, self.default) if style_id else self.default

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


def _row_cells(row: Any, table: Any) -> list[Any]:
    """The row's cells on the table grid; when python-docx cannot map a merge onto the grid
    (it raises ValueError "no `tc` element at grid_offset=..."), the row's own ``w:tc`` cells."""
    try:
        return list(row.cells)
    except (ValueError, IndexError):
        from docx.table import _Cell

        return [_Cell(tc, table) for tc in row._tr.tc_lst]


def table_cells(table: Any) -> list[list[str]]:
    """Each row's cells' text, a merged cell once."""
    rows: list[list[str]] = []
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in _row_cells(row, table):
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(_cell_text(cell))
        if any(cells):
            rows.append(cells)
    return rows


def table_rows(table: Any) -> list[str]:
    """One line per row, as the document model writes tables (``ingest.document.table_lines``)."""
    return table_lines(table_cells(table))


def text_boxes(p: Any) -> list[Any]:
    """The ``w:txbxContent`` of the text boxes anchored in paragraph ``p`` (outermost only; the
    ``mc:Fallback`` copy a drawing carries for old readers is skipped)."""
    out = []
    for box in p.iter(f"{{{W_NS}}}txbxContent"):
        ancestor, skip = box.getparent(), False
        while ancestor is not None and ancestor is not p:
            if ancestor.tag in (MC_FALLBACK, box.tag):
                skip = True
                break
            ancestor = ancestor.getparent()
        if not skip:
            out.append(box)
    return out


def side_part_warnings(document: Any) -> list[str]:
    """What python-docx leaves out that holds text: footnotes, endnotes, comments."""
    warnings = []
    for part in document.part.package.iter_parts():
        for partname, tag, what in SIDE_PARTS:
            if str(part.partname) != partname:
                continue
            from docx.oxml.parser import parse_xml

            root = parse_xml(part.blob)
            count = sum(1 for el in root.iter(f"{{{W_NS}}}{tag}")
                        if "".join(el.itertext()).strip() and el.get(f"{{{W_NS}}}type") in (None, "normal"))
            if count:
                warnings.append(f"{count} {what if count > 1 else what[:-1]} left out (not indexed)")
    return warnings


def load(data: bytes, chunk_chars: int) -> Loaded:
    import docx
    from docx.text.paragraph import Paragraph

    with containers.open_zip(data) as archive:  # declared sizes checked before python-docx inflates anything
        containers.refuse_dtd(archive)
    document = docx.Document(io.BytesIO(data))
    layout = TextLayout()
    heading_level = HeadingLevels(document)
    numbers = ListNumbers(document)
    for block in document.iter_inner_content():
        if hasattr(block, "rows"):
            layout.table(table_cells(block))
            continue  # a table's cells hold no text boxes of their own paragraph to read
        elif (level := heading_level(block)) is not None and block.text.strip():
            layout.heading(block.text, level)
        else:
            number = numbers.prefix(block._p, heading_level.style_of(block))
            layout.paragraph(f"{number} {block.text}" if number and block.text.strip() else block.text)
        for box in text_boxes(block._p):
            for inner in box.iter(f"{{{W_NS}}}p"):
                layout.paragraph(Paragraph(inner, block).text)
    title = (document.core_properties.title or "").strip()
    return layout.result(title, tuple(side_part_warnings(document)))


LOADER = Loader("docx", "a Word document (.docx)", (".docx",),
                ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",),
                "paragraphs and tables in document order (a table row per line, with its column headers: "
                "'모델: GoogLeNet · 연도: 2014', cited at its table and row: '표 2, 3행'); automatic list numbers; text boxes after their paragraph; sections from Heading 1-9 / "
                "Title styles and outline levels; headers and footers left out, footnotes, endnotes and "
                "comments left out with a warning",
                load, sniff=sniff, expected="a ZIP package with word/document.xml expected", metadata_title=True)
