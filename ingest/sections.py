"""A document's heading table for the snapshot (``rag.snapshots.sections``): each section's start
offset, level and title, and whether the document is a collection of posts.

The headings are the ones the chunker cuts at (``ingest.splitting.section_headings``: retrieval
is unchanged by this table), less heading-like lines inside a fenced code block of a plain-text
note (a ``# comment`` is code, not a section), plus the parts a loader labels (a slide's speaker
notes, table rows), which name their part in citations instead of being quoted as text.
"""
from __future__ import annotations

import re
from typing import Any

from ingest import splitting
from ingest.document import Heading, LoadedDocument

_FENCE = re.compile(r"^[ \t]{0,3}(```|~~~)", re.M)
# a shell command or a line of code standing alone reads like a heading to the splitter's rules
_CODE_LINE = re.compile(r"^(import|from|def|class|return|pip3?|npm|conda|apt(-get)?|sudo|git|python3?|docker)\s"
                        r"|^(>>>|\$ )|=|^\w+\.\w+\(")
# A collection of posts: this many posts (each after a run of site chrome), or, in a format with
# explicit levels, this many top-level headings besides the first.
MIN_POSTS = 2
MIN_TOP_LEVEL = 3


def fenced_spans(text: str) -> list[tuple[int, int]]:
    """``[start, end)`` of each fenced code block (CommonMark fences: a line starting with ``` or
    ~~~ opens one, the next line with the same fence closes it; an unclosed one runs to the end)."""
    out: list[tuple[int, int]] = []
    opened: tuple[int, str] | None = None
    for m in _FENCE.finditer(text):
        if opened is None:
            opened = (m.start(), m.group(1))
        elif m.group(1) == opened[1]:
            end = text.find("\n", m.end())
            out.append((opened[0], len(text) if end < 0 else end + 1))
            opened = None
    if opened is not None:
        out.append((opened[0], len(text)))
    return out


def document_sections(doc: LoadedDocument, boilerplate: list[tuple[int, int]]) -> dict[str, Any]:
    """``{"sections": [[start, level, title], ...] by start, "collection": 0 or 1}`` of ``doc``,
    ``boilerplate``: the spans the chunker dropped (the same ones, so both agree)."""
    spans = splitting.union_spans(boilerplate)
    headings = splitting.section_headings(doc, spans)
    if doc.headings is None:  # found in the text itself: code is no heading, fenced or a command line
        code = fenced_spans(doc.text)
        headings = [h for h in headings if not any(a <= h.start < b for a, b in code) and not _CODE_LINE.search(h.title)]
    starts = [h.start for h in headings]
    posts = {s for _, b in splitting.post_starts(doc.text, spans) if b < len(doc.text) and doc.text[b:].strip()
             for s in starts if b <= s < b + 2}
    if doc.headings is None and len(posts) >= MIN_POSTS:
        # a blog export: each post's title heads its post, the headings found inside sit below it
        # (but for units that are top-level by their shape: "3주 차", "II.")
        headings = [h if h.start in posts or splitting.is_unit_heading(h.title) else
                    Heading(h.start, h.title, h.level + 1) for h in headings]
    kept: list[Heading] = []
    for h in headings:  # a post's title line found twice (after the chrome, and as a heading): once
        if kept and kept[-1].title == h.title and not doc.text[kept[-1].start:h.start].replace(h.title, "", 1).strip():
            continue
        kept.append(h)
    rows = sorted({(h.start, h.level, h.title) for h in [*kept, *doc.structure]})
    top = sum(1 for h in headings if h.level == 1) if doc.headings is not None and doc.type in ("md", "html") else 0
    return {"sections": [list(r) for r in rows], "collection": int(len(posts) >= MIN_POSTS or top > MIN_TOP_LEVEL)}
