"""Sentences: Kiwi's sentence splitter, within lines, with the content morphemes of each.

Notes are written line by line (headings, list items, paragraphs), so a line break always ends
a sentence; within a line, Kiwi's morphological splitter (``Kiwi.split_into_sents``) decides,
so "수렴한다." ends a sentence and "다양한" does not. Ingest stores each chunk's sentence spans
and morphemes in the snapshot; the reader, the citation check and proximity re-ranking all use
these same sentences.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from rag.language.korean import LOCK_BATCH, _content, _lock, kiwi, remember

_LINE = re.compile(r"[^\n]+")


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence of a text: ``text[start:end]``, whitespace-trimmed, and its content morphemes."""

    start: int
    end: int
    tokens: tuple[str, ...]


def _lines(text: str) -> list[tuple[int, str]]:
    return [(m.start(), m.group(0)) for m in _LINE.finditer(text) if m.group(0).strip()]


def split_many(texts: Sequence[str]) -> list[list[Sentence]]:
    """Sentences of each text (offsets into that text), in one batched pass of Kiwi.

    Shape: one list per input text; each ``Sentence`` has ``start < end`` within the text."""
    lines = [(i, off, line) for i, text in enumerate(texts) for off, line in _lines(text)]
    out: list[list[Sentence]] = [[] for _ in texts]
    if not lines:
        return out
    texts_ = [line for _, _, line in lines]
    results: list = []
    for k in range(0, len(texts_), LOCK_BATCH):  # a bounded hold of the one Kiwi (rag.language.korean)
        with _lock:  # Kiwi is not documented as thread-safe
            results += list(kiwi().split_into_sents(texts_[k : k + LOCK_BATCH], return_tokens=True))
    for (i, off, line), sents in zip(lines, results):
        line_tokens: list[str] = []
        for s in sents:
            a, b = s.start, s.end
            while a < b and line[a].isspace():
                a += 1
            while b > a and line[b - 1].isspace():
                b -= 1
            if b > a:
                out[i].append(Sentence(off + a, off + b, tuple(t for t, _, _ in _content(s.tokens))))
                line_tokens += out[i][-1].tokens
        remember(line, line_tokens)  # the same morphemes Kiwi's tokenize gives the whole line
    return out


def split(text: str) -> list[Sentence]:
    """Sentences of one text (see ``split_many``)."""
    return split_many([text])[0]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence of ``text``."""
    return [(s.start, s.end) for s in split(text)]
