"""Shared value types of both flows; plain dataclasses so the core has no web dependency."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


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
    sentences (from the snapshot) and the morphemes of its section title when known."""

    chunk: Chunk
    score: float
    ranks: dict[str, dict[str, float | int]] = field(default_factory=dict)
    sentences: tuple[SentenceSpan, ...] = ()
    section_tokens: tuple[str, ...] = ()
    vectors: Any = None  # unit embeddings of ``sentences`` (numpy float32 (n, dim)), when known

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
