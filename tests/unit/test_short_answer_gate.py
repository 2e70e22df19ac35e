"""Which questions may get a short answer at all: one part, a factoid kind, one thing asked
(rag.short_answer.attach.asks_one_fact over the reader's intent)."""
from __future__ import annotations

import pytest

from rag.language.glossary import load_glossary
from rag.language.intent import intent_of
from rag.language.query import analyze
from rag.short_answer.attach import asks_one_fact


def _intent(question: str):  # noqa: ANN202 - rag.language.intent.Intent
    return intent_of(analyze(question, load_glossary()))


@pytest.mark.parametrize("question", [
    "ResNet은 몇 년에 발표됐어?",
    "드롭아웃을 처음 제안한 사람은 누구야?",
    "How many layers does VGG16 have?",
    "헤이그가 정계로 돌아간 해는?",  # no question word: the noun it ends on asks
])
def test_a_question_asking_one_fact_may_get_a_short_answer(question: str) -> None:
    assert asks_one_fact(_intent(question))


@pytest.mark.parametrize("question", [
    "LSTM과 GRU는 뭐가 달라?",  # comparison
    "배치 정규화는 왜 써?",  # reason
    "역전파는 어떻게 동작해?",  # method
    "오토인코더란 무엇인가?",  # definition
    "인코더와 디코더는 각각 어떤 일을 해?",  # several things asked
    "What do the encoder and the decoder each do?",
])
def test_explanations_comparisons_and_several_answers_get_none(question: str) -> None:
    assert not asks_one_fact(_intent(question))


def test_no_intent_no_short_answer() -> None:
    assert not asks_one_fact(None)


def test_a_count_question_is_answered_only_by_a_number() -> None:
    from rag.reading.kinds import spec
    from rag.short_answer.model import first_short_answer

    question = "ResNet을 학습시키는 데 GPU를 몇 장 썼어?"
    [part] = _intent(question).parts
    assert spec(part.kind).numeric
    no_number = "ResNet은 잔차 연결을 이용하여 구현되었으며, 이미지넷 같은 데이터로 학습된 합성곱 신경망이다."
    with_number = "ResNet은 GPU 8장으로 학습되었다."
    assert first_short_answer(question, [no_number], numeric=True) is None
    found = first_short_answer(question, [no_number, with_number], numeric=True)
    assert found is not None and found[0] == 1 and any(c.isdigit() for c in found[1].text)
    # a question of another kind keeps every span type
    assert not spec(_intent("드롭아웃을 처음 제안한 사람은 누구야?").parts[0].kind).numeric
