"""A damaged live snapshot (truncated FAISS index, garbage chunk table, missing meta.json): the
service says which snapshot is damaged and why, keeps answering from the previous good one,
at start-up and while running, and `rag ingest` repairs the index by publishing a good one."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from ingest.pipeline import Ingestor
from rag.errors import SnapshotDamaged
from rag.settings import Settings
from rag.snapshots.format import META, read_current, snapshots_dir
from rag.snapshots.store import SnapshotStore
from rag.snapshots.verify import verify_snapshot
from tests.server import NO_BUILT_LLM, ROOT, Server, build_index, run_server

QUESTION = "YOLO는 객체 탐지를 몇 단계로 처리하는 알고리즘이야?"


def truncate_faiss(snap: Path) -> None:
    path = snap / "faiss.index"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def garble_sqlite(snap: Path) -> None:
    path = snap / "chunks.sqlite"
    path.write_bytes(os.urandom(path.stat().st_size))


def delete_meta(snap: Path) -> None:
    (snap / META).unlink()


DAMAGES: list[tuple[str, Callable[[Path], None], str]] = [
    ("truncated FAISS index", truncate_faiss, "faiss.index"),
    ("garbage chunk table", garble_sqlite, "chunks.sqlite"),
    ("meta.json missing", delete_meta, "meta.json"),
]


def publish(settings: Settings, tag: str) -> str:
    """A new live snapshot, by adding a note."""
    (settings.notes_dir / f"extra-{tag}.md").write_text(f"# 추가 노트 {tag}\n\n{tag} 단계에서 추가한 노트이다.\n",
                                                        encoding="utf-8")
    summary = Ingestor(settings, progress=False).sync()
    assert summary.published
    return str(summary.snapshot)


def damage_live(settings: Settings, damage: Callable[[Path], None], reason: str) -> tuple[str, str]:
    """Damage the live snapshot; (damaged id, the good one before it). The store falls back."""
    previous = read_current(settings.index_dir)
    bad = publish(settings, reason.split(".")[0])
    damage(snapshots_dir(settings.index_dir) / bad)
    with pytest.raises(SnapshotDamaged, match=reason.replace(".", r"\.")):
        verify_snapshot(snapshots_dir(settings.index_dir) / bad)
    store = SnapshotStore(settings.index_dir)
    assert store.open_live().id == previous and reason in store.damaged[bad]
    return bad, str(previous)


def rag_ingest(settings: Settings) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")} | NO_BUILT_LLM
    env.update(RAG_NOTES_DIR=str(settings.notes_dir), RAG_INDEX_DIR=str(settings.index_dir), RAG_EMBEDDER="offline",
               RAG_KEEP_SNAPSHOTS=str(settings.keep_snapshots), HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-m", "api.cli", "ingest", "--json"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    assert "damaged, rebuilding" in out.stderr  # it says why it rebuilt
    return json.loads(out.stdout)


def served_by(server: Server, bad: str, good: str, reason: str) -> None:
    with server.client() as c:
        health = c.get("/health").json()
        assert health["status"] == "ok" and health["snapshot"] == good, health
        assert reason in health["damaged"][bad], health["damaged"]
        r = c.post("/ask", json={"question": QUESTION})
        assert r.status_code == 200 and r.headers["x-snapshot-id"] == good and not r.json()["refused"]
    assert f"snapshot {bad} is damaged" in server.output()


def repaired(server: Server, settings: Settings, bad: str) -> str:
    summary = rag_ingest(settings)
    new = read_current(settings.index_dir)
    assert summary["published"] and summary["snapshot"] == new and new != bad
    verify_snapshot(snapshots_dir(settings.index_dir) / str(new))
    with server.client() as c:
        assert c.get("/health").json()["snapshot"] == new
        assert c.post("/ask", json={"question": QUESTION}).headers["x-snapshot-id"] == new
    return str(new)


@pytest.mark.slow
def test_damaged_snapshots_are_reported_skipped_and_repaired(tmp_path: Path) -> None:
    settings = build_index(tmp_path).model_copy(update={"keep_snapshots": 10})
    first, *hot = DAMAGES
    bad, good = damage_live(settings, first[1], first[2])  # damaged before the service starts
    with run_server(settings, env={"RAG_KEEP_SNAPSHOTS": "10"}) as server:
        served_by(server, bad, good, first[2])
        repaired(server, settings, bad)
        for _, damage, reason in hot:  # damaged while it runs: the next request notices
            bad, good = damage_live(settings, damage, reason)
            served_by(server, bad, good, reason)
            repaired(server, settings, bad)


@pytest.mark.slow
def test_damage_that_keeps_sizes_plausible_is_caught_and_repaired(tmp_path: Path) -> None:
    """A few missing bytes (the sizes written into meta.json catch it) and an embedder file that
    no longer loads (garbled, or saved by an older version): the next ingest, even with no
    change to the notes, treats the snapshot as absent and publishes a good one."""
    settings = build_index(tmp_path)
    live = snapshots_dir(settings.index_dir) / str(read_current(settings.index_dir))
    for name in ("faiss.index", "chunks.sqlite", "bm25/params.index.json", "embedder/lsa.joblib"):
        path = live / name
        data = path.read_bytes()
        path.write_bytes(data[:-3])
        with pytest.raises(SnapshotDamaged, match="truncated"):
            verify_snapshot(live)
        path.write_bytes(data)
    verify_snapshot(live)
    model = live / "embedder" / "lsa.joblib"
    model.write_bytes(os.urandom(model.stat().st_size))  # same size, unreadable
    with pytest.raises(SnapshotDamaged, match="embedder/ is unreadable"):
        verify_snapshot(live)
    summary = Ingestor(settings, progress=False).sync()
    assert summary.published and summary.snapshot != live.name
    assert SnapshotStore(settings.index_dir).open_live().id == summary.snapshot


def test_with_nothing_usable_requests_fail_fast_until_a_repair(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every snapshot damaged: a clear NoIndex (503) each time, without re-reading every snapshot
    on every request; the first request after a publish serves it."""
    from rag.errors import NoIndex
    from rag.live import LiveSnapshot
    from rag.snapshots.snapshot import Snapshot

    settings = build_index(tmp_path)
    only = snapshots_dir(settings.index_dir) / str(read_current(settings.index_dir))
    faiss = (only / "faiss.index").read_bytes()
    (only / "faiss.index").write_bytes(faiss[:100])
    opened = []
    real_open = Snapshot.open.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(Snapshot, "open", classmethod(lambda cls, *a: opened.append(1) or real_open(cls, *a)))
    live = LiveSnapshot.from_settings(settings)
    for _ in range(50):
        with pytest.raises(NoIndex, match="run `rag ingest` to repair"):
            live.get()
    assert len(opened) == 1 and "faiss.index" in live.damaged[only.name]
    repaired = Ingestor(settings, progress=False).sync()
    assert repaired.published and live.get().id == repaired.snapshot
