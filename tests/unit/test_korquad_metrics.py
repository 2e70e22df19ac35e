"""KorQuAD 1.0's EM and character F1 (rag/evaluation/korquad_metrics.py) on worked examples."""
from __future__ import annotations

import pytest

from rag.evaluation.korquad_metrics import (best_over_golds, char_f1, exact_match, normalize_answer,
                                            short_answer_scores, short_answer_summary)


def test_normalisation_drops_quotes_brackets_punctuation_and_extra_spaces() -> None:
    assert normalize_answer("《토지》(1969년)") == "토지 1969년"
    assert normalize_answer("  'GPT-4'  ") == "gpt4"
    assert normalize_answer("‘라마 2’") == "라마 2"
    assert normalize_answer("1989년  2월 15일.") == "1989년 2월 15일"


def test_exact_match_after_normalisation() -> None:
    assert exact_match("《토지》", "토지") == 1.0
    assert exact_match("1989년 2월", "1989년  2월") == 1.0
    assert exact_match("1989년", "1989년 2월") == 0.0
    assert exact_match("", "토지") == 0.0


def test_character_f1_worked_examples() -> None:
    # "1989년" against "1989년 2월 15일": 5 common characters; precision 5/5, recall 5/10.
    assert char_f1("1989년", "1989년 2월 15일") == pytest.approx(2 * 1.0 * 0.5 / 1.5)
    # "학생회관 건물" against "학생회관 건물 계단": 6 of 8 gold characters, precision 1.
    assert char_f1("학생회관 건물", "학생회관 건물 계단") == pytest.approx(2 * 0.75 / 1.75)
    # Characters count as a multiset, spaces left out: "가 가" vs "가" -> p 1/2, r 1.
    assert char_f1("가 가", "가") == pytest.approx(2 * 0.5 / 1.5)
    assert char_f1("서울", "부산") == 0.0
    assert char_f1("", "부산") == 0.0
    assert char_f1("‘라마 2’", "라마 2") == 1.0


def test_best_over_several_golds() -> None:
    assert best_over_golds(exact_match, "토지", ["대지", "《토지》"]) == 1.0
    assert best_over_golds(char_f1, "토지", []) == 0.0


def test_short_answer_scores_and_their_summary() -> None:
    assert short_answer_scores("《2018년》", ["2018년", "구글"]) == (1.0, 1.0)
    em, f1 = short_answer_scores("2018", ["2018년"])
    assert em == 0.0 and f1 == pytest.approx(2 * 1.0 * 0.8 / 1.8)
    assert short_answer_scores(None, ["2018년"]) == (0.0, 0.0)  # none given scores 0, as unanswered
    summary = short_answer_summary([(1.0, 1.0, True), (0.0, 0.5, True), (0.0, 0.0, False), (0.0, 0.0, False)])
    assert summary == {"short_answer_em": 0.25, "short_answer_f1": 0.375, "short_answer_coverage": 0.5}
    assert short_answer_summary([]) == dict.fromkeys(("short_answer_em", "short_answer_f1", "short_answer_coverage"))
