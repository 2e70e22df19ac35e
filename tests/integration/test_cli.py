"""The `rag` command as users run it: real processes, JSON on stdout, exit codes."""
from __future__ import annotations

import json
import re
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
    assert set(answer["citations"][0]) == {"n", "doc", "title", "section", "section_path", "where", "spans", "page",
                                           "start", "end", "quote", "supported"}
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


def test_plain_output_is_quiet_and_readable(tmp_path: Path, notes_copy: Path) -> None:
    index = tmp_path / "index"
    ingested = rag("ingest", index=index, notes=notes_copy)
    assert ingested.returncode == 0 and ingested.stdout.count("ingest:") == 1  # the summary once
    assert "DEBUG" not in ingested.stderr and "INFO" not in ingested.stderr
    asked = rag("ask", "YOLO는 객체 탐지를 몇 단계로 처리하는 알고리즘이야?", index=index, notes=notes_copy)
    assert asked.returncode == 0 and asked.stderr == "", asked.stderr
    cite = next(line for line in asked.stdout.splitlines() if line.startswith("[1] "))
    # a collection of posts: the section path first, the document's title second
    assert cite.startswith("[1] ") and " — Object Detection (객체 탐지)" in cite and "(000_6894a9c6475e8976.txt)" in cite
    assert not re.search(r"\[\d+:\d+\]", cite)  # no raw [start:end] offsets
    verbose = rag("--verbose", "ask", "YOLO는 객체 탐지를 몇 단계로 처리하는 알고리즘이야?", index=index, notes=notes_copy)
    assert verbose.returncode == 0 and "ms)" in verbose.stderr and "DEBUG bm25s" not in verbose.stderr


def test_help_shows_flags_without_types() -> None:
    for args in ((), ("ask",), ("ingest",), ("feedback", "export")):
        out = rag(*args, "--help", index=Path("/nonexistent"), notes=Path("/nonexistent"))
        assert out.returncode == 0 and "<bool>" not in out.stdout, out.stdout
    assert "--verbose" in rag("--help", index=Path("/x"), notes=Path("/x")).stdout


def test_a_busy_port_is_reported_before_loading(tmp_path: Path) -> None:
    import socket
    import time

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        started = time.monotonic()
        out = rag("serve", "--port", str(port), index=tmp_path / "index", notes=tmp_path / "notes")
        elapsed = time.monotonic() - started
    assert out.returncode == 2 and "already in use" in out.stderr and "RAG_PORT=" in out.stderr, out.stderr
    assert elapsed < 30  # no index or model was loaded first
