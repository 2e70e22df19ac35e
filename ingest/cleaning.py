"""Finding blog boilerplate: lines that would pollute retrieval if they were indexed.

Cleaning never edits text. It returns the spans to leave out, and the splitter ends chunks
around them, so every chunk's offsets still index the document as loaded.

Two rules decide that a line is site chrome, and neither can take a document's own content:

* its shape alone: lines that only blog platforms write ("반응형", "'X' 카테고리의 다른 글",
  share buttons, post-list rows such as "Title  (0) 2023.04.03" or "Title (0) | 2024.06.18 |",
  link-preview cards);
* its repetition: a label-like line (short, not a sentence, not code) found in at least half of
  the corpus's distinct documents and in at least three of them (``MIN_REPEAT_DOCS``). Copies
  and versions of one note (documents that share most of their lines) count once, so a "v2"
  of a note, or three drafts of it, never make the note's own lines look like chrome; and
  when these lines would take more than half of a document's text, they are kept there.

Sources: templates are the text a site repeats across many of its pages (Bar-Yossef and
Rajagopalan, "Template detection via data mining and its applications", WWW 2002), and short
blocks of few words are mostly boilerplate (Kohlschütter et al., "Boilerplate Detection using
Shallow Text Features", WSDM 2010). The thresholds (half the notes and three, Jaccard 0.5 for
versions, half a document) are ours, chosen so that one other document sharing a line is never
enough.
"""
from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from typing import Sequence

# Bumped whenever the rules change, so a re-ingest rebuilds chunks.
VERSION = 4

PATTERNS = [re.compile(p) for p in (
    r"^반응형$",
    r"^\+?\s*Recent (posts|comments)$",
    r"^'.+' 카테고리의 다른 글$",
    r"^(관련|이전|다음)\s*글$",
    # "Title  (0) 2023.04.03" in post lists, also as a table row: "Title (0) | 2024.06.18 |"
    r"^.{1,80}\s\(\d+\)\s*\|?\s*\d{4}\.\d{2}\.\d{2}\.?\s*\|?$",
    r"^\d{4}\.\s?\d{1,2}\.\s?\d{1,2}\.? - \[[^\]]+\] - ",  # "2024.04.11 - [category] - other post"
    r"^(공유하기|구독하기|신고하기|좋아요|댓글|태그|저작자표시|Share|Subscribe|Like|Comments?)(\s.*)?$",
    r"^(카카오톡|카카오스토리|트위터|페이스북)\s*(공유)?$",
    r"^https?://\S+$",
    r"^(www\.)?[\w-]+(\.[\w-]+)*\.(com|net|org|io|kr|co\.kr|dev|ai|me)(/\S*)?$",  # bare site names
    r"^(Reference|References|참고|참고\s?자료|출처)\s*:?$",
)]
_SHAPE = re.compile("|".join(f"(?:{p.pattern})" for p in PATTERNS))  # one match per line, not eleven
_URL = re.compile(r"^https?://\S+$")
_SITE = PATTERNS[9]
# A link preview card: a URL line, then title and excerpt, closed by the site's bare name.
CARD_MAX_LINES = 8

MIN_REPEAT_DOCS = 3  # a line repeated in fewer distinct documents is never chrome by repetition
MIN_LINE_CHARS = 6  # shorter lines ("장점", "개요") are headings two notes may well share
MAX_LABEL_CHARS = 80
SAME_NOTE_JACCARD = 0.5  # two documents sharing this share of their lines (Jaccard) are one note
MAX_REPEAT_SHARE = 0.5  # repetition never takes more than this share of one document's text
_MAX_PAIR_DF = 200  # lines in more documents than this are not versions of one note: skip pairing
_SENTENCE_END = re.compile(r"([.?!。…]|[다요음함임됨죠까])[\"'”’)\]]*$")
_CODE = re.compile(r"[=(){}\[\];<>`]|^(import|from|def|class|return)\s|^(>>>|\$ |#)")
_LIST_ITEM = re.compile(r"^([-*•·▶>]|\d{1,3}[.)])\s")
_FENCE = re.compile(r"^(```|~~~)")


def _lines(text: str) -> list[tuple[int, int, str]]:
    out, pos = [], 0
    for raw in text.splitlines(keepends=True):
        out.append((pos, pos + len(raw), raw.strip()))
        pos += len(raw)
    return out


