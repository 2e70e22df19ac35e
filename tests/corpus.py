"""The notes the tests were written for: the files of ``data/notes`` that the QA test set cites.

Maintainers add documents to ``data/notes`` (README.md's workflow); the tests copy, index and
count only these five, so a note added beside them changes nothing the tests expect. ``NOTES``
is a private copy made once per test process (removed at exit), so no test can alter the
repository's notes either.
"""
from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIVE_NOTES = ROOT / "data" / "notes"
TESTSET = ROOT / "data" / "qa" / "testset.jsonl"
# For a child process whose RAG_ variables are cleared: `auto` never picks the packaged LLM that
# `make test` builds into the model cache (tests name their generator; see tests/conftest.py).
NO_BUILT_LLM = {"RAG_LLM_PACKAGED": "false"}


def cited_notes(testset: Path = TESTSET) -> list[str]:
    """File names the test set's items cite (``source``, ``source2``), sorted."""
    names = set()
    for line in testset.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            names.update(n for n in (item.get("source"), item.get("source2")) if n)
    return sorted(names)


def _copy() -> Path:
    target = Path(tempfile.mkdtemp(prefix="rag-test-notes-"))
    atexit.register(shutil.rmtree, target, ignore_errors=True)
    for name in cited_notes():
        shutil.copy2(LIVE_NOTES / name, target / name)
    return target


NOTES = _copy()
