"""max_tokens and stop on finished answers (api.openai_budget), with Kiwi morpheme counts."""
from __future__ import annotations

from api.openai_budget import shape
from rag.answer import Answer, Citation, Sentence
from rag.language.korean import morpheme_count

PREAMBLE = "The notes are in Korean; the answer below is quoted from them."
S1, S2 = "BERT는 2018년 구글이 공개한 모델이다. [1]", "MLM과 NSP로 사전 학습되었다. [2]"


def answer(preamble: bool = False) -> Answer:
    body = f"{S1} {S2}"
    text = f"{PREAMBLE}\n{body}" if preamble else body
    cites = [Citation(n, "a.txt", None, None, 0, 10, "quote", True, "BERT 정리") for n in (1, 2)]
    return Answer(text, False, "extractive", cites, [Sentence(S1, [1], False), Sentence(S2, [2], False)])


def test_no_limit_keeps_everything() -> None:
    shaped = shape(answer(), None, [], morpheme_count)
    assert shaped.finish_reason == "stop" and shaped.text == f"{S1} {S2}" and [c.n for c in shaped.citations] == [1, 2]
    assert shaped.content.endswith("Sources:\n[1] BERT 정리 (a.txt)\n[2] BERT 정리 (a.txt)")


def test_max_tokens_keeps_whole_sentences_and_their_sources() -> None:
    full = morpheme_count(shape(answer(), None, [], morpheme_count).content)
    shaped = shape(answer(), full - 1, [], morpheme_count)
    assert shaped.finish_reason == "length" and shaped.text == S1 and [c.n for c in shaped.citations] == [1]
    assert morpheme_count(shaped.content) <= full - 1


def test_a_preamble_alone_is_never_the_answer() -> None:
    budget = morpheme_count(f"{PREAMBLE}\n{S1}") + 3  # room for the preamble, not for a sentence and its source
    shaped = shape(answer(preamble=True), budget, [], morpheme_count)
    assert shaped.finish_reason == "length" and shaped.citations == [] and morpheme_count(shaped.content) <= budget
    assert shaped.text != PREAMBLE and shaped.text.startswith("The notes are")


def test_stop_cuts_before_the_sequence() -> None:
    shaped = shape(answer(), None, ["구글"], morpheme_count)
    assert shaped.finish_reason == "stop" and shaped.text == "BERT는 2018년" and shaped.citations == []
