"""Splitting documents into citable chunks that never straddle boilerplate, pages or sections.

langchain's RecursiveCharacterTextSplitter does the splitting, with Korean sentence endings
("~다", "~음", "~함" without a period are common in notes) among its separators. Each chunk
keeps ``start``/``end`` offsets into the document as loaded.
"""
from __future__ import annotations

import bisect
import re
from typing import Sequence

from langchain_text_splitters import RecursiveCharacterTextSplitter

from rag.types import Chunk

from ingest import cleaning
from ingest.loaders import Heading, LoadedDocument

VERSION = 5

SEPARATORS = [
    r"\n[ \t\u00a0]*\n",  # paragraphs
    r"\n",
    r"(?<=[.?!。])\s+",  # sentence ends with punctuation
    r"(?<=[\uac00-\ud7a3][다요죠까])\s+",  # Korean sentence endings without a period
    r"(?<=[,;:)\]])\s+",
    r"\s+",
    "",
]
_MD_HEADING = re.compile(r"^#{1,6}\s+(\S.*)$")
_NUMBERED = re.compile(r"^(\d{1,2}(\.\d{1,2})*\.|\d{1,2}\s*주\s*차\b|[IVX]{1,4}\.)\s*\S")
_NOT_HEADING_START = re.compile(r"^([-•*·▶➤$>|=+]|https?:|\d+\)|\(|\[|[\d.,:\s%]+$)")
_SENTENCE_END = re.compile(r"([.?!。:;,]|다|요|음|함|임|됨)$")
MIN_CHUNK_CHARS = 15
MAX_HEADING_CHARS = 40


# Pictographs and dingbats: a line with one is decoration ("🔥 오늘의 정리 🔥"), not a heading.
_EMOJI = re.compile("[\u2600-\u27bf\u2b00-\u2bff\ufe0f\U0001f000-\U0001faff]")


def heading_title(line: str) -> str | None:
    """The title of a heading line once emoji are dropped; None when what is left is no title
    (no letters) or is blog chrome ("공유하기", "댓글 0", ...)."""
    title = " ".join(_EMOJI.sub(" ", line).split())
    if not re.search(r"[^\W\d_]", title) or any(p.match(title) for p in cleaning.PATTERNS):
        return None
    return title


def find_headings(text: str, blank: Sequence[tuple[int, int]] = ()) -> list[Heading]:
    """Lines that look like section headings: markdown '#', numbered titles, or short title-like
    lines standing alone (after a blank line, or between long paragraphs).

    ``blank``: sorted ``[start, end)`` spans (boilerplate, running headers) whose lines count as
    blank, so a heading under a page's running header still stands alone. One pass over the
    lines and one back to find each line's next non-blank line: linear in the number of lines.
    """
    lines: list[tuple[int, str]] = []
    pos, k = 0, 0
    for raw in text.splitlines(keepends=True):
        while k < len(blank) and blank[k][1] <= pos:
            k += 1
        hidden = k < len(blank) and blank[k][0] <= pos
        lines.append((pos, "" if hidden else raw.strip().replace("\u00a0", " ")))
        pos += len(raw)
    following = [""] * len(lines)  # the next non-blank line after each line
    after = ""
    for i in range(len(lines) - 1, -1, -1):
        following[i] = after
        if lines[i][1]:
            after = lines[i][1]
    out: list[Heading] = []
    md_level = 0  # the level of the last Markdown heading: heading-like lines after it sit below it
    for i, (start, s) in enumerate(lines):
        if not s:
            continue
        md = _MD_HEADING.match(s)
        if md:
            title = heading_title(md.group(1))
            if title:
                md_level = len(s) - len(s.lstrip("#"))
                out.append(Heading(start, title, md_level))
            continue
        if len(s) > MAX_HEADING_CHARS or _NOT_HEADING_START.match(s) or _EMOJI.search(s):
            continue
        if _SENTENCE_END.search(s) or heading_title(s) is None:
            continue
        prev = lines[i - 1][1] if i > 0 else ""
        nxt = following[i]
        alone = not prev and bool(nxt)
        between_long = len(prev) >= 2 * len(s) + 40 and len(nxt) >= 2 * len(s) + 40
        if _NUMBERED.match(s) and (alone or len(nxt) > len(s)):
            out.append(Heading(start, s, _numbered_level(s, md_level)))
        elif alone and len(nxt) > len(s) or between_long:
            out.append(Heading(start, s, md_level + 1 if md_level else 1))
    return out


