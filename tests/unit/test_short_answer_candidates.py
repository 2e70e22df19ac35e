"""Candidate answer spans (rag/short_answer/candidates.py): dates, counts in native and
Sino-Korean numerals, quoted terms, names in Latin and Hangul, noun phrases."""
from __future__ import annotations

import pytest

from rag.short_answer.candidates import Source, candidates


def texts(sentence: str) -> dict[str, Source]:
    out = {}
    for c in candidates(sentence):
        assert sentence[c.start:c.end] and c.start < c.end  # an exact, non-empty substring
        out.setdefault(sentence[c.start:c.end], c.source)
    return out


def test_dates_whole_and_in_parts() -> None:
    found = texts("이 회사는 1988년 3월에 설립되었고 1989년 12월 18일 오전 7시 40분에 상장했다.")
    assert "1988년 3월" in found and "1988년" in found and "3월" in found
    assert "1989년 12월 18일 오전 7시 40분" in found
    assert "1988" not in found and "년" not in found  # a word is never cut before its counter


@pytest.mark.parametrize(("sentence", "count"), [
    ("상자에는 사과가 세 개 들어 있다.", "세 개"),  # native numeral + counter
    ("모델은 두 단계로 학습한다.", "두 단계"),
    ("탐사선에는 3개의 패널이 있다.", "3개"),  # digits + counter
    ("집회에는 십여 명이 모였다.", "십여 명"),  # Sino-Korean numeral + 여 + counter
    ("7B에서 70B까지 네 가지 크기를 제공한다.", "네 가지"),
])
def test_counts_with_their_counters(sentence: str, count: str) -> None:
    assert count in texts(sentence)


def test_latin_and_hangul_names() -> None:
    found = texts("Geoffrey Hinton과 임종석은 YOLO v3 모델과 GPT-4를 언급했다.")
    assert "Geoffrey Hinton" in found and found["Geoffrey Hinton"] == Source.LATIN
    assert "임종석" in found
    assert "YOLO v3" in found and "GPT-4" in found


def test_quoted_terms_without_their_quotes() -> None:
    found = texts("메타는 오픈 소스 LLM ‘라마 2’를 공개했고 소설 《토지》는 박경리가 썼다.")
    assert found.get("라마 2") == Source.QUOTED
    assert found.get("토지") == Source.QUOTED


def test_noun_phrases_and_their_parts() -> None:
    found = texts("경찰은 학생회관 건물 계단을 내려오는 임종석을 발견했다.")
    assert {"학생회관 건물 계단", "건물 계단", "학생회관", "계단"} <= set(found)
    assert "학생" not in found  # not inside a word
    assert "계단을" not in found  # particles stay out
    found = texts("서울지방경찰청의 공안분실과 대공과 직원이 투입되었다.")
    assert "서울지방경찰청의 공안분실" in found  # phrases joined by 의 / 과 are candidates too


def test_brackets_are_balanced_and_empty_text_has_none() -> None:
    sentence = "임종석(林鍾晳, 1966년 4월 24일 ~ )은 정치인이다."
    for text in texts(sentence):
        assert text.count("(") == text.count(")")
    assert candidates("") == [] and candidates("   ") == []
