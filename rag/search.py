"""The search service: analyse, retrieve, fuse, gate. Shared by the CLI, the API and eval."""
from __future__ import annotations

import time
from typing import Callable

from rag.gate import EvidenceGate, expand_across_scripts
from rag.language.glossary import Glossary, load_glossary
from rag.language.query import AnalyzedQuery, analyze
from rag.reading.model import semantic_embedder
from rag.rerankers.base import Reranker
from rag.rerankers.registry import proximity
from rag.retrievers import BM25Retriever, DenseRetriever, Hit, HybridRetriever, Retriever, query_vector, rrf_fuse
from rag.settings import RetrieverName, Settings
from rag.snapshots.snapshot import Snapshot
from rag.types import Passage, SearchResult


class Searcher:
    def __init__(self, settings: Settings, snapshot: Callable[[], Snapshot], glossary: Glossary | None = None,
                 reranker: Reranker | None = None) -> None:
        self.settings = settings
        self.snapshot = snapshot
        self.glossary = glossary or load_glossary()
        self.gate = EvidenceGate(settings.refusal_threshold)
        self.reranker = reranker  # a configured cross-encoder, else None
        self.proximity = proximity(settings)  # for hybrid retrieval without one
        self.hybrid = HybridRetriever(settings.candidates, settings.rrf_k, settings.dense_weight, settings.bm25_weight)
        self.single: dict[RetrieverName, Retriever] = {r.name: r for r in (DenseRetriever(), BM25Retriever())}

    def retrieve(self, question: str, k: int | None = None, retriever: RetrieverName | None = None,
                 snapshot: Snapshot | None = None, exclude: frozenset[str] = frozenset()
                 ) -> tuple[AnalyzedQuery, list[Passage], dict[str, float]]:
        """(analysed question with its embedding, top ``k`` passages, timings in ms) without
        reading them. ``exclude``: document ids whose chunks are left out of the ranking (the
        reader's training asks a question with its own document left out: rag.reading.dataset)."""
        t0 = time.perf_counter()
        k = k or self.settings.top_k
        name = retriever or self.settings.retriever
        snap = snapshot or self.snapshot()
        query = analyze(question, self.glossary)
        expand_across_scripts(query, snap.lexical)
        t1 = time.perf_counter()
        rankings: dict[str, list[Hit]]
        if name == RetrieverName.HYBRID:
            rankings = self.hybrid.rankings(query, snap)
            fused = rrf_fuse(rankings, self.hybrid.weights, self.hybrid.rrf_k)
        else:
            rankings = {name: self.single[name].run(query, snap, max(k, self.settings.candidates))}
            fused = rankings[name]
        if exclude:
            fused = [h for h in fused if snap.chunks[h.chunk_id].doc not in exclude]
        reranker = self.reranker or (self.proximity if name == RetrieverName.HYBRID else None)
        if reranker is not None:
            fused = reranker.rerank(query, fused, snap)
        semantic = query.semantic = semantic_embedder(snap.embedder)
        passages = [_passage(snap, h, rankings, semantic) for h in fused[:k]]
        if semantic:
            query_vector(query, snap)  # the reader's semantic features need it whatever the retriever
        t2 = time.perf_counter()
        return query, passages, {"analyse": _ms(t0, t1), "retrieve": _ms(t1, t2)}

    def run(self, question: str, k: int | None = None, retriever: RetrieverName | None = None,
            snapshot: Snapshot | None = None) -> SearchResult:
        """Retrieve, then read: the verdict (rag.gate) refuses when the notes do not answer."""
        snap = snapshot or self.snapshot()
        query, passages, timings = self.retrieve(question, k, retriever, snap)
        t2 = time.perf_counter()
        evidence = self.gate.evidence(query, snap.lexical, passages)
        t3 = time.perf_counter()
        timings = {**timings, "gate": _ms(t2, t3)}
        timings["total"] = round(sum(timings.values()), 3)
        refused = self.gate.refuses(evidence, semantic=query.semantic) or not passages
        return SearchResult(passages, refused, evidence, timings, query.lang, query)

    def analyze(self, question: str) -> AnalyzedQuery:
        return analyze(question, self.glossary)


def _passage(snap: Snapshot, hit: Hit, rankings: dict[str, list[Hit]], semantic: bool) -> Passage:
    """A retrieved chunk with its sentences, each retriever's rank and, when the snapshot's
    embedder is the reader's (``semantic``), the sentences' vectors."""
    chunk = snap.chunks[hit.chunk_id]
    section, spans = snap.sentences.spans(hit.chunk_id)
    vectors = snap.sentence_vectors.get(hit.chunk_id, [chunk.text[s.start:s.end] for s in spans]) if semantic else None
    return Passage(chunk, hit.score, _ranks(hit.chunk_id, rankings), spans, section, vectors=vectors,
                   section_starts=snap.section_starts(chunk))


def _ranks(chunk_id: int, rankings: dict[str, list[Hit]]) -> dict[str, dict[str, float | int]]:
    out: dict[str, dict[str, float | int]] = {}
    for name, hits in rankings.items():
        for rank, hit in enumerate(hits, start=1):
            if hit.chunk_id == chunk_id:
                out[name] = {"rank": rank, "score": round(hit.score, 6)}
                break
    return out


def _ms(a: float, b: float) -> float:
    return round((b - a) * 1000, 3)
