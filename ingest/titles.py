"""A document's title for people: what citations, sources, ``/documents`` and the CLI show.

The title is the one its author gave it: the metadata title of an HTML page, a PDF, an Office
file or a Markdown front matter (formats whose loader declares ``metadata_title``), else the
first real heading of the text, else its first line when that reads like a title. A note that
starts with a numbered section ("1. 시험 환경": a post whose title line was lost) is titled by
that heading without its number; a note with no heading at all by the opening words of its first
line. The file stem only when the text has no letters to name it by. "Real" leaves out what
cleaning marks as boilerplate (blog chrome such as "반응형", lines repeated across documents)
and lines with no letters (an emoji or a date).
"""
from __future__ import annotations

import re
from pathlib import PurePosixPath

from ingest import cleaning, loader_registry
from ingest.loaders import LoadedDocument
from ingest.splitting import find_headings

VERSION = 2  # bumped when the rules change, so a re-ingest rewrites the documents table
MAX_TITLE_CHARS = 80
_NUMBERED = re.compile(r"^(\d{1,2}(\.\d{1,2})*[.)]|[IVX]{1,4}\.|[①-⑳])\s*")
_LETTER = re.compile(r"[^\W\d_]")
_SENTENCE_END = re.compile(r"([.?!。:;,]|다|요|음|함|임|됨)$")
_FIRST_SENTENCE = re.compile(r"[.?!。](\s|$)")
OPENING_CHARS = 40  # a heading-less note's name: about a heading's length (splitting.MAX_HEADING_CHARS)


def _real(line: str, repeated: set[str] | frozenset[str]) -> bool:
    line = line.strip()
    if not 2 <= len(line) <= MAX_TITLE_CHARS or len(_LETTER.findall(line)) < 2:
        return False
    if line in repeated or any(p.match(line) for p in cleaning.PATTERNS):
        return False
    if not (line.lstrip("#").strip()[:1] or " ").isalnum():  # starts with an emoji, bullet or mark
        return False
    return not _NUMBERED.match(line)


def document_title(doc: LoadedDocument, repeated: set[str] | frozenset[str] = frozenset()) -> str:
    """The title of ``doc`` (never empty); ``repeated`` are lines shared by several documents."""
    if loader_registry.by_type(doc.type).metadata_title and doc.title and _real(doc.title, repeated):
        first_line = next((ln.strip() for ln in doc.text.splitlines() if ln.strip()), "")
        if doc.title.strip() != first_line.lstrip("#").strip()[:MAX_TITLE_CHARS]:  # metadata, not the text
            return doc.title.strip()[:MAX_TITLE_CHARS]
    spans = cleaning.boilerplate_spans(doc.text, repeated)
    first = _first_content_line(doc.text, spans)
    if first and _real(first, repeated) and not _SENTENCE_END.search(first) and not first.startswith("#"):
        return first[:MAX_TITLE_CHARS]  # a title line, even one no longer than the heading after it
    numbered = None
    for h in find_headings(doc.text):
        if any(a <= h.start < b for a, b in spans):
            continue
        if _NUMBERED.match(h.title.strip()):
            # the text starts with its first numbered section: it has no title line, and that
            # section's name is the nearest thing to one the author wrote
            numbered = _NUMBERED.sub("", h.title.strip()).strip()
            break
        if _real(h.title, repeated):
            return h.title.strip()[:MAX_TITLE_CHARS]
    pos = 0
    for raw in doc.text.splitlines(keepends=True):
        line, at = raw.strip(), pos
        pos += len(raw)
        if not line or any(a <= at < b for a, b in spans):
            continue
        if numbered is None and _real(line, repeated) and not _SENTENCE_END.search(line):
            return line.lstrip("#").strip()[:MAX_TITLE_CHARS]
        if numbered:
            return numbered[:MAX_TITLE_CHARS]
        opening = opening_words(line.lstrip("#").strip())
        if opening:
            return opening
        break  # only the first line of content may be the title
    return PurePosixPath(doc.doc_id).stem


def _first_content_line(text: str, spans: list[tuple[int, int]]) -> str:
    pos = 0
    for raw in text.splitlines(keepends=True):
        line, at = raw.strip(), pos
        pos += len(raw)
        if line and not any(a <= at < b for a, b in spans):
            return line
    return ""


def opening_words(line: str, limit: int = OPENING_CHARS) -> str:
    """The first words of ``line`` up to its first sentence end or ``limit`` characters (whole
    words, "…" when cut): the name of a note that has no heading. "" when they have no letters."""
    m = _FIRST_SENTENCE.search(line)
    sentence = line[: m.start() + 1] if m and m.start() + 1 <= limit else line
    if len(sentence) <= limit:
        words = sentence.rstrip(".。!?")
    else:
        words = sentence[: limit + 1].rsplit(" ", 1)[0].rstrip(",;:(") + "…"
    return words.strip() if len(_LETTER.findall(words)) >= 2 else ""
