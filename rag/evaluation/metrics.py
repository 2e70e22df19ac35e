"""Scoring functions of `rag eval`, kept pure so each can be checked on hand-computed cases.

Ranked lists are scored by position: rank 1 is the first element. Chunks with equal scores
keep the order the searcher returned them in (its order is deterministic), so a tie never
makes a metric depend on chance.
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from typing import Iterable, Sequence

import numpy as np

# (doc, start, end): a half-open character range of one document, as chunks and evidence have.
Span = tuple[str, int, int]


def overlaps(doc: str, start: int, end: int, span: Span) -> bool:
    """A passage is relevant to an evidence span when it is from the same document and the
    half-open ranges share at least one character (touching ends do not count)."""
    return doc == span[0] and start < span[2] and span[1] < end


def is_relevant(doc: str, start: int, end: int, spans: Iterable[Span]) -> bool:
    """Relevant to any of the spans (for ``multi`` items either evidence counts)."""
    return any(overlaps(doc, start, end, s) for s in spans)


def find_spans(text: str, evidence: str, doc: str) -> list[Span]:
    """Every non-overlapping exact occurrence of ``evidence`` in ``text``; empty when absent.

    All occurrences count: a chunk holding a verbatim copy of the evidence supports the answer
    as well as one holding the first copy.
    """
    if not evidence:
        return []
    spans: list[Span] = []
    pos = text.find(evidence)
    while pos >= 0:
        spans.append((doc, pos, pos + len(evidence)))
        pos = text.find(evidence, pos + len(evidence))
    return spans


def hit_at_k(relevant: Sequence[bool], k: int) -> float:
    """1.0 when any of the first k results is relevant."""
    return 1.0 if any(relevant[:k]) else 0.0


def first_relevant_rank(relevant: Sequence[bool]) -> int | None:
    """1-based rank of the first relevant result, None when there is none."""
    for rank, rel in enumerate(relevant, start=1):
        if rel:
            return rank
    return None


def mrr_at_k(relevant: Sequence[bool], k: int) -> float:
    """Reciprocal rank of the first relevant result within the first k; 0 when none."""
    rank = first_relevant_rank(relevant[:k])
    return 0.0 if rank is None else 1.0 / rank


def ndcg_at_k(relevant: Sequence[bool], k: int, n_relevant: int | None = None) -> float:
    """nDCG@k with binary gains: DCG = sum(1 / log2(rank + 1)) over relevant ranks <= k.

    The ideal ranking puts all ``n_relevant`` relevant chunks of the index first (default: the
    relevant ones that were retrieved, which overstates nDCG when some were missed). No
    relevant chunk at all gives 0.
    """
    dcg = sum(1.0 / math.log2(rank + 1) for rank, rel in enumerate(relevant[:k], start=1) if rel)
    ideal_n = sum(bool(r) for r in relevant) if n_relevant is None else n_relevant
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(ideal_n, k) + 1))
    return dcg / ideal if ideal > 0 else 0.0


def recall_at_k(retrieved: Sequence[tuple[str, int, int]], evidences: Sequence[Sequence[Span]], k: int) -> float:
    """Share of evidences (each given as its list of occurrence spans) that at least one of the
    first k retrieved (doc, start, end) passages overlaps. No evidences gives 0."""
    if not evidences:
        return 0.0
    top = list(retrieved[:k])
    covered = sum(1 for spans in evidences if any(is_relevant(d, s, e, spans) for d, s, e in top))
    return covered / len(evidences)


_MARKERS = re.compile(r"\[\d+\]")


def strip_citation_markers(text: str) -> str:
    """Remove inline ``[n]`` markers so they do not count as answer characters."""
    return _MARKERS.sub("", text)


def normalize_chars(text: str) -> str:
    """KorQuAD-style normalisation: lower-case, drop whitespace, punctuation and symbols."""
    return "".join(
        ch for ch in unicodedata.normalize("NFC", text).lower()
        if not ch.isspace() and unicodedata.category(ch)[0] not in "PS"
    )


def char_f1(prediction: str, truth: str) -> float:
    """F1 over the multiset of normalised characters (KorQuAD 1.0 scores Korean this way)."""
    pred, gold = normalize_chars(prediction), normalize_chars(truth)
    if not pred or not gold:
        return 0.0
    same = sum((Counter(pred) & Counter(gold)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(gold)
    return 2 * precision * recall / (precision + recall)


def best_char_f1(prediction: str, answers: Sequence[str]) -> float:
    """The best F1 over the reference answers; an empty prediction or no answers gives 0."""
    return max((char_f1(prediction, a) for a in answers), default=0.0)


def keywords_present(answer: str, keywords: Sequence[str]) -> bool:
    """Every keyword occurs in the answer, case-insensitively; an empty answer contains none.
    With no keywords nothing is required (unanswerable items are not scored with this)."""
    low = answer.lower()
    return all(kw.lower() in low for kw in keywords) if answer.strip() else not keywords


def keyword_recall(answers: Sequence[str], keyword_lists: Sequence[Sequence[str]]) -> float | None:
    """Share of items whose answer contains every keyword; None when there are no items."""
    if not answers:
        return None
    return sum(keywords_present(a, kws) for a, kws in zip(answers, keyword_lists, strict=True)) / len(answers)


def mean(values: Sequence[float]) -> float | None:
    """Arithmetic mean; None (not 0) for an empty group so a missing value is not a bad one."""
    return float(np.mean(values)) if len(values) else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile with linear interpolation (numpy's default); None when empty."""
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else None


def written_in(text: str) -> str | None:
    """The language an answer is written in: 'en' when its Latin letters outnumber its Hangul
    syllables, 'ko' otherwise; None for an empty text. An English answer may name a Korean
    term and a Korean one an English model name, so the majority decides (not "any Hangul")."""
    hangul = sum("\uac00" <= ch <= "\ud7a3" for ch in text)
    latin = sum(ch.isascii() and ch.isalpha() for ch in text)
    if not hangul and not latin:
        return None
    return "en" if latin > hangul else "ko"
