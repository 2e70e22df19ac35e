"""A document's title for people: what citations, sources, ``/documents`` and the CLI show.

The title is the post or page title: the metadata title of an HTML page, a PDF or an Office file
(formats whose loader declares ``metadata_title``), else the first
real heading of the text, else its first line when that reads like a title, else the file
stem. "Real" leaves out what cleaning marks as boilerplate (blog chrome such as "반응형",
lines repeated across documents), numbered section headings ("1. 시험 환경" starts a section,
it does not name the post), and lines with no letters (an emoji or a date).
"""
from __future__ import annotations

import re
from pathlib import PurePosixPath

from ingest import cleaning, loader_registry
from ingest.loaders import LoadedDocument
from ingest.splitting import find_headings

VERSION = 1  # bumped when the rules change, so a re-ingest rewrites the documents table
MAX_TITLE_CHARS = 80
_NUMBERED = re.compile(r"^(\d{1,2}(\.\d{1,2})*[.)]|[IVX]{1,4}\.|[①-⑳])\s*")
_LETTER = re.compile(r"[^\W\d_]")
_SENTENCE_END = re.compile(r"([.?!。:;,]|다|요|음|함|임|됨)$")


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
    for h in find_headings(doc.text):
        if any(a <= h.start < b for a, b in spans):
            continue
        if _NUMBERED.match(h.title.strip()):
            break  # the text starts with its first numbered section: it has no title line
        if _real(h.title, repeated):
            return h.title.strip()[:MAX_TITLE_CHARS]
    pos = 0
    for raw in doc.text.splitlines(keepends=True):
        line, at = raw.strip(), pos
        pos += len(raw)
        if not line or any(a <= at < b for a, b in spans):
            continue
        if _real(line, repeated) and not _SENTENCE_END.search(line):
            return line.lstrip("#").strip()[:MAX_TITLE_CHARS]
        break  # only the first line of content may be the title
    return PurePosixPath(doc.doc_id).stem
