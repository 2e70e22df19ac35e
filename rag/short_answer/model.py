"""The short-answer span scorer: gradient-boosted trees over ``features.FEATURE_NAMES``.

The model file (``rag/data/short_answer.json``, written by ``rag.short_answer.train``) is plain
JSON: the feature names, scikit-learn's HistGradientBoostingClassifier trees as parallel lists
(feature, threshold, left, right, value per node; a node with ``left == 0`` is a leaf), the
baseline log-odds, the probability threshold chosen on held-out even KorQuAD articles, and the
metrics measured there. Loading and scoring need numpy only (no pickle: nothing executable is
read from disk); ``tree_scores`` walks the trees the way scikit-learn's predictor does
(``x <= threshold`` goes left; the features never hold NaN).

A candidate's probability is the classifier's own logistic output, not normalised over the
sentence's candidates: a sentence whose only candidate is weak (a heading "GAN" for "what does
the discriminator do?") keeps its low probability instead of getting a share of 1.0, so the
threshold means the same in every sentence and probabilities compare across sentences. The
threshold is chosen on these probabilities (``rag.short_answer.train``).

A candidate the question itself contains ("BERT" for "BERT는 어떤 데이터로 학습됐어?") is never
the answer: the question asks about it, not for it (KorQuAD's gold spans practically never
repeat their question), so ``rank`` leaves such spans out.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.short_answer.candidates import Candidate, candidates
from rag.short_answer.features import FEATURE_NAMES, NOT_FACTOID, QuestionInfo, featurize, states_number

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "data" / "short_answer.json"


@dataclass(frozen=True, slots=True)
class Span:
    """A short answer: ``sentence[start:end] == text``; ``probability`` in [0, 1] is the model's
    estimate that it is the exact answer span."""

    text: str
    start: int
    end: int
    probability: float


@dataclass(frozen=True)
class Tree:
    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray


def tree_scores(trees: list[Tree], baseline: float, X: np.ndarray) -> np.ndarray:
    """Raw log-odds of each row of ``X`` (shape (n, features)): baseline + each tree's leaf."""
    z = np.full(len(X), baseline)
    rows = np.arange(len(X))
    for t in trees:
        node = np.zeros(len(X), dtype=np.int64)
        inner = t.left[node] != 0
        while inner.any():
            go_left = X[rows, t.feature[node]] <= t.threshold[node]
            node = np.where(inner, np.where(go_left, t.left[node], t.right[node]), node)
            inner = t.left[node] != 0
        z += t.value[node]
    return z


@dataclass(frozen=True)
class SpanModel:
    trees: list[Tree]
    baseline: float
    threshold: float
    meta: dict

    @classmethod
    def from_dict(cls, data: dict) -> "SpanModel":
        """ValueError when the file's features are not this code's ``FEATURE_NAMES``."""
        if tuple(data.get("features", ())) != FEATURE_NAMES:
            raise ValueError("short-answer model: its features do not match this code's; retrain it "
                             "(python -m rag.short_answer.train)")
        trees = [Tree(np.asarray(t["feature"], dtype=np.int64), np.asarray(t["threshold"], dtype=np.float64),
                      np.asarray(t["left"], dtype=np.int64), np.asarray(t["right"], dtype=np.int64),
                      np.asarray(t["value"], dtype=np.float64)) for t in data["trees"]]
        return cls(trees, float(data["baseline"]), float(data["threshold"]),
                   {k: v for k, v in data.items() if k != "trees"})

    @classmethod
    def load(cls, path: str | Path = DEFAULT_MODEL) -> "SpanModel":
        """Read a model file; FileNotFoundError / ValueError name the path."""
        path = Path(path)
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: not a short-answer model file ({exc})") from exc

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """Each candidate's probability of being the exact answer span, shape (n,), in [0, 1]
        (``features``: one sentence's ``featurize`` matrix)."""
        if not len(features):
            return np.zeros(0)
        return 1.0 / (1.0 + np.exp(-tree_scores(self.trees, self.baseline, features)))

    def rank(self, question: str, sentence: str, numeric: bool = False) -> list[tuple[Candidate, float]]:
        """Every candidate span of ``sentence`` with its probability, best first; empty for a
        question that is not factoid (``features.NOT_FACTOID``) or a sentence without any. A span
        the question repeats is none; with ``numeric`` (a count question: the expected answer
        type, rag.reading.kinds.KindSpec.numeric) only spans stating a number are kept."""
        q = QuestionInfo.of(question)
        cands = candidates(sentence)
        if q.kind in NOT_FACTOID or not cands:
            return []
        probs = self.probabilities(featurize(q, sentence, cands))
        asked = _compact(question)
        order = sorted((i for i, c in enumerate(cands) if _compact(sentence[c.start:c.end]) not in asked
                        and (not numeric or states_number(sentence[c.start:c.end]))),
                       key=lambda i: (-probs[i], cands[i].start, cands[i].end))
        return [(cands[i], float(probs[i])) for i in order]

    def short_answer(self, question: str, sentence: str, numeric: bool = False) -> Span | None:
        """The best span of ``sentence`` answering ``question``, or None when the question is not
        factoid or the best probability is under the model's threshold (``numeric``: see ``rank``)."""
        ranked = self.rank(question, sentence, numeric)
        if not ranked or ranked[0][1] < self.threshold:
            return None
        c, p = ranked[0]
        return Span(sentence[c.start:c.end], c.start, c.end, p)


def _compact(text: str) -> str:
    """Lower case without spaces: "Joseph Redmon" and "josephredmon" compare equal."""
    return "".join(text.lower().split())


def first_short_answer(question: str, sentences: list[str], model: SpanModel | None = None,
                       numeric: bool = False) -> tuple[int, Span] | None:
    """(index, span) of the first of ``sentences`` (the reader's order, best first) with a short
    answer to ``question``, or None. The first, not the most probable: the reader has already
    ranked the sentences, and its order is what the answer quotes."""
    model = model or default_model()
    for i, sentence in enumerate(sentences):
        span = model.short_answer(question, sentence, numeric)
        if span is not None:
            return i, span
    return None


@lru_cache(maxsize=1)
def default_model() -> SpanModel:
    """The committed model, loaded once per process."""
    return SpanModel.load(DEFAULT_MODEL)


def short_answer(question: str, sentence: str) -> Span | None:
    """``default_model().short_answer``: the exact answer span of a factoid question inside one
    sentence (``sentence[span.start:span.end] == span.text``), or None."""
    return default_model().short_answer(question, sentence)
