"""A GGUF's own chat template wins over the configured fallback (the tiny generated GGUF has one)."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.tinymodels import build_tiny_gguf


def test_gguf_template_is_used_and_logged(make_settings, tmp_path: Path, caplog) -> None:  # noqa: ANN001
    pytest.importorskip("llama_cpp")
    from rag.generators.llamacpp import LlamaCppGenerator

    gguf = build_tiny_gguf(tmp_path / "tiny.gguf")
    settings = make_settings(llm_model=str(gguf), llm_ctx=256, llm_max_tokens=16, llm_threads=1, llm_chat_format="gemma")
    with caplog.at_level(logging.INFO, logger="rag.generators.llamacpp"):
        generator = LlamaCppGenerator(settings)
    assert generator.chat_template == "gguf" and generator.llm.chat_format == "chat_template.default"
    assert any("chat template from the GGUF" in r.getMessage() for r in caplog.records)
    out = generator.llm.create_chat_completion(messages=[{"role": "user", "content": "안녕"}], max_tokens=4)
    assert out["choices"][0]["message"]["role"] == "assistant"
