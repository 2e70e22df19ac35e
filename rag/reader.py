"""The reader: from the sentences of all retrieved passages, the ones that answer the question,
and the probability that the notes answer it at all.

For each part of the question (rag.language.intent), every sentence of every passage becomes a candidate
(rag.reading.candidates: classified as text, list item, list introduction with its items,
heading, link, fragment), and each quotable candidate gets a row of features
(rag.reading.features): the e5 similarity of question and sentence (the sentence vectors stored
at ingest), of question and passage, the retrievers' ranks, and the lexical signals of the rules
that came before the learned reader, now features rather than gates (rag.reading.rule_features):
- focus: the IDF-weighted share of the focus concepts stated in the sentence, or in its scope
  (the sentence before or after it, the heading above it, the chunk's section); a versioned
  name must be the same name ("GPT-4" is not "GPT-3");
- attribute: the weighted share of the rest of the question's concepts, in the sentence or its
  scope; for count and date questions a number or a date near the stated terms (rag.language.numerals);
- a cue for what is asked: a definition ("X란 ...이다"), a reason (때문, 위해, because), a method
  (통해, 이용, by), a count or a date, a list (a sentence ending in ":" with its items).
The learned models (rag.reading.model, trained on KorQuAD: rag/data/reader_model.md) rank the
rows and give the part's answerability; this module chooses what to quote from the ranking
(``read_part``): headings, link lines, list labels and fragments are never quoted; a list
introduction is quoted with its items.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np

from rag.language.intent import Intent, Part, intent_of
from rag.language.numerals import has_date, has_quantity
from rag.language.query import AnalyzedQuery
from rag.reading import rule_features as rules
from rag.reading.candidates import Candidate, candidates, list_items
from rag.reading.features import (PREFILTER, bigrams, passage_similarity, sentence_matrix, sentence_similarities,
                                  rank_reciprocal, verdict_features, verdict_row)
from rag.reading.kinds import QuestionKind, spec
from rag.reading.model import ReaderModel, default_model, sigmoid
from rag.types import Passage

MORE_SHARE = 0.5  # a further sentence is quoted when the ranker gives it this share of the best's probability
MORE_MIN = 0.3  # ... and at least this probability
OTHER_PASSAGE_SHARE = 0.75  # ... this share, for a sentence of another passage than the best's
MAX_PER_PART = 4


@dataclass
class Choice:
    candidate: Candidate
    items: list[Candidate] = field(default_factory=list)  # a list introduction's items
    score: float = 0.0


@dataclass
class PartReading:
    part: Part
    evidence: float  # the verdict model's probability that the notes answer the part
    choices: list[Choice]  # what to quote, best first
    verdict: np.ndarray | None = None  # the verdict features (rag.reading.features.VERDICT_FEATURES)


@dataclass
class Reading:
    intent: Intent
    evidence: float
    parts: list[PartReading]

    def debug(self) -> dict[str, object]:
        """What ``debug`` shows of the reading: per part, the answerability probability, the
        verdict's features and the quoted sentences' probabilities."""
        return {"intent": self.intent.kind, "parts": [
            {"text": r.part.text, "kind": r.part.kind, "focus": [c.surface for c in r.part.focus],
             "attribute": [c.surface for c in r.part.attribute], "answerable_probability": round(r.evidence, 4),
             "verdict_features": verdict_features(r.verdict),
             "quoted": [{"probability": round(c.score, 4), "text": c.candidate.text[:80]} for c in r.choices]}
            for r in self.parts]}


def part_rows(part: Part, cands: list[Candidate], weights: dict[str, float], passages: Sequence[Passage],
              sims: list[np.ndarray], unchecked: frozenset[str] = frozenset(),
              absent: frozenset[str] = frozenset()) -> tuple[list[Choice], np.ndarray, float]:
    """The quotable candidates of ``part`` (a list introduction with its items), at most
    ``PREFILTER`` of them (best cosine first, then best rule coverage), their feature matrix
    (rag.reading.features) and the weighted share of the part's concepts that the retrieved
    passages state anywhere (sentences and section titles)."""
    weights = rules.part_weights(part, weights)
    kind = QuestionKind(part.kind)
    qgrams = bigrams(part.text)
    kept: list[tuple[Choice, dict[str, float]]] = []
    stated = frozenset().union(*(c.passage_tokens for c in cands)) if cands else frozenset()
    retrieved = rules.share(part.focus + part.attribute + part.context, weights, stated, frozenset(), 0.0)
    for cand in cands:
        if cand.kind in ("heading", "link"):
            continue
        items = list_items(cands, cand) if cand.kind == "intro" else []
        scored = replace(cand, tokens=cand.tokens.union(*(i.tokens for i in items))) if items else cand
        evidence, coverage = rules.evidence(part, scored, weights, unchecked, absent)
        if cand.kind in ("fragment", "label") or (cand.kind == "intro" and not items):
            continue
        p = passages[cand.passage - 1]
        row_sims = sims[cand.passage - 1]
        n = len(p.sentences) or cand.index + 1
        sim = float(row_sims[cand.index]) if cand.index < len(row_sims) else math.nan
        around = [float(row_sims[j]) for j in (cand.index - 1, cand.index + 1) if 0 <= j < len(row_sims)]
        text = " ".join([cand.text, *(i.text for i in items)])
        sgrams = bigrams(text)
        kept.append((Choice(cand, items), {
            "sim": sim, "ctx_sim": max(around) if around else math.nan,
            "passage_sim": passage_similarity(p, row_sims), "passage_recip": 1.0 / cand.passage,
            "dense_recip": rank_reciprocal(p, "dense"), "bm25_recip": rank_reciprocal(p, "bm25"),
            "evidence": evidence, "coverage": coverage, "cue": rules.cue(part.kind, scored, part),
            "bigram": len(qgrams & sgrams) / len(qgrams) if qgrams else 0.0,
            "position": cand.index / max(1, n - 1), "after_heading": float(cand.after_heading),
            "is_item": float(cand.kind == "item"), "is_intro": float(cand.kind == "intro"),
            "log_len": math.log1p(len(text)), "has_number": float(has_quantity(cand.text) or has_date(cand.text)),
        }))
    if len(kept) > PREFILTER:
        by_sim = sorted(range(len(kept)), key=lambda i: -np.nan_to_num(kept[i][1]["sim"], nan=-1.0))
        by_rule = sorted(range(len(kept)), key=lambda i: -(kept[i][1]["coverage"] + kept[i][1]["evidence"]))
        chosen = set(by_sim[: PREFILTER * 2 // 3])
        for i in by_rule:
            if len(chosen) >= PREFILTER:
                break
            chosen.add(i)
        kept = [kept[i] for i in sorted(chosen)]
    choices = [c for c, _ in kept]
    return choices, sentence_matrix([r for _, r in kept], kind, "en" if _latin(part.text) else "ko"), retrieved


def _latin(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and sum(ch.isascii() for ch in letters) > len(letters) / 2


def n_concepts(part: Part) -> int:
    """The part's concepts: focus, attribute and context."""
    return len(part.focus) + len(part.attribute) + len(part.context)