def by_shape(line: str) -> bool:
    """Whether a stripped line is chrome by its shape alone (whatever else the corpus holds)."""
    return _SHAPE.match(line) is not None


def label_like(line: str) -> bool:
    """A line that could be a site's template text: short, not a sentence, not code, a heading
    or a list item (those are a note's own structure even when several notes share them)."""
    return (MIN_LINE_CHARS <= len(line) <= MAX_LABEL_CHARS and not _SENTENCE_END.search(line)
            and not _CODE.search(line) and not _LIST_ITEM.match(line))


def _candidate_lines(text: str) -> set[str]:
    """The lines that tell documents apart (long enough, not chrome by shape alone)."""
    return {s for s in (line.strip() for line in text.splitlines()) if len(s) >= MIN_LINE_CHARS and not by_shape(s)}


def note_families(line_sets: Sequence[set[str]]) -> list[int]:
    """A family number per document: copies and versions of one note share a number.

    Two documents are one note when the Jaccard similarity of their line sets is at least
    ``SAME_NOTE_JACCARD`` (union-find over those pairs; Jaccard, not containment, so a tiny
    document holding one shared line does not join unrelated notes). O(sum of df^2) over lines
    that occur in 2..``_MAX_PAIR_DF`` documents.
    """
    parent = list(range(len(line_sets)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    holders: dict[str, list[int]] = defaultdict(list)
    for i, lines in enumerate(line_sets):
        for line in lines:
            holders[line].append(i)
    shared: Counter[tuple[int, int]] = Counter()
    for docs in holders.values():
        if 2 <= len(docs) <= _MAX_PAIR_DF:
            for a in range(len(docs)):
                for b in range(a + 1, len(docs)):
                    shared[(docs[a], docs[b])] += 1
    for (a, b), n in shared.items():
        if n >= SAME_NOTE_JACCARD * (len(line_sets[a]) + len(line_sets[b]) - n):
            parent[find(a)] = find(b)
    return [find(i) for i in range(len(line_sets))]


def chrome_lines(texts: Sequence[str]) -> frozenset[str]:
    """Label-like lines repeated across at least half of the distinct notes, and at least
    ``MIN_REPEAT_DOCS`` of them (copies and versions of one note count once)."""
    line_sets = [_candidate_lines(t) for t in texts]
    families = note_families(line_sets)
    n = len(set(families))
    need = max(MIN_REPEAT_DOCS, math.ceil(n / 2))
    if n < need:
        return frozenset()
    seen: dict[str, set[int]] = defaultdict(set)
    for lines, family in zip(line_sets, families):
        for line in lines:
            if label_like(line):
                seen[line].add(family)
    return frozenset(line for line, fams in seen.items() if len(fams) >= need)


def boilerplate_spans(text: str, repeated: set[str] | frozenset[str] = frozenset()) -> list[tuple[int, int]]:
    """Character spans ``[start, end)`` of whole boilerplate lines, in order.

    ``repeated`` is the corpus's :func:`chrome_lines`; inside a fenced code block only the
    shape rules apply, and repetition is ignored for a document it would mostly erase.
    """
    lines = _lines(text)
    shape = [bool(s) and by_shape(s) for _, _, s in lines]
    for i, (_, _, s) in enumerate(lines):
        if _URL.match(s):
            for j in range(i + 1, min(len(lines), i + 1 + CARD_MAX_LINES)):
                if _SITE.match(lines[j][2]) or _URL.match(lines[j][2]):
                    if _SITE.match(lines[j][2]):
                        for m in range(i, j + 1):
                            shape[m] = True
                    break
    rep = [False] * len(lines)
    if repeated:
        fenced = False
        for i, (_, _, s) in enumerate(lines):
            if _FENCE.match(s):
                fenced = not fenced
                continue
            rep[i] = not fenced and not shape[i] and s in repeated
        content = sum(len(s) for (_, _, s), d in zip(lines, shape) if not d)
        if sum(len(s) for (_, _, s), d in zip(lines, rep) if d) > MAX_REPEAT_SHARE * content:
            rep = [False] * len(lines)
    spans: list[tuple[int, int]] = []
    for (a, b, _), d, r in zip(lines, shape, rep):
        if d or r:
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
