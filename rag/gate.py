"""How well passages cover a question, and the evidence gate built on it.

A question is a list of concepts (content morphemes, each with its cross-lingual
alternatives). A concept weighs its IDF in the index; one unknown to the whole corpus weighs
the most, since a question about a thing the notes never mention ("Mamba", "LoRA") is the
typical unanswerable one. Coverage is the weighted share of concepts a passage contains:
- over the whole passage, for the gate (`EvidenceGate`, threshold calibrated by `rag calibrate`);
- within a window of two adjacent sentences, for re-ranking: the question's terms meeting in
  one place is better evidence than the same terms scattered over a passage.
"""
from __future__ import annotations

import math
import re
from typing import Callable, Sequence

from rag.lexical_index import LexicalIndex
from rag.query import AnalyzedQuery

TOP_PASSAGES = 3


def concept_weights(query: AnalyzedQuery, lexical: LexicalIndex) -> list[float]:
    """IDF weight per concept (highest for concepts absent from the corpus); cached on the query."""
    if query.weights and len(query.weights) == len(query.concepts):
        return [query.weights[c.surface] for c in query.concepts]
    n = max(len(lexical), 1)
    weights = []
    for concept in query.concepts:
        dfs = [lexical.doc_freq(t) for t in concept.alternatives if t in lexical.vocab]
        idf = math.log(1 + n / max(min(dfs), 1)) if dfs else math.log(1 + n)
        weights.append(idf * concept.salience)
    query.weights = {c.surface: w for c, w in zip(query.concepts, weights)}
    return weights


def passage_coverage(query: AnalyzedQuery, lexical: LexicalIndex, chunk_id: int) -> float:
    weights = concept_weights(query, lexical)
    total = sum(weights)
    if total <= 0:
        return 0.0
    hit = sum(w for c, w in zip(query.concepts, weights)
              if any(t in lexical.vocab and lexical.contains(t, chunk_id) for t in c.alternatives))
    return hit / total


def window_coverage(query: AnalyzedQuery, lexical: LexicalIndex, sentences: Sequence[frozenset[str]]) -> float:
    """Best coverage by two adjacent sentences of a passage."""
    weights = concept_weights(query, lexical)
    total = sum(weights)
    if total <= 0 or not sentences:
        return 0.0
    alternatives = [frozenset(c.alternatives) for c in query.concepts]
    found = [{j for j, alts in enumerate(alternatives) if not alts.isdisjoint(s)} for s in sentences]
    best = 0.0
    for i, here in enumerate(found):
        window = here | found[i + 1] if i + 1 < len(found) else here
        best = max(best, sum(weights[j] for j in window))
    return best / total


_QUANTITY = re.compile(
    r"몇|얼마|언제|며칠|연도|몇\s*년|how (many|much|long|big|large|old)|what (year|size|number)|when\b|which year",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d")


def asks_quantity(question: str) -> bool:
    """Questions whose answer is a number or a date: the notes must state one near the terms."""
    return bool(_QUANTITY.search(question))


def numeric_window_coverage(query: AnalyzedQuery, lexical: LexicalIndex, sentences: Sequence[frozenset[str]]) -> float:
    """Like window_coverage, over windows that contain a number."""
    numeric = [s if any(_NUMBER.search(t) for t in s) else frozenset() for s in sentences]
    return window_coverage(query, lexical, numeric)


class EvidenceGate:
    def __init__(self, threshold: float) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError("threshold must be within [0, 1]")
        self.threshold = threshold

    @staticmethod
    def evidence(query: AnalyzedQuery, lexical: LexicalIndex, chunk_ids: list[int],
                 sentences: Callable[[int], Sequence[frozenset[str]]] | None = None) -> float:
        if not query.concepts or not chunk_ids:
            return 0.0
        top = chunk_ids[:TOP_PASSAGES]
        if sentences is not None and asks_quantity(query.text):
            return max(numeric_window_coverage(query, lexical, sentences(cid)) for cid in top)
        return max(passage_coverage(query, lexical, cid) for cid in top)

    def refuses(self, evidence: float) -> bool:
        return evidence < self.threshold