def absent_share(part: Part, weights: dict[str, float], absent: frozenset[str] | set[str]) -> float:
    """In [0, 1]: the share of the part's concept weight that the corpus asked never states
    (a verdict feature; training computes it here too, so both read it alike)."""
    concepts = part.focus + part.attribute + part.context
    total = sum(weights.get(c.surface, 0.0) for c in concepts)
    missing = sum(weights.get(c.surface, 0.0) for c in concepts if c.surface in absent)
    return missing / total if total > 0 else 0.0


def read_part(part: Part, cands: list[Candidate], weights: dict[str, float], passages: Sequence[Passage],
              sims: list[np.ndarray], query: AnalyzedQuery, model: ReaderModel | None = None) -> PartReading:
    """Rank the part's candidates with the learned ranker; quote the best, its list items, and
    further sentences the ranker finds almost as likely (``MORE_SHARE`` of the best probability
    and at least ``MORE_MIN``); the part's evidence is the verdict model's probability."""
    model = model or default_model()
    unchecked, absent = frozenset(query.unchecked), frozenset(query.absent)
    choices, matrix, retrieved = part_rows(part, cands, weights, passages, sims, unchecked, absent)
    logits = model.sentence_logits(matrix)
    verdict = verdict_row(logits, matrix, absent_share(part, weights, absent), n_concepts(part), query.lang, retrieved)
    evidence = model.answerable(verdict)
    if not choices:
        return PartReading(part, evidence, [], verdict)
    probs = sigmoid(logits)
    order = [int(i) for i in np.argsort(-logits, kind="stable")]
    for i in order:
        choices[i].score = float(probs[i])
    best = choices[order[0]]
    chosen = [best]
    kind_spec = spec(part.kind)
    for i in order[1:]:
        cand = choices[i]
        if kind_spec.single or len(chosen) >= MAX_PER_PART:
            break
        if cand.score < max(MORE_MIN, MORE_SHARE * best.score):
            break
        if kind_spec.names_focus and not rules.about_focus(part, cand.candidate):
            continue  # a definition or a side of a comparison: only sentences that name the thing
        if cand.candidate.passage != best.candidate.passage and cand.score < OTHER_PASSAGE_SHARE * best.score:
            continue
        chosen.append(cand)
    # The best sentence first (a definition question gets its definition first), then the
    # others in reading order.
    chosen[1:] = sorted(chosen[1:], key=lambda c: (c.candidate.passage != best.candidate.passage,
                                                    c.candidate.passage, c.candidate.index))
    return PartReading(part, evidence, chosen, verdict)


def read(query: AnalyzedQuery, passages: Sequence[Passage], model: ReaderModel | None = None) -> Reading:
    """Read ``passages`` for ``query``: answerability in [0, 1] (the verdict model's probability,
    averaged over the question's parts) and the sentences to quote. Concept weights come from
    ``query.weights`` (set by the gate from the index's IDF); the question's embedding from
    ``query.vector`` and the sentences' from the passages. Computed once per (query, passages)."""
    key = tuple((p.chunk.doc, p.chunk.start) for p in passages)
    cached = query.readings.get(key)
    if cached is not None:
        return cached
    intent = query.intent or intent_of(query)
    query.intent = intent
    weights = query.weights or {c.surface: c.salience for c in query.concepts}
    cands = candidates(passages)
    sims = sentence_similarities(query.vector if query.semantic else None, passages)
    parts = [read_part(part, cands, weights, passages, sims, query, model) for part in intent.parts]
    # A question of several parts is answered when its parts are on average: one part the
    # notes do not cover does not silence the others.
    evidence = sum(p.evidence for p in parts) / len(parts) if parts else 0.0
    reading = Reading(intent, evidence, parts)
    query.readings[key] = reading
    return reading
