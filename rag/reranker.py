"""Optional cross-encoder reranking; used only when a reranker model is configured and loads."""
from __future__ import annotations

import logging

from rag.retrievers import Hit
from rag.snapshots.snapshot import Snapshot

log = logging.getLogger(__name__)


class Reranker:
    def __init__(self, model: str) -> None:
        from sentence_transformers import CrossEncoder

        self.model_name = model
        self.model = CrossEncoder(model, device="cpu")

    def rerank(self, question: str, hits: list[Hit], snapshot: Snapshot) -> list[Hit]:
        if not hits:
            return hits
        scores = self.model.predict([(question, snapshot.chunks[h.chunk_id].text) for h in hits], show_progress_bar=False)
        order = sorted(range(len(hits)), key=lambda i: -float(scores[i]))
        return [Hit(hits[i].chunk_id, float(scores[i])) for i in order]


def load_reranker(model: str | None) -> Reranker | None:
    """None when unset or unavailable (offline): retrieval then simply skips reranking."""
    if not model:
        return None
    from rag.hub import hub_reachable, locally_available

    if not locally_available(model) and not hub_reachable():
        log.warning("reranker %s is not available offline; not reranking", model)
        return None
    try:
        return Reranker(model)
    except Exception as exc:
        log.warning("reranker %s did not load (%s); not reranking", model, exc)
        return None
