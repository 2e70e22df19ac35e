"""The evidence gate: refuse when the notes do not support an answer.

Evidence is the IDF-weighted share of the question's concepts that the best passages contain.
A concept unknown to the whole corpus gets the highest weight, since a question about a thing
the notes never mention ("Mamba", "LoRA") is the typical unanswerable one. The threshold is
calibrated on the QA test set (`rag calibrate`).
"""
from __future__ import annotations

import math

import numpy as np

from rag.lexical_index import LexicalIndex
from rag.query import AnalyzedQuery

TOP_PASSAGES = 3


class EvidenceGate:
    def __init__(self, threshold: float) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError("threshold must be within [0, 1]")
        self.threshold = threshold

    @staticmethod
    def evidence(query: AnalyzedQuery, lexical: LexicalIndex, chunk_ids: list[int]) -> float:
        if not query.concepts or not chunk_ids:
            return 0.0
        n = max(len(lexical), 1)
        max_idf = math.log(1 + n)
        top = chunk_ids[:TOP_PASSAGES]
        weights, present = [], np.zeros((len(top), len(query.concepts)), dtype=bool)
        for j, concept in enumerate(query.concepts):
            known = [t for t in concept.alternatives if t in lexical.vocab]
            if not known:
                weights.append(max_idf)
                continue
            dfs = [lexical.doc_freq(t) for t in known]
            weights.append(max(math.log(1 + n / max(df, 1)) for df in dfs))
            for i, cid in enumerate(top):
                present[i, j] = any(lexical.contains(t, cid) for t in known)
        query.weights = {c.surface: w for c, w in zip(query.concepts, weights)}
        w = np.asarray(weights)
        return float((present.astype(float) @ w).max() / w.sum()) if w.sum() > 0 else 0.0

    def refuses(self, evidence: float) -> bool:
        return evidence < self.threshold
