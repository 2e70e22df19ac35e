"""Follow-up resolution (rag.conversation), Korean and English, with and without an LLM."""
from __future__ import annotations

from pathlib import Path

import pytest

from rag.conversation import FollowUpResolver, Turn
from rag.language.phrases import focus_of
from rag.language.references import answer_lists, has_own_subject

GAN_ANSWER = ("GAN은 Generative Adversarial Nets이라는 논문을 통해 나온 모델로 진짜와 동일해 보이는 이미지를 생성하는 "
              "모델이다. [1] 초기 GAN의 아키텍처는 다음과 같이 Generator(생성자)와 Discriminator(판별자)로 구성되었다. [1]")
rules = FollowUpResolver()


def resolve(question: str, *turns: Turn) -> str:
    return rules.resolve(question, list(turns)).text


@pytest.mark.parametrize(("question", "turn", "expected"), [
    ("그럼 그 두 번째 것은 무슨 일을 해?", Turn("GAN이 뭐야?", GAN_ANSWER), "그럼 Discriminator(판별자)는 무슨 일을 해?"),
    ("첫 번째 것은 뭐야?", Turn("GAN이 뭐야?", GAN_ANSWER), "Generator(생성자)는 뭐야?"),
    ("What does the second one do?", Turn("What is a GAN?", GAN_ANSWER), "What does Discriminator(판별자) do?"),
    ("마지막 것은?", Turn("분류는?", "RNN, LSTM, GRU 등이 있다. [1]"), "GRU는?"),
    ("What about the third one?", Turn("Which models?", "It covers YOLO, SSD and RetinaNet. [1]"),
     "What about RetinaNet?"),
])
def test_an_ordinal_points_into_the_previous_answers_list(question: str, turn: Turn, expected: str) -> None:
    assert resolve(question, turn) == expected


@pytest.mark.parametrize(("question", "turn", "expected"), [
    ("How was it pre-trained?", Turn("What is BERT?", "BERT is a model. [1]"), "How was BERT pre-trained?"),
    ("What are its advantages?", Turn("Tell me about YOLO", "..."), "What are YOLO's advantages?"),
    ("그것의 장점은 뭐야?", Turn("YOLO란?", "..."), "YOLO의 장점은 뭐야?"),
    ("그 모델은 언제 나왔어?", Turn("BERT가 뭐야?", "..."), "BERT 모델은 언제 나왔어?"),
    ("그건 누가 만들었어?", Turn("트랜스포머가 뭐야?", "..."), "트랜스포머는 누가 만들었어?"),
])
def test_an_anaphor_takes_the_previous_focus(question: str, turn: Turn, expected: str) -> None:
    assert resolve(question, turn) == expected


@pytest.mark.parametrize(("question", "turn", "expected"), [
    ("장점은 뭐야?", Turn("YOLO는 객체 탐지를 몇 단계로 처리해?", "..."), "YOLO의 장점은 뭐야?"),
    ("그럼 언제 나왔어?", Turn("GAN이 뭐야?", "..."), "그럼 GAN은 언제 나왔어?"),
    ("What are the advantages?", Turn("What is YOLO?", "..."), "What are the advantages? (about YOLO)"),
])
def test_a_question_without_its_own_subject_takes_the_previous_focus(question: str, turn: Turn, expected: str) -> None:
    assert resolve(question, turn) == expected


@pytest.mark.parametrize(("question", "turn"), [
    ("BERT는 어디서 언제 발표한 모델이에요?", Turn("What is YOLO?", "An object detector.")),
    ("객체 탐지란 무엇인가요?", Turn("BERT가 뭐야?", "...")),
    ("What is object detection?", Turn("What is BERT?", "...")),
    ("How does YOLO find objects?", Turn("What is BERT?", "...")),
    ("YOLO의 장점은?", Turn("YOLO가 뭐야?", "...")),
])
def test_a_standalone_question_is_left_alone(question: str, turn: Turn) -> None:
    resolution = rules.resolve(question, [turn])
    assert resolution.text == question and not resolution.rewritten and resolution.debug()["understood_as"] is None


def test_no_history_means_no_rewrite() -> None:
    assert rules.resolve("How was it pre-trained?", []).text == "How was it pre-trained?"


def test_a_chain_of_follow_ups_keeps_the_topic() -> None:
    turns = [Turn("What is BERT?", "BERT is ... [1]"), Turn("How was it pre-trained?", "With MLM and NSP. [1]")]
    assert resolve("What are its limits?", *turns) == "What are BERT's limits?"
    # the page sends how each turn was understood; that is used as it is
    assert resolve("언제 나왔어?", Turn("그건 뭐야?", "...", understood_as="GPT는 뭐야?")) == "GPT는 언제 나왔어?"


def test_the_debug_says_how() -> None:
    debug = rules.resolve("How was it pre-trained?", [Turn("What is BERT?", "...")]).debug()
    assert debug["understood_as"] == "How was BERT pre-trained?"
    assert debug["follow_up"] == {"method": "rules", "reference": "anaphor", "focus": "BERT"}


def test_lists_focus_and_subjects() -> None:
    assert answer_lists("- 실시간 객체 탐지 [1]\n- 높은 정확도: 좋다\n- 빠른 속도")[-1] == ["실시간 객체 탐지", "높은 정확도", "빠른 속도"]
    assert answer_lists(GAN_ANSWER)[-1] == ["Generator(생성자)", "Discriminator(판별자)"]
    assert answer_lists("BERT는 2018년 구글이 공개했다.") == []
    assert focus_of("BERT는 어디서 언제 발표한 모델이에요?") == "BERT"
    assert focus_of("객체 탐지란 무엇인가요?") == "객체 탐지"
    assert has_own_subject("What is object detection?", "en") and not has_own_subject("How does it work?", "en")
    assert has_own_subject("GAN은?", "ko") and not has_own_subject("장점은 뭐야?", "ko")


def test_an_llm_rewrite_is_used_when_it_keeps_the_questions_words() -> None:
    seen: list[list[dict[str, str]]] = []

    def condense(messages: list[dict[str, str]]) -> str:
        seen.append(messages)
        return "How was BERT pre-trained?\n(extra line)"

    resolution = FollowUpResolver(condense).resolve("How was it pre-trained?", [Turn("What is BERT?", "BERT ... [1]")])
    assert resolution.text == "How was BERT pre-trained?" and resolution.method == "llm"
    assert seen[0][0]["role"] == "system" and "What is BERT?" in seen[0][1]["content"]
    assert "[1]" not in seen[0][1]["content"]  # citation marks are not conversation


@pytest.mark.slow
def test_a_real_llama_cpp_condense_step_falls_back_to_rules_when_its_rewrite_is_noise(tmp_path: Path) -> None:
    """The tiny random GGUF writes noise: it must not replace the question."""
    pytest.importorskip("llama_cpp")
    from rag.generators.llamacpp import LlamaCppGenerator
    from rag.settings import Settings
    from tests.tinymodels import build_tiny_gguf

    gguf = build_tiny_gguf(tmp_path / "tiny.gguf")
    generator = LlamaCppGenerator(Settings(llm_ctx=512, llm_max_tokens=16, llm_threads=1, _env_file=None),  # type: ignore[call-arg]
                                  model_path=gguf)
    resolution = FollowUpResolver(generator.complete).resolve("How was it pre-trained?", [Turn("What is BERT?", "...")])
    assert resolution.text == "How was BERT pre-trained?" and resolution.method == "rules"
    assert resolution.debug()["follow_up"]["notes"]
