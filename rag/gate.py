"""How well passages cover a question, and the evidence gate built on it.

A question is a list of concepts (content morphemes, each with its cross-lingual and
cross-script alternatives). A concept weighs its IDF in the index; one unknown to the whole
corpus weighs the most, since a question about a thing the notes never mention ("Mamba",
"LoRA") is the typical unanswerable one. The weights serve
- the gate (`EvidenceGate`): the reader's answerability, sentence by sentence (rag.reader),
  against a threshold calibrated by `rag calibrate`;
- re-ranking: the weighted share of concepts within a window of two adjacent sentences, since
  the question's terms meeting in one place is better evidence than the same terms scattered.
"""
from __future__ import annotations

import math
import re
import threading
import weakref
from dataclasses import replace
from typing import Sequence

from rag.lexical.base import LexicalIndex
from rag.language.names import SkeletonIndex
from rag.language.query import ENTITY, AnalyzedQuery, Concept
from rag.reader import read
from rag.reading.model import default_model
from rag.types import Passage

UNKNOWN_ENGLISH_IDF = 0.5


def concept_weights(query: AnalyzedQuery, lexical: LexicalIndex) -> list[float]:
    """IDF weight per concept (highest for concepts absent from the corpus); cached on the query."""
    if query.weights and len(query.weights) == len(query.concepts):
        return [query.weights[c.surface] for c in query.concepts]
    n = max(len(lexical), 1)
    weights = []
    for concept in query.concepts:
        dfs = [lexical.doc_freq(t) for t in concept.alternatives if t in lexical.vocab]
        if dfs:
            idf = math.log(1 + n / max(min(dfs), 1))
        elif query.lang == "en" and concept.salience < 1.0:
            # An English word with no rendering in these Korean notes says little either way:
            # it may be paraphrased there ("course summary"), so it weighs like a common term.
            idf = UNKNOWN_ENGLISH_IDF
            query.unchecked.add(concept.surface)
        else:
            idf = math.log(1 + n)
            query.absent.add(concept.surface)
        weights.append(idf * concept.salience)
    query.weights = {c.surface: w for c, w in zip(query.concepts, weights)}
    return weights


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


def expand_across_scripts(query: AnalyzedQuery, lexical: LexicalIndex) -> None:
    """Give each concept the other script's spelling found in the index ("드롭아웃" -> "dropout",
    "Google" -> "구글"; rag.language.names), as an alternative and as a BM25 query token. In place."""
    index = _skeleton_index(lexical)
    concepts, extra = [], []
    for c in query.concepts:
        found = [w for w in index.other_script(c.surface, name=c.salience >= ENTITY) if w not in c.alternatives]
        if found:
            c = replace(c, alternatives=tuple(dict.fromkeys((*c.alternatives, *found))))
            extra.extend(found)
        concepts.append(c)
    extra.extend(_join_split_loanwords(concepts, query.text, index))
    query.concepts = concepts
    query.tokens = query.tokens + extra
    query.weights = {}


def _join_split_loanwords(concepts: list[Concept], text: str, index: SkeletonIndex) -> list[str]:
    """Kiwi splits a loanword it does not know into nouns ("드롭아웃" -> 드롭 + 아웃): two or
    three neighbouring Hangul concepts written as one word in the question are looked up
    together, and the other script's spelling found ("dropout") becomes an alternative of each
    part, so a sentence with either spelling states them all. In place; returns the words added."""
    added: list[str] = []
    for size in (3, 2):
        for i in range(len(concepts) - size + 1):
            group = concepts[i:i + size]
            joined = "".join(c.surface for c in group)
            if not _HANGUL_WORD.fullmatch(joined) or joined not in text:
                continue
            found = [w for w in index.other_script(joined, name=False) if w not in added]
            if not found:
                continue
            for j, c in enumerate(group, start=i):
                concepts[j] = replace(c, alternatives=tuple(dict.fromkeys((*c.alternatives, *found))))
            added.extend(found)
    return added


_HANGUL_WORD = re.compile(r"[가-힣]{3,}")
_skeletons: "weakref.WeakKeyDictionary[LexicalIndex, SkeletonIndex]" = weakref.WeakKeyDictionary()
_skeletons_lock = threading.Lock()


def _skeleton_index(lexical: LexicalIndex) -> SkeletonIndex:
    """One skeleton index per lexical index (built on first use: a few ms per thousand words)."""
    with _skeletons_lock:
        index = _skeletons.get(lexical)
        if index is None:
            index = _skeletons[lexical] = SkeletonIndex(lexical.vocab)
        return index


class EvidenceGate:
    """Refuses a question when the reader's probability that the notes answer it (rag.reader,
    the learned verdict) is below a threshold: a fixed one (``RAG_REFUSAL_THRESHOLD``), else the
    one ``rag calibrate --record`` chose for the mode the question was read in, with the reader's
    semantic features (its own embedder, e5) or without them (another embedder)."""

    def __init__(self, threshold: float | None = None) -> None:
        if threshold is not None and not 0.0 <= threshold <= 1.0:
            raise ValueError("threshold must be within [0, 1]")
        self.fixed = threshold

    def threshold_for(self, semantic: bool) -> float:
        return self.fixed if self.fixed is not None else default_model().threshold_for(semantic)

    @property
    def threshold(self) -> float:
        """The threshold with the semantic features (the default embedder's)."""
        return self.threshold_for(True)

    @staticmethod
    def evidence(query: AnalyzedQuery, lexical: LexicalIndex, passages: Sequence[Passage]) -> float:
        if not query.concepts or not passages:
            return 0.0
        concept_weights(query, lexical)
        return read(query, passages).evidence

    def refuses(self, evidence: float, semantic: bool = True) -> bool:
        return evidence < self.threshold_for(semantic)
