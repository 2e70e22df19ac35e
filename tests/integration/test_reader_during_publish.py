"""A reader process keeps searching while snapshots are published: never an error, never partial."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ingest.pipeline import Ingestor

READER = textwrap.dedent(
    """
    import json, sys, time
    from rag.live import LiveSnapshot
    from rag.search import Searcher
    from rag.settings import Settings
    settings = Settings(index_dir=sys.argv[1], embedder="offline", _env_file=None)
    live = LiveSnapshot.from_settings(settings)
    searcher = Searcher(settings, live.get)
    seen, errors, queries = set(), [], 0
    deadline = time.time() + float(sys.argv[2])
    while time.time() < deadline:
        try:
            snap = live.get()
            assert len(snap.chunks) == len(snap.dense) == snap.meta["chunks"]
            result = searcher.run("YOLO 객체 탐지 방법", k=3, snapshot=snap)
            assert result.passages
            seen.add(snap.id)
            queries += 1
        except Exception as exc:
            errors.append(repr(exc))
    print(json.dumps({"seen": sorted(seen), "errors": errors[:5], "n_errors": len(errors), "queries": queries}))
    """
)


@pytest.mark.slow
def test_reader_never_fails_while_snapshots_are_published(make_settings, notes_copy: Path) -> None:
    settings = make_settings()
    Ingestor(settings, progress=False).sync()
    reader = subprocess.Popen([sys.executable, "-c", READER, str(settings.index_dir), "12"], stdout=subprocess.PIPE, text=True)
    time.sleep(3)
    published = 0
    for i in range(4):
        (notes_copy / f"new{i}.md").write_text(f"# 새 노트 {i}\n\nYOLO 객체 탐지 실험 {i}회차 기록이다.\n", encoding="utf-8")
        published += Ingestor(settings, progress=False).sync().published
    out, _ = reader.communicate(timeout=60)
    report = json.loads(out.strip().splitlines()[-1])
    assert report["n_errors"] == 0, report["errors"]
    assert published == 4 and len(report["seen"]) >= 2 and report["queries"] > 20
