"""Features of the learned reader: one row per (question part, candidate sentence), and one row
per question part for the answerability verdict.

Sentence features (``SENTENCE_FEATURES``, in column order):
- semantic (the snapshot's embedder, e5 by default): cosine of question and sentence, its gap to
  the best sentence of the candidates, its rank among them, the best cosine of the neighbouring
  sentences, and the cosine of question and passage (the dense retriever's score);
- retrieval: reciprocal rank of the passage in the fused list, in the dense and BM25 lists;
- lexical, from the rule reader (rag.reading.rule_features): answerability of the sentence for the part
  (focus and asked attribute stated together, numbers for count/date questions), coverage of the
  question's concepts, the cue for the asked kind, each also as a gap to the best candidate;
  the share of the question's character bigrams in the sentence (robust to Korean inflection;
  KorQuAD scores with character F1 for the same reason);
- shape: position in the passage, first under a heading, list item or introduction, length,
  whether it states a number or a date;
- the question: its kind (one column per ``QuestionKind``) and language.
Missing values (no stored sentence vectors) are NaN; the ranker (LightGBM) handles them.

Verdict features (``VERDICT_FEATURES``) summarise a part's candidates after ranking: the best and
second-best ranker logits, the best cosine, the best rule answerability, the best bigram share,
the passage cosine of the first passage, the share of the question's concept weight that the
whole corpus never states and the share the retrieved passages state anywhere, whether a count
or date question's best sentence states no number, the number of concepts, and the language.
"""
from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Sequence

import numpy as np

from rag.reading.kinds import QuestionKind

if TYPE_CHECKING:
    from rag.types import Passage

KINDS = list(QuestionKind)
SENTENCE_FEATURES = [
    "sim", "sim_gap", "sim_rank", "ctx_sim", "passage_sim",
    "passage_recip", "dense_recip", "bm25_recip",
    "evidence", "evidence_gap", "coverage", "coverage_gap", "cue", "bigram", "bigram_gap",
    "position", "after_heading", "is_item", "is_intro", "log_len", "has_number",
    *(f"kind_{k.value}" for k in KINDS), "lang_en",
]
VERDICT_FEATURES = ["top_logit", "second_logit", "max_sim", "max_evidence", "max_bigram", "top_passage_sim",
                    "has_sim", "absent_share", "retrieved_coverage", "number_missing", "log_concepts", "lang_en"]
# The semantic columns: NaN when the snapshot's embedder is not the one the reader was trained
# with (rag.reading.model.SEMANTIC_EMBEDDERS), so the ranker falls back on the other features.
SEMANTIC_FEATURES = ["sim", "sim_gap", "sim_rank", "ctx_sim", "passage_sim"]
PREFILTER = 24  # candidates kept per part, by cosine then rule coverage, before the ranker

_WORD = re.compile(r"[0-9A-Za-z가-힣]+")


def bigrams(text: str) -> frozenset[str]:
    """Character bigrams inside words (Hangul, Latin lowercased, digits); a one-letter word counts as itself."""
    out: set[str] = set()
    for w in _WORD.findall(text.lower()):
        out.update(w[i:i + 2] for i in range(max(1, len(w) - 1)))
    return frozenset(out)


def rank_reciprocal(passage: "Passage", name: str) -> float:
    r = passage.ranks.get(name, {}).get("rank")
    return 1.0 / float(r) if r else 0.0


def passage_similarity(passage: "Passage", sims: np.ndarray) -> float:
    """Cosine of question and passage: the dense retriever's score, else its best sentence's
    (NaN when the sentences' are unknown)."""
    score = passage.ranks.get("dense", {}).get("score")
    if score is not None and not np.all(np.isnan(sims)):
        return float(score)
    return float(np.nanmax(sims)) if len(sims) and not np.all(np.isnan(sims)) else math.nan


def sentence_similarities(query_vector: np.ndarray | None, passages: Sequence["Passage"]) -> list[np.ndarray]:
    """Per passage, the cosine of the question with each of its sentences (NaN when unknown:
    no question vector, as for an embedder the reader was not trained with)."""
    out = []
    for p in passages:
        n = len(p.sentences)
        if query_vector is None or p.vectors is None or len(p.vectors) != n:
            out.append(np.full(n, math.nan, dtype=np.float32))
        else:
            out.append(np.asarray(p.vectors, dtype=np.float32) @ np.asarray(query_vector, dtype=np.float32))
    return out


