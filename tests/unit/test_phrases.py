"""The one noun-phrase and focus function (rag.language.phrases), and that the reader's intent
and follow-up resolution read the same focus from it."""
from __future__ import annotations

import pytest

from rag.language.glossary import load_glossary
from rag.language.intent import intent_of
from rag.language.phrases import focus_of, korean_focus, noun_phrases, owned_topic
from rag.language.query import analyze
from rag.language.references import has_own_subject


def surfaces(text: str) -> list[str]:
    return [p.surface for p in noun_phrases(text)]


def test_a_run_of_nouns_is_one_phrase_with_its_particle() -> None:
    [p] = noun_phrases("손실 함수는 무엇인가요?")
    assert (p.surface, p.tags, p.particle, p.particle_form) == ("손실 함수", ("NNG", "NNG"), "JX", "는")
    assert not p.named


def test_symbols_and_glosses_continue_a_phrase() -> None:
    assert surfaces("GPT-3의 파라미터 수는?") == ["GPT-3", "파라미터 수"]
    assert surfaces("Generator(생성자)는 무슨 일을 해?")[0] == "Generator(생성자)"


def test_frame_words_end_a_phrase_and_belong_to_none() -> None:
    found = surfaces("BERT 설명해줘")
    assert "BERT" in found and not any("설명" in s for s in found)
    english = surfaces("Explain the positional encoding of it")
    assert "positional encoding" in english
    assert not any(w in s.lower().split() for s in english for w in ("explain", "the", "it"))


def test_a_name_is_written_without_its_bound_nouns() -> None:
    [p] = noun_phrases("GRU 등이 있다")
    assert p.surface == "GRU 등" and p.particle == "JKS"  # the reader reads the particle after the whole run
    assert p.without_bound_tail("GRU 등이 있다").surface == "GRU"


def test_names_are_marked() -> None:
    by_surface = {p.surface: p for p in noun_phrases("라마 2와 트랜스포머의 관계는?")}
    assert by_surface["라마 2"].named and by_surface["라마 2"].particle == "JC"
    assert not by_surface["관계"].named


@pytest.mark.parametrize(("question", "focus"), [
    ("GAN에서 판별자는 뭐해?", "GAN"),                 # the first name when the topic has none
    ("YOLO의 장점은 뭐야?", "YOLO"),                   # X의 Y는: X
    ("객체 탐지란 무엇인가요?", "객체 탐지"),
    ("드롭아웃 비율은 보통 얼마로 해?", "드롭아웃 비율"),
    ("What does BERT stand for?", "BERT"),
    ("What is positional encoding for?", "positional encoding"),
])
def test_focus_of(question: str, focus: str) -> None:
    assert focus_of(question) == focus


def test_owner_and_topic() -> None:
    text = "트랜스포머의 인코더는 몇 층이야?"
    phrases = noun_phrases(text)
    owner, topic = owned_topic(phrases, text)
    assert owner.surface == "트랜스포머" and topic.surface == "인코더"
    assert korean_focus(phrases, text) is owner
    assert owned_topic(noun_phrases("인코더는 몇 층이야?"), "인코더는 몇 층이야?") is None


@pytest.mark.parametrize("question", ["트랜스포머의 인코더는 몇 층이야?", "GAN에서 생성자는 무슨 일을 해?",
                                      "라마 2는 몇 개의 토큰으로 학습했어?"])
def test_reader_and_follow_ups_share_the_focus(question: str) -> None:
    [part] = intent_of(analyze(question, load_glossary())).parts
    focus = focus_of(question).lower()
    assert part.focus and {c.surface.lower() for c in part.focus} <= set(focus.split()) | {focus}


def test_a_subject_of_its_own() -> None:
    assert has_own_subject("BERT는 언제 나왔어?", "ko")
    assert not has_own_subject("그건 왜 그래?", "ko")
