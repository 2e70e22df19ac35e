"""Finding blog boilerplate: lines that would pollute retrieval if they were indexed.

Cleaning never edits text. It returns the spans to leave out, and the splitter ends chunks
around them, so every chunk's offsets still index the document as loaded.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Iterable, Sequence

# Bumped whenever the rules change, so a re-ingest rebuilds chunks.
VERSION = 2

PATTERNS = [re.compile(p) for p in (
    r"^반응형$",
    r"^\+?\s*Recent (posts|comments)$",
    r"^'.+' 카테고리의 다른 글$",
    r"^(관련|이전|다음)\s*글$",
    r"^.{1,80}\s\(\d+\)\s*\d{4}\.\d{2}\.\d{2}\.?$",  # "Title  (0) 2023.04.03" in post lists
    r"^\d{4}\.\s?\d{1,2}\.\s?\d{1,2}\.? - \[[^\]]+\] - ",  # "2024.04.11 - [category] - other post"
    r"^(공유하기|구독하기|신고하기|좋아요|댓글|태그|저작자표시|Share|Subscribe|Like|Comments?)(\s.*)?$",
    r"^(카카오톡|카카오스토리|트위터|페이스북)\s*(공유)?$",
    r"^https?://\S+$",
    r"^(www\.)?[\w-]+(\.[\w-]+)*\.(com|net|org|io|kr|co\.kr|dev|ai|me)(/\S*)?$",  # bare site names
    r"^(Reference|References|참고|참고\s?자료|출처)\s*:?$",
)]
_URL = re.compile(r"^https?://\S+$")
_SITE = PATTERNS[9]
# A link preview card: a URL line, then title and excerpt, closed by the site's bare name.
CARD_MAX_LINES = 8


def _lines(text: str) -> list[tuple[int, int, str]]:
    out, pos = [], 0
    for raw in text.splitlines(keepends=True):
        out.append((pos, pos + len(raw), raw.strip()))
        pos += len(raw)
    return out


def repeated_lines(texts: Iterable[str], min_len: int = 6) -> set[str]:
    """Lines of some length that occur in two or more documents (site chrome, footers).

    Short lines are exempt: two notes may well share a heading such as "장점".
    """
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update({line.strip() for line in text.splitlines() if len(line.strip()) >= min_len})
    return {line for line, n in counts.items() if n >= 2}


def boilerplate_spans(text: str, repeated: set[str] | frozenset[str] = frozenset()) -> list[tuple[int, int]]:
    """Character spans ``[start, end)`` of whole boilerplate lines, in order."""
    lines = _lines(text)
    drop = [bool(s) and (s in repeated or any(p.match(s) for p in PATTERNS)) for _, _, s in lines]
    for i, (_, _, s) in enumerate(lines):
        if _URL.match(s):
            for j in range(i + 1, min(len(lines), i + 1 + CARD_MAX_LINES)):
                if _SITE.match(lines[j][2]) or _URL.match(lines[j][2]):
                    if _SITE.match(lines[j][2]):
                        for m in range(i, j + 1):
                            drop[m] = True
                    break
    spans: list[tuple[int, int]] = []
    for (a, b, _), d in zip(lines, drop):
        if d:
            if spans and spans[-1][1] == a:
                spans[-1] = (spans[-1][0], b)
            else:
                spans.append((a, b))
    return spans


# ---- Running headers and footers of paged documents (PDF) --------------------------------------
# Lines at a page's top and bottom edges (this many non-blank lines each) where running heads,
# footers and folios sit.
EDGE_LINES = 3
RUNNING_MAX_CHARS = 80  # a running head is a title or a name, never a paragraph
_DIGITS = re.compile(r"\d+")
# A folio on its own line: "7", "- 7 -", "(7)", "p. 7", "Page 7 of 12", "7 / 12", "7쪽", "7 페이지".
_FOLIO = re.compile(r"^[-–—(\[\s]*(page|pg\.|p\.)?\s*\d{1,4}\s*((/|of)\s*\d{1,4})?\s*(쪽|페이지|면)?[-–—)\]\s]*$", re.I)


def running_lines_spans(text: str, pages: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans ``[start, end)`` of a paged document's running headers, footers and page numbers.

    ``pages``: each page's ``(start, end)`` in ``text``. A line among a page's first or last
    EDGE_LINES non-blank lines (of at most RUNNING_MAX_CHARS) is left out when, with its digits ignored (a running footer that
    carries the page number), it sits on the edges of more than half the pages (at least two),
    or when it is a page number alone. Lines in the middle of a page are never touched. One pass
    over the lines: linear in the text.
    """
    edges: list[list[tuple[int, int, str, str]]] = []
    for start, end in pages:
        lines, pos = [], start
        for raw in text[start:end].splitlines(keepends=True):
            if raw.strip():
                s = " ".join(raw.split())
                lines.append((pos, pos + len(raw), s, _DIGITS.sub("#", s)))
            pos += len(raw)
        edge = lines if len(lines) <= 2 * EDGE_LINES else lines[:EDGE_LINES] + lines[-EDGE_LINES:]
        edges.append(edge)
    counts: Counter[str] = Counter()
    for edge in edges:
        counts.update({key for _, _, s, key in edge if len(s) <= RUNNING_MAX_CHARS})
    need = max(2, len(pages) // 2 + 1)
    spans = sorted((a, b) for edge in edges for a, b, s, key in edge
                   if len(s) <= RUNNING_MAX_CHARS and (counts[key] >= need or _FOLIO.match(s)))
    return spans
