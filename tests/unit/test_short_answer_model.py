"""The short-answer span model: answer types, training on a tiny hand-made dataset (scores and
determinism), and the committed model on the real notes."""
from __future__ import annotations

import json

import numpy as np
import pytest

from rag.language.sentences import split
from rag.short_answer import SpanModel, first_short_answer, short_answer
from rag.short_answer.features import NOT_FACTOID, AnswerType, answer_type
from rag.short_answer.korquad import Example, fold
from rag.short_answer.model import DEFAULT_MODEL, default_model
from rag.short_answer.train import build, fit
from tests.corpus import LIVE_NOTES

# (question, sentence, answer): one per pattern a student asks.
TINY = [
    ("헤이그가 정계로 돌아간 해는?", "헤이그는 1981년 국무장관으로 정계에 돌아왔다.", "1981년"),
    ("임수경이 평양에 간 날은 언제인가?", "임수경은 1989년 6월 30일 평양축전에 참가했다.", "1989년 6월 30일"),
    ("BERT를 공개한 회사는?", "BERT는 2018년 구글이 공개한 모델이다.", "구글"),
    ("상자에 사과가 몇 개 들어 있나?", "그 상자에는 사과가 세 개 들어 있었다.", "세 개"),
    ("집회에 모인 사람은 몇 명인가?", "광장 집회에는 십여 명이 모였다.", "십여 명"),
    ("토지를 쓴 작가는 누구인가?", "소설 토지는 박경리가 1969년부터 썼다.", "박경리"),
    ("임종석이 검거된 곳은 어디인가?", "임종석은 경희대학교 학생회관에서 경찰에 검거되었다.", "경희대학교 학생회관"),
    ("YOLO 논문을 쓴 사람은?", "YOLO 논문은 Joseph Redmon이 2016년에 발표했다.", "Joseph Redmon"),
    ("메타가 2023년 7월에 공개한 모델의 이름은?", "2023년 7월 메타는 오픈 소스 모델 ‘라마 2’를 공개했다.", "라마 2"),
    ("트랜스포머가 제안된 해는?", "트랜스포머는 2017년 구글의 논문에서 제안되었다.", "2017년"),
    ("라마 3는 몇 가지 크기로 나왔나?", "라마 3는 8B와 70B의 두 가지 크기로 공개되었다.", "두 가지"),
    ("한국 전쟁이 일어난 해는 언제인가?", "한국 전쟁은 1950년 6월에 일어났다.", "1950년"),
    ("번디가 졸업한 대학교는?", "번디는 1972년 워싱턴 대학교를 졸업했다.", "워싱턴 대학교"),
    ("경찰이 투입한 인원은 몇 명인가?", "경찰은 사복 경찰 22명을 학교에 투입했다.", "22명"),
    ("논문을 발표한 학회는 어디인가?", "그 논문은 2014년 NIPS 학회에서 발표되었다.", "NIPS 학회"),
    ("반기문과 경쟁한 사람은 누구인가?", "2006년 반기문은 샤시 타루르와 사무총장직을 놓고 경쟁했다.", "샤시 타루르"),
]


def tiny_examples() -> list[Example]:
    out = []
    for i, (q, s, a) in enumerate(TINY):
        start = s.index(a)
        out.append(Example(2 * i, str(i), q, s, a, start, start + len(a)))
    return out


@pytest.mark.parametrize(("question", "kind"), [
    ("헤이그가 정계로 돌아간 해는?", AnswerType.WHEN),
    ("몇 명이 참가했나?", AnswerType.HOW_MANY),
    ("누가 대표로 파견되었나?", AnswerType.WHO),
    ("임종석을 검거한 장소는 어디인가?", AnswerType.WHERE),
    ("메타가 공개한 모델의 이름은?", AnswerType.CALLED),
    ("어느 정당의 후보였나?", AnswerType.WHICH),
    ("번디가 졸업한 대학교는?", AnswerType.WHAT),
    ("YOLO란 무엇인가?", AnswerType.DEFINITION),
    ("BERT는 뭐야?", AnswerType.DEFINITION),
    ("GAN은 왜 학습이 불안정해?", AnswerType.REASON),
    ("드롭아웃은 어떻게 작동해?", AnswerType.METHOD),
    ("What does the generator in a GAN do?", AnswerType.METHOD),
    ("CNN과 RNN의 차이는?", AnswerType.COMPARISON),
])
def test_answer_types(question: str, kind: AnswerType) -> None:
    assert answer_type(question) == kind


def test_the_split_never_admits_odd_articles() -> None:
    assert {fold(a) for a in range(0, 16, 2)} == {"train", "validation"}
    with pytest.raises(ValueError, match="held back"):
        fold(3)


