"""The `rag` command as users run it: real processes, JSON on stdout, exit codes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def rag(*args: str, index: Path, notes: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RAG_INDEX_DIR": str(index), "RAG_NOTES_DIR": str(notes), "RAG_EMBEDDER": "offline",
           "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


def test_ingest_search_ask_json(tmp_path: Path, notes_copy: Path) -> None:
    index = tmp_path / "index"
    first = rag("ingest", "--json", index=index, notes=notes_copy)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert set(summary) >= {"added", "updated", "removed", "unchanged", "failed", "chunks", "embedded", "snapshot", "seconds"}
    assert summary["added"] == 5 and summary["chunks"] > 50 and summary["failed"] == []
    again = json.loads(rag("ingest", "--json", index=index, notes=notes_copy).stdout)
    assert again["embedded"] == 0 and again["snapshot"] == summary["snapshot"]

    found = rag("search", "GAN의 생성자와 판별자", "-k", "3", "--json", index=index, notes=notes_copy)
    result = json.loads(found.stdout)
    assert not result["refused"] and len(result["passages"]) == 3 and "total" in result["timings_ms"]

    asked = rag("ask", "GAN에서 판별자는 무슨 일을 해?", "--json", index=index, notes=notes_copy)
    answer = json.loads(asked.stdout)
    assert set(answer) >= {"answer", "refused", "generator", "citations", "sentences", "timings_ms"}
    assert answer["generator"] == "extractive" and answer["citations"]
    assert set(answer["citations"][0]) == {"n", "doc", "section", "page", "start", "end", "quote", "supported"}
    assert {"retrieval", "generation", "total"} <= set(answer["timings_ms"])

    streamed = rag("ask", "GAN에서 판별자는 무슨 일을 해?", "--stream", index=index, notes=notes_copy)
    assert streamed.returncode == 0 and "[1]" in streamed.stdout


def test_bad_input_exits_non_zero_with_a_reason(tmp_path: Path, notes_copy: Path) -> None:
    index = tmp_path / "index"
    (notes_copy / "broken.pdf").write_bytes(b"%PDF-1.4 nope")
    out = rag("ingest", "--json", index=index, notes=notes_copy)
    assert out.returncode == 1
    summary = json.loads(out.stdout)
    assert summary["failed"][0]["path"] == "broken.pdf" and summary["added"] == 5
    assert "broken.pdf" in out.stderr

    missing = rag("ingest", str(tmp_path / "nowhere"), index=tmp_path / "other", notes=notes_copy)
    assert missing.returncode == 1 and "does not exist" in missing.stderr

    empty = rag("ask", "   ", index=index, notes=notes_copy)
    assert empty.returncode == 2 and "empty" in empty.stderr
    wrong = rag("search", "x", "--retriever", "magic", index=index, notes=notes_copy)
    assert wrong.returncode == 2 and "retriever" in wrong.stderr
    no_index = rag("search", "GAN", index=tmp_path / "no-index", notes=notes_copy)
    assert no_index.returncode == 2 and "rag ingest" in no_index.stderr
