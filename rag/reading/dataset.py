"""Training examples for the learned reader, from questions asked against a real index.

Each question is asked three ways (``Variant``), and each way gives one group of candidate
sentences (the rows of rag.reader.part_rows for the question's parts):
- ``OWN``: against the whole corpus. Answerable when a retrieved sentence of the question's own
  document holds a gold answer; that sentence is the ranker's positive, the other candidates its
  negatives. A question whose answer is not retrieved is left out (its label would be a guess).
- ``WITHOUT_OWN``: with its own document left out, the near miss: the same topic's neighbours
  answer nothing (unanswerable).
- ``OTHER``: against one other document only, chosen by a seeded draw (unanswerable, off topic).
- ``WITHOUT_ANSWER``: against the whole corpus with the sentences that hold the answer taken out
  of the candidates: the thing asked about is retrieved and described, but not the asked
  attribute ("Whisper를 학습시킨 GPU는 몇 장?" against notes on Whisper that never say):
  unanswerable, the hardest near miss, which leaving out the whole document does not show.

Features are stored quantised to 8 bits per column (``quantise``), since LightGBM bins each
feature into at most 255 bins anyway; training reads the quantised table, so the committed table
reproduces the committed model exactly.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

from rag.gate import concept_weights
from rag.language.intent import intent_of
from rag.reader import absent_share, n_concepts, part_rows
from rag.reading.candidates import candidates
from rag.reading.features import SENTENCE_FEATURES, sentence_similarities

if TYPE_CHECKING:
    from rag.search import Searcher
    from rag.snapshots.snapshot import Snapshot


class Variant(IntEnum):
    OWN = 0
    WITHOUT_OWN = 1
    OTHER = 2
    WITHOUT_ANSWER = 3


@dataclass(frozen=True)
class Question:
    """A question with what marks its answer: gold answer texts (``answers``, contained in the
    answer sentence: KorQuAD) or evidence quotes (``evidence``, (doc, text) pairs that the answer
    sentence is part of or contains: our QA sets); ``answerable`` False for a question the
    corpus does not answer (asked once, as is)."""

    id: str
    text: str
    answers: tuple[str, ...]
    doc: str
    evidence: tuple[tuple[str, str], ...] = ()
    answerable: bool = True
    weight: float = 1.0


def _is_answer(question: Question, doc: str, text: str) -> bool:
    text = _norm(text)
    if question.evidence:
        return any(d == doc and (e in text or (len(text) >= MIN_EVIDENCE_CHARS and text in e))
                   for d, e in ((d, _norm(t)) for d, t in question.evidence))
    return doc == question.doc and any(a in text for a in (_norm(a) for a in question.answers) if a)


@dataclass
class Examples:
    """Rows of all groups; ``group[i]`` is row i's group, groups numbered from 0."""

    rows: list[np.ndarray] = field(default_factory=list)  # one (n_i, F) float32 matrix per group
    labels: list[np.ndarray] = field(default_factory=list)  # one (n_i,) int8 per group
    meta: list[dict] = field(default_factory=list)  # per group: question id, variant, answerable, absent share...

    def add(self, matrix: np.ndarray, labels: np.ndarray, meta: dict) -> None:
        self.rows.append(matrix)
        self.labels.append(labels)
        self.meta.append(meta)


OFF_TOPIC_PREFIX = "off:"  # the id prefix of a question asked of notes that do not answer it (another corpus's)
_SPACE = re.compile(r"\s+")
MIN_EVIDENCE_CHARS = 8  # a candidate inside an evidence quote must be at least this long (no spaces)


def _norm(text: str) -> str:
    return _SPACE.sub("", text)


def ask(searcher: "Searcher", snap: "Snapshot", question: Question, variant: Variant, other: str | None,
        out: Examples, k: int | None = None) -> None:
    """Ask ``question`` one way and add its groups (one per part) to ``out``."""
    if variant == Variant.OWN:
        exclude: frozenset[str] = frozenset()
    elif variant == Variant.WITHOUT_OWN:
        exclude = frozenset({question.doc, *(d for d, _ in question.evidence)})
    else:
        exclude = frozenset(d["doc"] for d in snap.documents if d["doc"] != other)
    query, passages, _ = searcher.retrieve(question.text, k, snapshot=snap, exclude=exclude)
    concept_weights(query, snap.lexical)
    if exclude:  # what only the left-out documents state is absent from the corpus asked
        docs = token_docs(snap)
        for c in query.concepts:
            if all(docs.get(a, frozenset()) <= exclude for a in c.alternatives):
                query.absent.add(c.surface)
    intent = intent_of(query)
    cands = candidates(passages)
    if variant == Variant.WITHOUT_ANSWER:
        cands = [c for c in cands if not _is_answer(question, passages[c.passage - 1].chunk.doc, c.text)]
    sims = sentence_similarities(query.vector if query.semantic else None, passages)
    weights = query.weights
    answerable = variant == Variant.OWN and question.answerable
    for n, part in enumerate(intent.parts):
        choices, matrix, retrieved = part_rows(part, cands, weights, passages, sims, frozenset(query.unchecked),
                                       frozenset(query.absent))
        labels = np.zeros(len(choices), dtype=np.int8)
        if answerable:
            for i, c in enumerate(choices):
                text = " ".join([c.candidate.text, *(x.text for x in c.items)])
                labels[i] = _is_answer(question, passages[c.candidate.passage - 1].chunk.doc, text)
            if not labels.any():
                continue  # the answer was not retrieved: no label to learn from
        out.add(matrix, labels, {"id": question.id, "variant": int(variant), "part": n, "weight": question.weight,
                                 "answerable": int(answerable), "lang": query.lang,
                                 "absent_share": absent_share(part, weights, query.absent),
                                 "concepts": n_concepts(part), "retrieved": retrieved})


