"""A cross-encoder (sentence-transformers ``CrossEncoder``) scores (question, chunk) pairs."""
from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rag.retrievers import Hit

if TYPE_CHECKING:
    from rag.language.query import AnalyzedQuery
    from rag.snapshots.snapshot import Snapshot


class CrossEncoderReranker:
    name: ClassVar[str] = "cross-encoder"

    def __init__(self, model: str, depth: int = 50) -> None:
        from sentence_transformers import CrossEncoder

        self.model_name = model
        self.depth = depth
        self.model = CrossEncoder(model, device="cpu")

    def rerank(self, query: "AnalyzedQuery", hits: list[Hit], snapshot: "Snapshot") -> list[Hit]:
        head, rest = hits[: self.depth], hits[self.depth:]
        if not head:
            return hits
        scores = self.model.predict([(query.text, snapshot.chunks[h.chunk_id].text) for h in head],
                                    show_progress_bar=False)
        rescored = [Hit(h.chunk_id, float(s)) for h, s in zip(head, scores)]
        return sorted(rescored, key=lambda h: (-h.score, h.chunk_id)) + rest