def is_unit_heading(line: str) -> bool:
    """A heading that is a top-level unit by its shape: "3주 차 - CNN", "II. 결론"."""
    m = _NUMBERED.match(line.strip())
    return bool(m) and not (m.group(1)[:1].isdigit() and "주" not in m.group(1))


def _numbered_level(line: str, md_level: int) -> int:
    """Level of a numbered heading line: "1." one below the top (a note's title line or a
    Markdown heading above it), "1.2." one more; "3주 차" and "II." top-level units."""
    m = _NUMBERED.match(line)
    if m and m.group(1)[:1].isdigit() and "주" not in m.group(1):
        return (md_level or 1) + m.group(1).rstrip(".").count(".") + 1
    return md_level + 1 if md_level else 1


class Chunker:
    def __init__(self, chunk_size: int = 500, chunk_overlap: int = 80) -> None:
        self.chunk_size = chunk_size
        self.splitter = RecursiveCharacterTextSplitter(
            chunk_size=chunk_size,
            chunk_overlap=chunk_overlap,
            separators=SEPARATORS,
            is_separator_regex=True,
            keep_separator="end",
            strip_whitespace=True,
            add_start_index=True,
        )

    def split(self, doc: LoadedDocument, boilerplate: list[tuple[int, int]]) -> list[Chunk]:
        boilerplate = _union(boilerplate)
        headings = section_headings(doc, boilerplate)
        cuts = sorted({h.start for h in headings} | {p.start for p in doc.pages} | {b for _, b in boilerplate}
                      | set(doc.breaks))
        heading_starts = [h.start for h in headings]
        page_starts = [p.start for p in doc.pages]
        chunks: list[Chunk] = []
        segments = _merge_small(_segments(len(doc.text), boilerplate, cuts), {p.start for p in doc.pages}, self.chunk_size)
        for seg_start, seg_end in segments:
            seg = doc.text[seg_start:seg_end]
            if len(seg.strip()) < MIN_CHUNK_CHARS:
                continue
            first = seg_start + len(seg) - len(seg.lstrip())  # where its text starts: a heading may
            page = _page_at(doc, page_starts, first)  # follow the blank line the segment starts with
            for start, piece in self._pieces(seg):
                a = seg_start + start
                if len(piece.strip()) < MIN_CHUNK_CHARS:
                    continue
                section = _section_of(headings, heading_starts, a, a + len(piece))
                chunks.append(Chunk(doc=doc.doc_id, start=a, end=a + len(piece), text=piece, section=section, page=page))
        return chunks

    def _pieces(self, seg: str) -> list[tuple[int, str]]:
        stripped = seg.strip()
        if len(stripped) <= self.chunk_size:
            return [(seg.index(stripped), stripped)]
        out = []
        for d in self.splitter.create_documents([seg]):
            start = int(d.metadata["start_index"])
            if start < 0 or seg[start : start + len(d.page_content)] != d.page_content:
                start = seg.find(d.page_content)
            out.append((start, d.page_content))
        return out


def section_headings(doc: LoadedDocument, boilerplate: list[tuple[int, int]]) -> list[Heading]:
    """The sections of ``doc`` by start, as the chunker cuts at them: the loader's headings
    (Markdown, HTML, Office) or heading-like lines (plain text, PDF pages), none inside
    ``boilerplate`` (sorted, disjoint spans), and a post title after each run of site chrome.
    Raises nothing."""
    starts = [a for a, _ in boilerplate]

    def dropped(pos: int) -> bool:
        i = bisect.bisect_right(starts, pos) - 1
        return i >= 0 and pos < boilerplate[i][1]

    # A loader that parsed the format (Markdown, HTML) knows its headings; plain text and PDF
    # pages are read for heading-like lines.
    if doc.headings is not None:
        found = [Heading(h.start, t, h.level) for h in doc.headings if (t := heading_title(h.title))]
    else:
        found = find_headings(doc.text, boilerplate)
    headings = [h for h in found if not dropped(h.start)]
    # A blog export puts site chrome between posts: a heading never carries across it, and a
    # post whose title line is too long to look like a heading is titled by that first line.
    known = sorted(h.start for h in headings)
    for _, b in post_starts(doc.text, boilerplate):
        i = bisect.bisect_left(known, b)
        if not (i < len(known) and known[i] < b + 2):
            title = _title_line(doc.text, b)
            if title:
                headings.append(Heading(b, title))
    headings.sort(key=lambda h: h.start)
    return headings