def sentence_matrix(rows: Sequence[dict[str, float]], kind: QuestionKind, lang: str) -> np.ndarray:
    """The (n, len(SENTENCE_FEATURES)) float32 matrix of ``rows`` (each a dict of the raw
    per-sentence values: sim, ctx_sim, passage_sim, passage_recip, dense_recip, bm25_recip,
    evidence, coverage, cue, bigram, position, after_heading, is_item, is_intro, log_len,
    has_number); the gaps and ranks are computed across the rows, so rows are one part's
    candidates."""
    n = len(rows)
    out = np.zeros((n, len(SENTENCE_FEATURES)), dtype=np.float32)
    if not n:
        return out
    col = {name: i for i, name in enumerate(SENTENCE_FEATURES)}
    for name in ("sim", "ctx_sim", "passage_sim", "passage_recip", "dense_recip", "bm25_recip", "evidence",
                 "coverage", "cue", "bigram", "position", "after_heading", "is_item", "is_intro", "log_len",
                 "has_number"):
        out[:, col[name]] = [r[name] for r in rows]
    sims = out[:, col["sim"]]
    if np.all(np.isnan(sims)):
        out[:, col["sim_gap"]] = math.nan
        out[:, col["sim_rank"]] = math.nan
    else:
        out[:, col["sim_gap"]] = sims - np.nanmax(sims)
        order = np.argsort(-np.nan_to_num(sims, nan=-1.0), kind="stable")
        ranks = np.empty(n, dtype=np.float32)
        ranks[order] = np.arange(n)
        out[:, col["sim_rank"]] = 1.0 / (1.0 + ranks)
    for name in ("evidence", "coverage", "bigram"):
        values = out[:, col[name]]
        out[:, col[f"{name}_gap"]] = values - values.max()
    out[:, col[f"kind_{kind.value}"]] = 1.0
    out[:, col["lang_en"]] = 1.0 if lang == "en" else 0.0
    return out


def verdict_row(logits: np.ndarray, matrix: np.ndarray, absent_share: float, n_concepts: int,
                lang: str, retrieved: float = 0.0) -> np.ndarray:
    """One part's verdict features (len(VERDICT_FEATURES),) from its ranked candidates."""
    col = {name: i for i, name in enumerate(SENTENCE_FEATURES)}
    if len(logits) == 0:
        return np.array([-10.0, -10.0, 0.0, 0.0, 0.0, 0.0, 0.0, absent_share, retrieved, 0.0, math.log1p(n_concepts),
                         1.0 if lang == "en" else 0.0], dtype=np.float32)
    ordered = np.sort(logits)[::-1]
    best = int(np.argmax(logits))
    asks_number = matrix[best, col["kind_count"]] + matrix[best, col["kind_date"]] > 0
    number_missing = float(asks_number and matrix[best, col["has_number"]] < 0.5)
    sims = matrix[:, col["sim"]]
    first = matrix[:, col["passage_recip"]] == matrix[:, col["passage_recip"]].max()
    top_passage = matrix[first, col["passage_sim"]]
    return np.array([
        ordered[0], ordered[1] if len(ordered) > 1 else ordered[0] - 5.0,
        float(np.nanmax(sims)) if not np.all(np.isnan(sims)) else 0.0,
        float(matrix[:, col["evidence"]].max()), float(matrix[:, col["bigram"]].max()),
        float(np.nanmax(top_passage)) if len(top_passage) and not np.all(np.isnan(top_passage)) else 0.0,
        0.0 if np.all(np.isnan(sims)) else 1.0, absent_share, retrieved, number_missing, math.log1p(n_concepts), 1.0 if lang == "en" else 0.0,
    ], dtype=np.float32)


def verdict_features(row: np.ndarray | None) -> dict[str, float]:
    """A verdict row by feature name, rounded (for ``debug``)."""
    if row is None:
        return {}
    return {name: round(float(v), 4) for name, v in zip(VERDICT_FEATURES, row)}
