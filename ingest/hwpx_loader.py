"""Hangul documents (.hwpx, the OWPML zip of KS X 6101) through python-hwpx's TextExtractor.

python-hwpx (Apache-2.0, maintained, pure Python) reads the package the way Hangul does: the
section order from ``Contents/content.hpf``'s spine (found through ``META-INF/container.xml``;
``Contents/section*.xml`` by number when there is none), each section's ``hp:p`` paragraphs and
their ``hp:t`` runs, footnotes and endnotes; it bounds ZIP members and refuses XML with a DTD
(no entity expansion). What it leaves to us, written here: which paragraphs are headings and how
tables read.

Headings: a paragraph whose paragraph shape (``paraPrIDRef`` into ``Contents/header.xml``) has
``<hh:heading type="OUTLINE">``, or whose style is an outline style ("개요 N" / "Outline N"),
is a section title. Tables (``hp:tbl``) are written a row per line with its column headers
(``ingest.document.table_lines``), each row cited at its table and row ("표 2, 3행"),
and are chunk boundaries; footnotes and endnotes stay in their paragraph, in parentheses.
"""
from __future__ import annotations

import re
from typing import Any, Iterator

from ingest import containers
from ingest.document import Loaded, Loader, TextLayout

MIMETYPE = b"application/hwp+zip"
HEADER = "Contents/header.xml"
_SECTION = re.compile(r"^Contents/section\d+\.xml$")
_OUTLINE_STYLE = re.compile(r"^(개요|outline)\s*\d+$", re.I)
# Drawing objects that hold paragraphs of their own (text boxes, shapes); tables are read apart.
_TEXT_OBJECTS = {"rect", "ellipse", "polygon", "curve", "arc", "container", "textart", "compose"}


def sniff(data: bytes) -> bool:
    names = containers.zip_members(data)
    if names is None or not any(_SECTION.match(n) for n in names):
        return False
    return (containers.small_member(data, "mimetype") or b"").strip() == MIMETYPE


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def heading_refs(header: Any) -> tuple[set[str], set[str]]:
    """(paraPr ids that are outline headings, style ids that are outline styles) of header.xml."""
    shapes: set[str] = set()
    styles: set[str] = set()
    for el in header.iter():
        name = _local(el.tag)
        if name == "paraPr":
            if any(_local(c.tag) == "heading" and c.get("type", "").upper() == "OUTLINE" for c in el):
                shapes.add(el.get("id", ""))
        elif name == "style":
            label = (el.get("name") or "").strip(), (el.get("engName") or "").strip()
            if any(_OUTLINE_STYLE.match(x) for x in label) or el.get("paraPrIDRef") in shapes:
                styles.add(el.get("id", ""))
    return shapes, styles


def own_paragraphs(element: Any) -> Iterator[Any]:
    """The paragraphs directly inside an object (a cell's or text box's ``hp:subList``), not those
    of objects nested in them, which their own paragraph's text already holds."""
    for child in element:
        if _local(child.tag) == "p":
            yield child
        else:
            yield from own_paragraphs(child)


def _objects(paragraph: Any) -> list[Any]:
    """The objects (tables, text boxes) inside a paragraph's runs, in order."""
    return [child for run in paragraph if _local(run.tag) == "run" for child in run
            if _local(child.tag) == "tbl" or _local(child.tag) in _TEXT_OBJECTS]


def table_cells(extractor: Any, table: Any) -> list[list[str]]:
    """Each ``hp:tr``'s cells: each ``hp:tc``'s paragraphs joined by a space."""
    rows: list[list[str]] = []
    for tr in (el for el in table if _local(el.tag) == "tr"):
        cells = []
        for tc in (el for el in tr if _local(el.tag) == "tc"):
            texts = [extractor.paragraph_text(p, object_behavior="nested", preserve_breaks=False)
                     for p in own_paragraphs(tc)]
            cells.append(" ".join(" ".join(texts).split()))
        if any(cells):
            rows.append(cells)
    return rows


def load(data: bytes, chunk_chars: int) -> Loaded:
    from hwpx.opc.security import parse_xml_stdlib, read_member
    from hwpx.tools.text_extractor import AnnotationOptions, TextExtractor

    notes = AnnotationOptions(footnote="inline", endnote="inline", note_inline_format=" ({text})")
    layout = TextLayout()
    # open_zip checks the declared sizes before anything is inflated
    with containers.open_zip(data) as archive, TextExtractor(archive) as extractor:
        containers.refuse_dtd(archive)  # the same refusal, in the same words, as .docx and .pptx
        shapes: set[str] = set()
        styles: set[str] = set()
        if HEADER in archive.namelist():
            shapes, styles = heading_refs(parse_xml_stdlib(read_member(archive, HEADER), part_name=HEADER))
        for section in extractor.iter_sections():
            # the section's own paragraphs, read directly: python-hwpx's iter_paragraphs computes
            # each paragraph's path among its siblings, quadratic in a section's paragraphs
            for p in (el for el in section.element if _local(el.tag) == "p"):
                text = extractor.paragraph_text(p, annotations=notes)
                if p.get("paraPrIDRef") in shapes or p.get("styleIDRef") in styles:
                    layout.heading(text)
                else:
                    layout.paragraph(text)
                for obj in _objects(p):
                    if _local(obj.tag) == "tbl":
                        layout.table(table_cells(extractor, obj))
                    else:
                        for inner in own_paragraphs(obj):
                            layout.paragraph(extractor.paragraph_text(inner, object_behavior="nested"))
    return layout.result()


LOADER = Loader("hwpx", "a Hangul document (.hwpx)", (".hwpx",), ("application/hwp+zip",),
                "sections in content.hpf order, paragraphs, tables (a row per line, with its column headers: "
                "'모델: GoogLeNet · 연도: 2014', cited at its table and row: '표 2, 3행'), text boxes, footnotes and endnotes in parentheses; sections from "
                "outline headings (개요 N styles or outline paragraph shapes)",
                load, sniff=sniff,
                expected="an OWPML package (mimetype application/hwp+zip, Contents/section0.xml) expected")
