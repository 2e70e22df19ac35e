"""The reader's training examples asked against a real index of the notes (offline embedder):
each variant gives what its docstring promises (rag.reading.dataset)."""
from __future__ import annotations

import pytest

from rag.reading import dataset
from rag.reading.dataset import Question, Variant

DOC = "003_47161544f8428e78.txt"  # the note on Llama, which says how many tokens Llama 2 learned from
QUESTION = Question("t1", "라마2는 몇 개의 토큰으로 학습했어?", ("2조",), DOC)


@pytest.fixture(scope="module")
def wiring(notes_settings):  # noqa: ANN001, ANN201 - rag.wiring.Wiring
    from rag.wiring import Wiring

    return Wiring(notes_settings)


def asked(wiring, variant: Variant) -> dataset.Examples:  # noqa: ANN001
    out = dataset.Examples()
    dataset.ask(wiring.searcher, wiring.live.get(), QUESTION, variant, other="001_ad38356643d53f32.txt", out=out)
    return out


def test_own_marks_the_sentence_holding_the_answer(wiring) -> None:  # noqa: ANN001
    out = asked(wiring, Variant.OWN)
    assert out.meta and out.meta[0]["answerable"] == 1
    assert int(out.labels[0].sum()) >= 1


def test_without_answer_keeps_the_topic_but_not_the_answer(wiring) -> None:  # noqa: ANN001
    own, near = asked(wiring, Variant.OWN), asked(wiring, Variant.WITHOUT_ANSWER)
    assert near.meta and near.meta[0]["answerable"] == 0 and near.meta[0]["variant"] == int(Variant.WITHOUT_ANSWER)
    assert not near.labels[0].any()
    # the same retrieval, less exactly the sentences that hold the answer
    assert 0 < len(near.labels[0]) < len(own.labels[0])
    assert len(own.labels[0]) - len(near.labels[0]) <= int(own.labels[0].sum()) + 2  # list items go with their intro


def test_without_own_leaves_the_document_out(wiring) -> None:  # noqa: ANN001
    out = asked(wiring, Variant.WITHOUT_OWN)
    assert out.meta and all(m["answerable"] == 0 for m in out.meta)