def test_trained_on_the_tiny_dataset_it_finds_the_spans() -> None:
    items = build(tiny_examples())
    assert all(it.y is not None and it.y.sum() == 1 for it in items)  # every gold span is a candidate
    model = SpanModel.from_dict(fit(items))
    hits = 0
    for it in items:
        p = model.probabilities(it.X)
        assert p.shape == (len(it.texts),) and ((0.0 <= p) & (p <= 1.0)).all()
        hits += it.texts[int(np.argmax(p))] == it.example.answer
    assert hits >= 0.8 * len(items)


def test_training_is_deterministic() -> None:
    first = json.dumps(fit(build(tiny_examples())), sort_keys=True)
    second = json.dumps(fit(build(tiny_examples())), sort_keys=True)
    assert first == second


def test_a_model_file_for_other_features_is_refused(tmp_path) -> None:  # noqa: ANN001
    params = fit(build(tiny_examples()))
    params["features"] = params["features"][:-1]
    path = tmp_path / "model.json"
    path.write_text(json.dumps(params), encoding="utf-8")
    with pytest.raises(ValueError, match="retrain"):
        SpanModel.load(path)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="not a short-answer model"):
        SpanModel.load(path)


def note_sentence(needle: str) -> str:
    for note in sorted(LIVE_NOTES.glob("*.txt")):
        text = note.read_text(encoding="utf-8")
        for s in split(text):
            if needle in text[s.start:s.end]:
                return text[s.start:s.end]
    raise AssertionError(f"no sentence of the notes holds {needle!r}")


def test_the_committed_model_answers_factoid_questions_about_the_notes() -> None:
    meta = SpanModel.load(DEFAULT_MODEL).meta
    assert 0.0 < meta["threshold"] < 1.0 and meta["metrics"]["cross_validated"]["questions"] > 3000
    sentence = note_sentence("BERT는 2018년")
    span = short_answer("구글이 BERT를 공개한 해는?", sentence)
    assert span is not None and span.text == "2018년"
    assert sentence[span.start:span.end] == span.text and 0.0 < span.probability <= 1.0
    sentence = note_sentence("오픈 소스 LLM ‘라마 2’")
    span = short_answer("메타가 오픈 소스 LLM 라마 2를 공개한 때는 언제인가?", sentence)
    assert span is not None and span.text in ("2023년", "2023년 7월")  # "언제" takes the year or the month
    sentence = note_sentence("동시에 두 개의 모델을 훈련")
    span = short_answer("GAN은 동시에 몇 개의 모델을 훈련해?", sentence)  # a count gets the count
    assert span is not None and span.text == "두 개"
    sentence = note_sentence("네 가지 크기를 제공")
    span = short_answer("라마 2는 몇 가지 크기를 제공하나?", sentence)
    assert span is not None and span.text == "네 가지"


def test_the_committed_model_gives_no_span_to_definitions_and_explanations() -> None:
    sentence = note_sentence("BERT는 2018년")
    assert short_answer("BERT란 무엇인가?", sentence) is None
    assert short_answer("BERT는 왜 사전 학습을 해?", sentence) is None
    assert answer_type("BERT란 무엇인가?") in NOT_FACTOID


def test_the_first_sentence_with_a_short_answer_is_taken() -> None:
    other = note_sentence("네 가지 크기를 제공")
    count = note_sentence("동시에 두 개의 모델을 훈련")
    found = first_short_answer("GAN은 동시에 몇 개의 모델을 훈련해?", [count, other])
    assert found is not None and found[0] == 0 and found[1].text == "두 개"
    assert first_short_answer("GAN이란 무엇인가?", [count, other]) is None
    assert first_short_answer("GAN은 동시에 몇 개의 모델을 훈련해?", []) is None


def test_a_span_the_question_repeats_is_never_the_answer() -> None:
    """The question asks about "BERT", not for it: the heading-like span is left out, and a lone
    weak candidate keeps its low probability instead of a share of 1.0."""
    sentence = "BERT는 위키피디아와 BooksCorpus 같은 텍스트 데이터로 사전 훈련된 언어 모델이다."
    ranked = default_model().rank("BERT는 어떤 데이터로 학습됐어?", sentence)
    assert ranked
    assert all(sentence[c.start:c.end].lower() != "bert" for c, _ in ranked)
    assert short_answer("What does the discriminator in a GAN do?", "GAN") is None


def test_the_verb_hae_is_not_a_year() -> None:
    assert answer_type("GAN은 어떤 두 네트워크로 구성되고 각각 무슨 일을 해?") != AnswerType.WHEN
    assert answer_type("헤이그가 정계로 돌아간 해는?") == AnswerType.WHEN
