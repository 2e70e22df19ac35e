"""Dense, lexical and hybrid retrievers over one snapshot, each with a ``run()`` entry."""
from __future__ import annotations

from dataclasses import dataclass
import threading
from collections import OrderedDict
from typing import Protocol

import numpy as np

from rag.language.query import AnalyzedQuery
from rag.settings import RetrieverName
from rag.snapshots.snapshot import Snapshot


@dataclass(frozen=True, slots=True)
class Hit:
    chunk_id: int
    score: float


class Retriever(Protocol):
    name: RetrieverName

    def run(self, query: AnalyzedQuery, snapshot: Snapshot, k: int) -> list[Hit]: ...


class DenseRetriever:
    name = RetrieverName.DENSE

    def run(self, query: AnalyzedQuery, snapshot: Snapshot, k: int) -> list[Hit]:
        vector = query_vector(query, snapshot)
        ids, scores = snapshot.dense.search(vector, k)
        return [Hit(int(i), float(s)) for i, s in zip(ids, scores)]


_VECTORS: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_VECTORS_LOCK = threading.Lock()
VECTOR_CACHE = 1024  # recent question embeddings kept (1.5 KB each at 384 dims)


def clear_vector_cache() -> None:
    """Forget the recent question embeddings (benchmarks measure new questions)."""
    with _VECTORS_LOCK:
        _VECTORS.clear()


def query_vector(query: AnalyzedQuery, snapshot: Snapshot) -> np.ndarray:
    """The question's embedding by the snapshot's embedder: once per analysed query, and from a
    small LRU when the same text was embedded by the same embedder lately (a question asked
    again, the search and the answer of one evaluation item)."""
    if query.vector is not None:
        return query.vector
    key = (snapshot.embedder.id, query.dense_text)
    with _VECTORS_LOCK:
        vector = _VECTORS.get(key)
        if vector is not None:
            _VECTORS.move_to_end(key)
    if vector is None:
        vector = np.asarray(snapshot.embedder.embed_query(query.dense_text), dtype=np.float32)
        with _VECTORS_LOCK:
            _VECTORS[key] = vector
            if len(_VECTORS) > VECTOR_CACHE:
                _VECTORS.popitem(last=False)
    query.vector = vector
    return vector


class BM25Retriever:
    name = RetrieverName.BM25

    def run(self, query: AnalyzedQuery, snapshot: Snapshot, k: int) -> list[Hit]:
        ids, scores = snapshot.lexical.search(query.tokens, k)
        return [Hit(int(i), float(s)) for i, s in zip(ids, scores)]


def rrf_fuse(rankings: dict[str, list[Hit]], weights: dict[str, float], k: int = 60) -> list[Hit]:
    """Weighted reciprocal rank fusion: sum of w / (k + rank), rank from 1; ties by chunk id."""
    fused: dict[int, float] = {}
    for name, hits in rankings.items():
        w = weights.get(name, 1.0)
        for rank, hit in enumerate(hits, start=1):
            fused[hit.chunk_id] = fused.get(hit.chunk_id, 0.0) + w / (k + rank)
    return [Hit(cid, score) for cid, score in sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))]


class HybridRetriever:
    name = RetrieverName.HYBRID

    def __init__(self, candidates: int = 50, rrf_k: int = 60, dense_weight: float = 1.0, bm25_weight: float = 1.0) -> None:
        if candidates < 1 or rrf_k < 1 or dense_weight < 0 or bm25_weight < 0:
            raise ValueError("candidates and rrf_k must be positive, weights non-negative")
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.weights = {RetrieverName.DENSE: dense_weight, RetrieverName.BM25: bm25_weight}
        self.parts: list[Retriever] = [DenseRetriever(), BM25Retriever()]

    def rankings(self, query: AnalyzedQuery, snapshot: Snapshot) -> dict[str, list[Hit]]:
        return {r.name: r.run(query, snapshot, self.candidates) for r in self.parts}

    def run(self, query: AnalyzedQuery, snapshot: Snapshot, k: int) -> list[Hit]:
        return rrf_fuse(self.rankings(query, snapshot), self.weights, self.rrf_k)[:k]
