"""A reference to something never said is not guessed (issue 29): the answer asks what is
meant, in the question's language, and nothing is searched or cited."""
from __future__ import annotations

import pytest

from rag.answer import REFUSALS
from rag.conversation import FollowUpResolver, Turn

rules = FollowUpResolver()


@pytest.mark.parametrize(("question", "history", "phrase"), [
    ("그 세 번째 것은 어떻게 학습해?", [], "그 세 번째 것"),
    ("마지막 거는 언제 나왔어?", [Turn("오늘 날씨 어때?", "좋아요.")], "마지막 거"),
    ("그 알고리즘의 단점은?", [], "그 알고리즘"),
    ("그 알고리즘의 단점은?", [Turn("고마워!", "천만에요.")], "그 알고리즘"),
    ("그 구조의 층 수는?", [Turn("점심 뭐 먹지?", REFUSALS["ko"])], "그 구조"),  # a refused turn names nothing
    ("What does the fourth one compute?", [], "the fourth one"),
    ("How is it evaluated?", [], "it"),
])
def test_a_reference_with_nothing_before_it_is_left_unresolved(question: str, history: list[Turn],
                                                                 phrase: str) -> None:
    resolution = rules.resolve(question, history)
    assert resolution.unresolved == phrase
    assert resolution.text == question  # nothing guessed into it


def test_an_ordinal_with_no_list_that_long_is_not_resolved() -> None:
    turn = Turn("드롭아웃이 뭐야?", "드롭아웃은 뉴런 일부를 무작위로 끄는 정규화 기법이다. [1]")
    resolution = rules.resolve("그 두 번째 것은 뭐야?", [turn])
    assert resolution.unresolved == "그 두 번째 것" and resolution.reference == "ordinal"


@pytest.mark.parametrize("question", [
    "ResNet의 두 번째 단계는 뭐야?",  # an ordinal qualifying a noun of the question
    "Llama 2는 어떻게 튜닝됐고, 그 과정의 보상 모델은 뭐야?",  # the anaphor points back inside the question
    "What is VGG and how is it trained?",
    "드롭아웃이란 무엇인가?",
])
def test_a_question_that_stands_alone_is_answered(question: str) -> None:
    assert rules.resolve(question, []).unresolved is None


def test_the_answer_asks_in_the_question_s_language() -> None:
    ko = rules.resolve("그 다섯 번째 것은?", []).clarification("extractive", {})
    assert ko.refused and ko.lang == "ko" and "'그 다섯 번째 것'" in ko.answer and "질문해 주세요" in ko.answer
    assert not ko.citations and ko.debug["clarify"] is True
    en = rules.resolve("What about the fifth one?", []).clarification("extractive", {})
    assert en.refused and en.lang == "en" and "'the fifth one'" in en.answer and "refers to" in en.answer
