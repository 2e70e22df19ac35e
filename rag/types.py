"""Shared value types of both flows; plain dataclasses so the core has no web dependency."""
from __future__ import annotations

import bisect
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable


@dataclass(frozen=True, slots=True)
class Chunk:
    """A span of one document: ``text == document_text[start:end]``."""

    doc: str
    start: int
    end: int
    text: str
    section: str | None = None
    page: int | None = None
    id: int = -1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class SentenceSpan:
    """A sentence of a chunk: ``chunk.text[start:end]`` and its content morphemes."""

    start: int
    end: int
    tokens: tuple[str, ...]


@dataclass(slots=True)
class Passage:
    """A retrieved chunk with its fused score and each retriever's rank and score; with its
    sentences (from the snapshot) and the morphemes of its section title when known.
    ``section_starts``: offsets in the chunk's text where a section of the document starts
    (the snapshot's heading table, ``Snapshot.section_starts``): a chunk may hold several."""

    chunk: Chunk
    score: float
    ranks: dict[str, dict[str, float | int]] = field(default_factory=dict)
    sentences: tuple[SentenceSpan, ...] = ()
    section_tokens: tuple[str, ...] = ()
    vectors: Any = None  # unit embeddings of ``sentences`` (numpy float32 (n, dim)), when known
    section_starts: tuple[int, ...] = ()

    def section_index(self, offset: int) -> int:
        """Which section of the chunk holds ``offset`` (in the chunk's text): 0 for the one the
        chunk starts in, 1 for the next, ..."""
        return bisect.bisect_right(self.section_starts, offset)

    def same_section(self, offsets: Iterable[int]) -> bool:
        """Whether the chunk-text offsets (e.g. ``SentenceSpan.start`` of sentences to quote
        together) all lie in one section of the document."""
        return len({self.section_index(o) for o in offsets}) <= 1

    def to_dict(self) -> dict[str, Any]:
        c = self.chunk
        return {
            "doc": c.doc,
            "section": c.section,
            "page": c.page,
            "start": c.start,
            "end": c.end,
            "text": c.text,
            "score": round(self.score, 6),
            "ranks": self.ranks,
        }


@dataclass(slots=True)
class SearchResult:
    passages: list[Passage]
    refused: bool
    evidence: float
    timings_ms: dict[str, float]
    lang: str = "ko"
    query: Any = None  # the AnalyzedQuery, for the generator (kept untyped: types has no deps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "refused": self.refused,
            "evidence": round(self.evidence, 4),
            "passages": [p.to_dict() for p in self.passages],
            "timings_ms": self.timings_ms,
        }
