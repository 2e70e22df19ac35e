"""PowerPoint decks (.pptx) through python-pptx: one page per slide, so citations carry the slide.

Each slide is a page (``Page.number`` = the slide's number, 1-based, hidden slides included) and
a section named by its title (a slide without a title is the section "Slide N", not written into
the text). The slide's text follows in reading order: its shapes top to bottom, then left to
right (grouped shapes likewise inside the group), text frames paragraph by paragraph, tables a
row per line with its column headers, each row a part cited "표 N, M행" (``ingest.document``); footer, slide-number and
date placeholders (running text on every slide) are left out. The speaker notes come last on
their slide, as a part named ``NOTES_LABEL`` under the slide's section (structure recorded beside
the text, never written into it: a quote of the notes is the presenter's words only, cited "slide
title › Speaker notes"). Pictures and charts carry no text and are skipped.
"""
from __future__ import annotations

import io
from typing import Any

from ingest import containers
from ingest.document import Loaded, Loader, TextLayout

NOTES_LABEL = "Speaker notes"
UNTITLED = "Slide {n}"


def sniff(data: bytes) -> bool:
    names = containers.zip_members(data)
    return names is not None and "ppt/presentation.xml" in names


def _reading_order(shapes: Any, inherited: dict[tuple[int, int], tuple[int, int]] | None = None) -> list[Any]:
    """Shapes top to bottom, then left to right; ties keep the deck's z-order.

    A placeholder without a position of its own takes its layout's; ``inherited`` caches that
    per (layout, placeholder index), as python-pptx looks it up with XPath on every access.
    """
    cache = {} if inherited is None else inherited

    def position(shape: Any) -> tuple[int, int]:
        if shape.is_placeholder and getattr(shape._element, "xfrm", None) is None:
            key = (id(shape.part.slide_layout) if hasattr(shape.part, "slide_layout") else 0,
                   shape.placeholder_format.idx)
            if key not in cache:
                cache[key] = (shape.top or 0, shape.left or 0)
            return cache[key]
        return (shape.top or 0, shape.left or 0)

    return sorted(shapes, key=position)


def lay_out_shape(layout: TextLayout, shape: Any) -> None:
    """One shape's text: a group's members in reading order, a table (``TextLayout.table``: a row
    per line with its column headers), a text frame's paragraphs."""
    if hasattr(shape, "shapes"):  # a group shape
        for member in _reading_order(shape.shapes):
            lay_out_shape(layout, member)
    elif getattr(shape, "has_table", False):
        layout.table([[" ".join(cell.text.split()) for cell in row.cells if not cell.is_spanned]
                      for row in shape.table.rows])
    elif getattr(shape, "has_text_frame", False):
        for paragraph in shape.text_frame.paragraphs:
            layout.paragraph(paragraph.text)


def _is_chrome(shape: Any) -> bool:
    """The footer, slide-number and date placeholders: running text on every slide, not content."""
    from pptx.enum.shapes import PP_PLACEHOLDER

    if not shape.is_placeholder:
        return False
    try:
        kind = shape.placeholder_format.type
    except (AttributeError, ValueError):
        return False
    return kind in (PP_PLACEHOLDER.FOOTER, PP_PLACEHOLDER.SLIDE_NUMBER, PP_PLACEHOLDER.DATE)


def _title_shape(slide: Any) -> Any | None:
    try:
        return slide.shapes.title
    except (KeyError, AttributeError):
        return None


def load(data: bytes, chunk_chars: int) -> Loaded:
    import pptx

    with containers.open_zip(data) as archive:  # declared sizes checked before python-pptx inflates anything
        containers.refuse_dtd(archive)
    deck = pptx.Presentation(io.BytesIO(data))
    layout = TextLayout()
    inherited: dict[tuple[int, int], tuple[int, int]] = {}
    for number, slide in enumerate(deck.slides, start=1):
        layout.start_page(number)
        title_shape = _title_shape(slide)
        title = " ".join(title_shape.text_frame.text.split()) if title_shape is not None else ""
        if title:
            layout.heading(title)
        else:
            layout.heading(UNTITLED.format(n=number), record_only=True)
        for shape in _reading_order(slide.shapes, inherited):
            if (title_shape is not None and shape.shape_id == title_shape.shape_id) or _is_chrome(shape):
                continue
            lay_out_shape(layout, shape)
        frame = slide.notes_slide.notes_text_frame if slide.has_notes_slide else None
        if frame is not None and frame.text.strip():
            layout.part(NOTES_LABEL, 2)
            layout.paragraph(frame.text)
    title = (deck.core_properties.title or "").strip()
    return layout.result(title)


LOADER = Loader("pptx", "a PowerPoint presentation (.pptx)", (".pptx",),
                ("application/vnd.openxmlformats-officedocument.presentationml.presentation",),
                "one page per slide (the slide number is the page in citations); the slide title "
                "as section; text frames, tables (a row per line, with its column headers, cited at its table and "
                "row: '표 2, 3행') and grouped shapes in reading order (footers and slide "
                "numbers left out); speaker notes "
                f"after the slide's text, cited as the part '{NOTES_LABEL}' of the slide",
                load, sniff=sniff, expected="a ZIP package with ppt/presentation.xml expected", metadata_title=True)