def post_starts(text: str, boilerplate: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Runs of boilerplate (site chrome) separated only by blank lines, as ``(start, end)``: in
    a blog export each ``end`` is where a post starts."""
    return _join_blank_gaps(text, boilerplate)


def union_spans(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans sorted, overlapping or touching ones joined (boilerplate may come from several rules)."""
    return _union(spans)


def _union(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans sorted, overlapping or touching ones joined (boilerplate may come from several rules)."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _segments(n: int, boilerplate: list[tuple[int, int]], cuts: list[int]) -> list[tuple[int, int]]:
    """Ranges of text between boilerplate spans, further cut at headings and page starts."""
    keep: list[tuple[int, int]] = []
    pos = 0
    for a, b in boilerplate:
        if a > pos:
            keep.append((pos, a))
        pos = max(pos, b)
    if pos < n:
        keep.append((pos, n))
    out: list[tuple[int, int]] = []
    for a, b in keep:
        inner = cuts[bisect.bisect_right(cuts, a) : bisect.bisect_left(cuts, b)]
        bounds = [a, *inner, b]
        out.extend((x, y) for x, y in zip(bounds, bounds[1:]) if y > x)
    return out


def _merge_small(segments: list[tuple[int, int]], hard: set[int], limit: int) -> list[tuple[int, int]]:
    """Join touching segments while they fit in one chunk, so a short section (a heading and a
    line or two) is not a chunk of its own. Boilerplate gaps and page starts are never joined."""
    out: list[tuple[int, int]] = []
    for a, b in segments:
        if out and out[-1][1] == a and a not in hard and b - out[-1][0] <= limit:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def _join_blank_gaps(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Boilerplate spans separated only by blank lines, as one block."""
    out: list[tuple[int, int]] = []
    for a, b in spans:
        if out and not text[out[-1][1] : a].strip():
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def _title_line(text: str, pos: int) -> str | None:
    """The first non-blank line at ``pos`` when it reads like a title (short, no sentence end)."""
    rest = text[pos : pos + 400].lstrip()
    line = rest.split("\n", 1)[0].strip().replace("\u00a0", " ")
    if 2 <= len(line) <= 80 and not _SENTENCE_END.search(line) and not _NOT_HEADING_START.match(line):
        return heading_title(line)
    return None


def _section_of(headings: list[Heading], starts: list[int], a: int, b: int) -> str | None:
    """The section of the chunk ``[a, b)``: the heading whose part of the text covers most of it.
    Short sections are merged into one chunk, so a chunk may hold the end of one section (or a
    heading with no text of its own) and most of the next: its sentences belong to the latter."""
    i = bisect.bisect_right(starts, a) - 1
    best, best_len = (headings[i].title if i >= 0 else None), -1
    while True:
        lo = max(a, starts[i]) if i >= 0 else a
        hi = min(b, starts[i + 1]) if i + 1 < len(starts) else b
        if hi - lo > best_len:
            best, best_len = (headings[i].title if i >= 0 else None), hi - lo
        i += 1
        if i >= len(starts) or starts[i] >= b:
            return best


def _page_at(doc: LoadedDocument, starts: list[int], pos: int) -> int | None:
    if not doc.pages:
        return None
    i = max(0, bisect.bisect_right(starts, pos) - 1)
    return doc.pages[i].number


def embed_input(chunk: Chunk) -> str:
    """What is embedded and tokenised: the section title gives a passage its topic."""
    if chunk.section and not chunk.text.startswith(chunk.section):
        return f"{chunk.section}\n{chunk.text}"
    return chunk.text
