"""English claims citing Korean notes: shared words fail across scripts, so the citation check
compares the claim with the passage's sentences through the real multilingual-e5-small
(`rag.citations`, threshold CROSS_LINGUAL_THRESHOLD)."""
from __future__ import annotations

import pytest

from rag.citations import verify
from rag.embedders.e5 import BuiltE5Embedder
from rag.language.glossary import load_glossary
from rag.settings import Settings
from rag.types import Chunk, Passage

pytestmark = [pytest.mark.model]

GAN = ("GAN은 크게 3가지 Unconditional GAN, Conditional GAN, Super Resolution으로 분류된다.\n"
       "초기 GAN의 아키텍처는 다음과 같이 Generator(생성자)와 Discriminator(판별자)로 구성되었다.")
YOLO = "YOLO는 객체 탐지를 단일 단계로 처리하는 알고리즘이다."


@pytest.fixture(scope="module")
def e5() -> BuiltE5Embedder:
    return BuiltE5Embedder.from_settings(Settings(embedder="e5", _env_file=None))  # type: ignore[call-arg]


def passage(doc: str, text: str) -> Passage:
    return Passage(Chunk(doc=doc, text=text, start=0, end=len(text), section=None, page=None), 1.0)


def test_english_claims_are_checked_against_korean_sentences(e5: BuiltE5Embedder) -> None:
    passages = [passage("gan.txt", GAN), passage("yolo.txt", YOLO)]
    answer = ("GANs are classified into three kinds: unconditional, conditional and super resolution [1]. "
              "YOLO was trained on 1,000 GPUs by Google in 2019 [2].")
    without = verify(answer, passages, load_glossary())
    checked = verify(answer, passages, load_glossary(), embedder=e5)
    assert [s.unsupported for s in checked.sentences] == [False, True]  # stated / not stated
    assert [c.doc for c in checked.citations] == ["gan.txt"] and checked.removed == [2]
    assert sum(not s.unsupported for s in without.sentences) <= 1  # what shared words alone achieve


def test_a_claim_without_a_marker_is_attributed_to_the_passage_that_supports_it(e5: BuiltE5Embedder) -> None:
    """A small model's correct sentence with no [n] gets the passage that supports it (the same
    tests as a cited claim); an unsupported one stays unsupported; a wrong marker is not fixed."""
    passages = [passage("yolo.txt", YOLO), passage("gan.txt", GAN)]
    bare = ("The first GAN architecture was made of a generator and a discriminator. "
            "GANs were invented by a team at Google in 2019.")
    checked = verify(bare, passages, load_glossary(), embedder=e5)
    assert [s.unsupported for s in checked.sentences] == [False, True]
    assert [c.doc for c in checked.citations] == ["gan.txt"] and checked.sentences[0].citations == [1]
    wrong = verify("YOLO handles object detection in a single stage [2].", passages, load_glossary(), embedder=e5)
    assert wrong.sentences[0].unsupported and wrong.removed == [2]
    korean = verify("YOLO는 객체 탐지를 단일 단계로 처리한다.", passages, load_glossary())
    assert korean.sentences[0].citations == [1] and not korean.sentences[0].unsupported


def test_every_e5_runtime_counts_as_multilingual() -> None:
    from rag.citations import MULTILINGUAL_KINDS
    from rag.embedders.e5_onnx import OnnxE5Embedder

    assert {BuiltE5Embedder.kind, OnnxE5Embedder.kind} <= MULTILINGUAL_KINDS
