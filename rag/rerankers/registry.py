"""Which reranker a searcher uses: the cross-encoder when ``RAG_RERANKER_MODEL`` names one that
loads, else proximity for hybrid retrieval (``RAG_PROXIMITY_WEIGHT`` > 0), else none."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from rag.rerankers.base import Reranker
from rag.rerankers.cross_encoder import CrossEncoderReranker
from rag.rerankers.proximity import ProximityReranker

if TYPE_CHECKING:
    from rag.settings import Settings

log = logging.getLogger(__name__)
RERANKERS: dict[str, type] = {CrossEncoderReranker.name: CrossEncoderReranker, ProximityReranker.name: ProximityReranker}


def load_cross_encoder(settings: "Settings") -> Reranker | None:
    """None when unset or unavailable (offline): the searcher then falls back (see module doc)."""
    model = settings.reranker_model
    if not model:
        return None
    from rag.hub import hub_reachable, locally_available

    if not locally_available(model) and not hub_reachable():
        log.warning("reranker %s is not available offline; not reranking with it", model)
        return None
    try:
        return CrossEncoderReranker(model, settings.candidates)
    except Exception as exc:  # whatever a broken model directory makes the library raise
        log.warning("reranker %s did not load (%s); not reranking with it", model, exc)
        return None


def proximity(settings: "Settings") -> Reranker | None:
    if settings.proximity_weight <= 0:
        return None
    return ProximityReranker(settings.proximity_weight, settings.rerank_depth)
