"""The learned reader's features: bigram shares, gaps and ranks across a part's candidates,
missing semantic values, the question kind's column, and the verdict row."""
from __future__ import annotations

import math

import numpy as np

from rag.reading.features import (SENTENCE_FEATURES, VERDICT_FEATURES, bigrams, sentence_matrix,
                                  sentence_similarities, verdict_row)
from rag.reading.kinds import SPECS, QuestionKind
from rag.types import Chunk, Passage, SentenceSpan

COL = {name: i for i, name in enumerate(SENTENCE_FEATURES)}


def _raw(sim: float, evidence: float = 0.5, coverage: float = 0.5, bigram: float = 0.2) -> dict[str, float]:
    return {"sim": sim, "ctx_sim": math.nan, "passage_sim": 0.8, "passage_recip": 1.0, "dense_recip": 0.5,
            "bm25_recip": 0.0, "evidence": evidence, "coverage": coverage, "cue": 1.0, "bigram": bigram,
            "position": 0.0, "after_heading": 1.0, "is_item": 0.0, "is_intro": 0.0, "log_len": 3.0, "has_number": 1.0}


def test_bigrams_survive_korean_inflection() -> None:
    question, sentence = bigrams("판별자는 무엇을 하나요"), bigrams("판별자가 진짜와 가짜를 구별한다")
    assert "판별" in question & sentence and "별자" in question & sentence
    assert bigrams("GAN") == {"ga", "an"} and bigrams("a") == {"a"}


def test_gaps_and_ranks_are_relative_to_the_parts_candidates() -> None:
    m = sentence_matrix([_raw(0.80, 0.2), _raw(0.90, 0.9, bigram=0.6), _raw(0.85, 0.4)], QuestionKind.COUNT, "en")
    assert m.shape == (3, len(SENTENCE_FEATURES))
    assert np.allclose(m[:, COL["sim_gap"]], [-0.10, 0.0, -0.05], atol=1e-6)
    assert np.allclose(m[:, COL["sim_rank"]], [1 / 3, 1.0, 1 / 2])
    assert np.allclose(m[:, COL["evidence_gap"]], [-0.7, 0.0, -0.5], atol=1e-6)
    assert m[0, COL["kind_count"]] == 1.0 and m[0, COL["kind_date"]] == 0.0 and m[0, COL["lang_en"]] == 1.0


def test_missing_similarities_stay_missing() -> None:
    m = sentence_matrix([_raw(math.nan), _raw(math.nan)], QuestionKind.OTHER, "ko")
    assert np.isnan(m[:, COL["sim"]]).all() and np.isnan(m[:, COL["sim_gap"]]).all()
    assert np.isnan(m[:, COL["sim_rank"]]).all() and not np.isnan(m[:, COL["evidence"]]).any()


def test_similarities_need_both_vectors() -> None:
    chunk = Chunk("d", 0, 20, "가나다. 라마바.")
    spans = (SentenceSpan(0, 4, ("가나",)), SentenceSpan(5, 9, ("라마",)))
    vectors = np.eye(2, dtype=np.float32)
    with_vectors = Passage(chunk, 1.0, {}, spans, (), vectors)
    without = Passage(chunk, 1.0, {}, spans, (), None)
    sims = sentence_similarities(np.array([0.6, 0.8], dtype=np.float32), [with_vectors, without])
    assert np.allclose(sims[0], [0.6, 0.8]) and np.isnan(sims[1]).all()
    assert np.isnan(sentence_similarities(None, [with_vectors])[0]).all()


def test_verdict_row_summarises_the_ranked_candidates() -> None:
    m = sentence_matrix([_raw(0.8), _raw(0.9, evidence=0.7)], QuestionKind.OTHER, "ko")
    row = verdict_row(np.array([0.5, 2.0]), m, absent_share=0.25, n_concepts=3, lang="ko", retrieved=0.8)
    named = dict(zip(VERDICT_FEATURES, row))
    assert named["top_logit"] == 2.0 and named["second_logit"] == 0.5
    assert math.isclose(named["max_sim"], 0.9, abs_tol=1e-6) and math.isclose(named["max_evidence"], 0.7, abs_tol=1e-6)
    assert named["has_sim"] == 1.0 and named["absent_share"] == 0.25 and math.isclose(named["retrieved_coverage"], 0.8, abs_tol=1e-6)
    empty = dict(zip(VERDICT_FEATURES, verdict_row(np.zeros(0), m[:0], 1.0, 2, "en")))
    assert empty["top_logit"] < -5 and empty["lang_en"] == 1.0


def test_every_kind_has_a_spec() -> None:
    assert set(SPECS) == set(QuestionKind)
    assert SPECS[QuestionKind.COUNT].single and SPECS[QuestionKind.DEFINITION].names_focus
