"""Proximity: a fused candidate gains ``weight`` times the best share of the question's concepts
(IDF-weighted) stated within two adjacent sentences of it (rag.gate.window_coverage), since the
question's terms meeting in one place is better evidence than the same terms scattered. On the
RRF scale (scores about 1/60), so for hybrid retrieval only."""
from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rag.gate import window_coverage
from rag.retrievers import Hit

if TYPE_CHECKING:
    from rag.language.query import AnalyzedQuery
    from rag.snapshots.snapshot import Snapshot


class ProximityReranker:
    name: ClassVar[str] = "proximity"

    def __init__(self, weight: float = 0.01, depth: int = 20) -> None:
        if weight < 0 or depth < 1:
            raise ValueError("weight must be >= 0 and depth >= 1")
        self.weight, self.depth = weight, depth

    def rerank(self, query: "AnalyzedQuery", hits: list[Hit], snapshot: "Snapshot") -> list[Hit]:
        head = [Hit(h.chunk_id, h.score + self.weight * window_coverage(query, snapshot.lexical,
                                                                          snapshot.sentences.get(h.chunk_id)))
                for h in hits[: self.depth]]
        return sorted(head, key=lambda h: (-h.score, h.chunk_id)) + hits[self.depth:]