_TOKEN_DOCS: dict[str, dict[str, frozenset[str]]] = {}


def token_docs(snap: "Snapshot") -> dict[str, frozenset[str]]:
    """Morpheme -> the documents whose sentences or section titles state it (once per snapshot)."""
    found = _TOKEN_DOCS.get(snap.id)
    if found is None:
        acc: dict[str, set[str]] = {}
        for chunk in snap.chunks:
            section, spans = snap.sentences.spans(chunk.id)
            for token in {*section, *(t for s in spans for t in s.tokens)}:
                acc.setdefault(token, set()).add(chunk.doc)
        found = _TOKEN_DOCS[snap.id] = {t: frozenset(d) for t, d in acc.items()}
    return found


def build(searcher: "Searcher", snap: "Snapshot", questions: Sequence[Question], seed: int = 0,
          progress: Iterable | None = None, variants: Sequence[Variant] = tuple(Variant)) -> Examples:
    """The ``variants`` of every answerable question, and every unanswerable one as it is
    (``progress`` wraps the question list, e.g. tqdm)."""
    rng = random.Random(seed)
    docs = sorted(d["doc"] for d in snap.documents)
    out = Examples()
    for q in (progress if progress is not None else questions):
        other = rng.choice([d for d in docs if d != q.doc] or docs)
        for variant in (variants if q.answerable else (Variant.OWN,)):
            ask(searcher, snap, q, variant, other, out)
    return out


def quantise(matrix: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Each column mapped linearly from [low, high] to 0..254 (uint8); NaN is 255."""
    span = np.where(high > low, high - low, 1.0)
    q = np.clip(np.round((matrix - low) / span * 254), 0, 254)
    q[np.isnan(matrix)] = 255
    return q.astype(np.uint8)


def dequantise(q: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    span = np.where(high > low, high - low, 1.0)
    out = (q.astype(np.float32) / 254) * span + low
    out[q == 255] = np.nan
    return out.astype(np.float32)


def to_arrays(examples: Examples) -> dict[str, np.ndarray]:
    """The table as arrays (what `train` saves): quantised features, labels, group ids, and the
    per-group fields; column ranges kept for dequantising."""
    matrix = np.concatenate(examples.rows) if examples.rows else np.zeros((0, len(SENTENCE_FEATURES)), np.float32)
    low = np.nan_to_num(np.nanmin(matrix, axis=0), nan=0.0).astype(np.float32)
    high = np.nan_to_num(np.nanmax(matrix, axis=0), nan=0.0).astype(np.float32)
    groups = np.concatenate([np.full(len(r), g, dtype=np.int32) for g, r in enumerate(examples.rows)])
    return {
        "features": quantise(matrix, low, high), "low": low, "high": high,
        "labels": np.concatenate(examples.labels).astype(np.int8), "groups": groups,
        "answerable": np.array([m["answerable"] for m in examples.meta], dtype=np.int8),
        "weight": np.array([m.get("weight", 1.0) for m in examples.meta], dtype=np.float32),
        "variant": np.array([m["variant"] for m in examples.meta], dtype=np.int8),
        "lang_en": np.array([m["lang"] == "en" for m in examples.meta], dtype=np.int8),
        "absent_share": np.array([m["absent_share"] for m in examples.meta], dtype=np.float32),
        "concepts": np.array([m["concepts"] for m in examples.meta], dtype=np.int16),
        "retrieved": np.array([m["retrieved"] for m in examples.meta], dtype=np.float32),
        "question": np.array([m["id"] for m in examples.meta]),
    }


def concat(tables: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """One table of several (each as ``to_arrays`` writes it), re-quantised over their joint ranges."""
    matrices = [dequantise(t["features"], t["low"], t["high"]) for t in tables]
    matrix = np.concatenate(matrices)
    low = np.nan_to_num(np.nanmin(matrix, axis=0), nan=0.0).astype(np.float32)
    high = np.nan_to_num(np.nanmax(matrix, axis=0), nan=0.0).astype(np.float32)
    offsets = np.cumsum([0] + [len(t["answerable"]) for t in tables])
    out = {"features": quantise(matrix, low, high), "low": low, "high": high,
           "labels": np.concatenate([t["labels"] for t in tables]),
           "groups": np.concatenate([t["groups"] + o for t, o in zip(tables, offsets)]).astype(np.int32)}
    for key in ("answerable", "weight", "variant", "lang_en", "absent_share", "retrieved", "concepts", "question"):
        out[key] = np.concatenate([t[key] if key in t else np.ones(len(t["answerable"]), np.float32) for t in tables])
    return out
