"""An ingest killed with SIGKILL at 20 moments (before, during and after embedding, while the
snapshot is written, while it is published, while old ones are pruned). After every kill the
index opens on its last good snapshot and answers; the next ingest completes, and its chunks
and documents are those of a clean build of the same files.

The ingest runs in a real child process (a small driver around ``Ingestor.sync``) that prints a
marker at each moment and parks at the chosen one, so most kills land exactly there; three land
at time offsets instead (during start-up and inside embedding)."""
from __future__ import annotations

import hashlib
import os
import queue
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

from ingest.pipeline import Ingestor
from rag.settings import Settings
from rag.snapshots.format import CHUNKS_DB, list_snapshot_ids, read_chunks, read_current, snapshots_dir
from rag.snapshots.store import SnapshotStore
from rag.snapshots.verify import verify_snapshot
from tests.server import ROOT, build_index

DRIVER = textwrap.dedent('''
    import os, sys, time, types
    notes, index, target = sys.argv[1], sys.argv[2], sys.argv[3]
    def mark(name):
        sys.stdout.write(name + "\\n"); sys.stdout.flush()
        if name == target:
            time.sleep(300)  # parked: the parent kills it here
    import ingest.snapshot_writer as sw
    from ingest.cache import EmbeddingCache
    from ingest.pipeline import Ingestor
    from rag.dense.faiss_index import FaissIndex
    from rag.embedders.offline import OfflineEmbedder
    from rag.lexical.bm25 import BM25Index
    from rag.settings import Settings
    def wrap(owner, name, before=None, after=None, static=False):
        original = getattr(owner, name)
        def wrapper(*args, **kwargs):
            before and mark(before(*args) if callable(before) else before)
            out = original(*args, **kwargs)
            after and mark(after)
            return out
        setattr(owner, name, staticmethod(wrapper) if static else wrapper)
    wrap(EmbeddingCache, "put_tokens", after="tokens-cached")
    wrap(EmbeddingCache, "put_vectors", after="vectors-cached")
    wrap(FaissIndex, "save", after="faiss-written")
    wrap(BM25Index, "save", after="bm25-written")
    wrap(sw.SnapshotWriter, "_write_db", after="db-written", static=True)
    wrap(OfflineEmbedder, "save", after="embedder-copied")
    wrap(sw, "fsync_dir", before=lambda path: "fsync:" + path.name.split("-")[0])
    first = []
    def dumps(*a, **k):
        first or (first.append(1), mark("db-mid-transaction"))
        return json_dumps(*a, **k)
    def dump(*a, **k):
        mark("meta-writing")  # meta.json is open and still empty
        return json_dump(*a, **k)
    json_dumps, json_dump = sw.json.dumps, sw.json.dump
    sw.json = types.SimpleNamespace(dumps=dumps, dump=dump)
    wrap(os, "replace", before=lambda src, dst: "current-replacing" if str(dst).endswith("CURRENT") else "replace")
    unlinks = []
    def unlink(*a, **k):
        unlinks.append(1)
        len(unlinks) == 3 and mark("prune-mid-rmtree")
        return os_unlink(*a, **k)
    os_unlink = os.unlink
    wrap(sw.SnapshotWriter, "prune", before=lambda *_: setattr(os, "unlink", unlink) or "pruning")
    mark("started")
    settings = Settings(notes_dir=notes, index_dir=index, embedder="offline", _env_file=None)
    Ingestor(settings, progress=False).sync(on_stage=lambda stage: mark("stage:" + stage))
    mark("done")
''')

# (moment, kill trigger, change) -- trigger: ("park", marker) | ("after", marker, seconds) | ("spawn", seconds)
# change: "new" adds a note with new text (so embedding really happens), "move" renames a note (cached text).
MOMENTS: list[tuple[str, tuple, str]] = [
    ("interpreter start-up", ("spawn", 0.3), "move"),
    ("before loading", ("park", "stage:load"), "move"),
    ("before splitting", ("park", "stage:split"), "move"),
    ("before embedding", ("park", "stage:embed"), "new"),
    ("during embedding (+0.6 s)", ("after", "stage:embed", 0.6), "new"),
    ("during embedding (+2.0 s)", ("after", "stage:embed", 2.0), "new"),
    ("tokens cached, vectors not", ("park", "tokens-cached"), "new"),
    ("after embedding", ("park", "vectors-cached"), "new"),
    ("before writing", ("park", "stage:write"), "move"),
    ("FAISS index written", ("park", "faiss-written"), "move"),
    ("BM25 written", ("park", "bm25-written"), "move"),
    ("chunk table mid-transaction", ("park", "db-mid-transaction"), "move"),
    ("chunk table written", ("park", "db-written"), "move"),
    ("meta.json open, empty", ("park", "meta-writing"), "move"),
    ("complete, before rename", ("park", "fsync:.tmp"), "move"),
    ("renamed, CURRENT not moved", ("park", "stage:publish"), "move"),
    ("CURRENT temp written, not replaced", ("park", "current-replacing"), "move"),
    ("CURRENT replaced, not synced", ("park", "fsync:index"), "move"),
    ("pruning, mid-delete", ("park", "prune-mid-rmtree"), "move"),
    ("all done, before exit", ("park", "done"), "move"),
]
PUBLISHED_AT = {"fsync:index", "pruning", "prune-mid-rmtree", "done"}  # CURRENT has moved by these markers
MOVABLE = "003_47161544f8428e78.txt"


def run_and_kill(settings: Settings, trigger: tuple, log: Path) -> list[str]:
    """Start the driver, SIGKILL it at ``trigger``; the markers it printed, in order."""
    target = trigger[1] if trigger[0] == "park" else ""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    with open(log, "ab") as err:
        proc = subprocess.Popen([sys.executable, "-c", DRIVER, str(settings.notes_dir), str(settings.index_dir),
                                 target], stdout=subprocess.PIPE, stderr=err, text=True, env=env, cwd=ROOT)
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=lambda: ([lines.put(s.strip()) for s in proc.stdout], lines.put(None)),  # type: ignore[union-attr]
                     daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + 90
    try:
        if trigger[0] == "spawn":
            time.sleep(trigger[1])
        else:
            while (line := lines.get(timeout=max(0.1, deadline - time.monotonic()))) is not None:
                seen.append(line)
                if line == trigger[1]:
                    break
            assert seen and seen[-1] == trigger[1], f"the ingest ended before {trigger[1]}: {seen}"
            if trigger[0] == "after":
                time.sleep(trigger[2])
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, f"the ingest was not killed (exit {proc.returncode}): {seen}"
    while (line := lines.get(timeout=10)) is not None:
        seen.append(line)
    return seen


def change(notes: Path, kind: str, i: int) -> None:
    if kind == "new":
        (notes / f"fault-{i}.md").write_text(f"# 강제 종료 실험 {i}\n\n{i}번째 실험에서 추가된 노트이다. "
                                             f"식별자 {uuid.uuid4().hex} 를 기록한다.\n", encoding="utf-8")
        return
    moved = notes / MOVABLE.replace(".txt", "-moved.txt")
    src, dst = (notes / MOVABLE, moved) if (notes / MOVABLE).exists() else (moved, notes / MOVABLE)
    src.rename(dst)


def rows(index_dir: Path) -> tuple[list[tuple], list[tuple]]:
    """(chunks as (doc, start, end, text), documents as (doc, hash)) of the live snapshot."""
    chunks, docs = read_chunks(snapshots_dir(index_dir) / str(read_current(index_dir)) / CHUNKS_DB)
    return [(c.doc, c.start, c.end, c.text) for c in chunks], [(d["doc"], d["hash"]) for d in docs]


def clean_build(settings: Settings, work: Path, cache: dict[str, tuple]) -> tuple[list[tuple], list[tuple]]:
    """Chunks and documents of a build from scratch (fresh index dir) of the same files; the fitted
    embedder and the embedding cache are copied in only to save time (they do not decide chunks)."""
    files = sorted(p for p in settings.notes_dir.iterdir())
    key = hashlib.sha256(b"".join(p.name.encode() + p.read_bytes() for p in files)).hexdigest()
    if key not in cache:
        fresh = work / f"clean-{key[:12]}"
        shutil.copytree(settings.index_dir / "embedders", fresh / "embedders", copy_function=os.link)
        shutil.copy(settings.index_dir / "cache.sqlite", fresh / "cache.sqlite")
        summary = Ingestor(settings.model_copy(update={"index_dir": fresh}), progress=False).sync()
        assert summary.published and not summary.failed
        cache[key] = rows(fresh)
    return cache[key]


@pytest.mark.slow
def test_twenty_kills_never_lose_the_index(tmp_path: Path) -> None:
    from api.services import Services

    settings = build_index(tmp_path / "run")
    template_rows = rows(settings.index_dir)
    builds: dict[str, tuple] = {}
    log, report = tmp_path / "driver.log", []
    for i, (moment, trigger, kind) in enumerate(MOMENTS):
        old = read_current(settings.index_dir)
        change(settings.notes_dir, kind, i)
        seen = run_and_kill(settings, trigger, log)
        live = read_current(settings.index_dir)
        if trigger[0] == "park":  # landed exactly: the old snapshot, or the new one once CURRENT moved
            assert (live != old) == (trigger[1] in PUBLISHED_AT), (moment, seen)
        verify_snapshot(snapshots_dir(settings.index_dir) / str(live))
        services = Services.load(settings)  # what the server's lifespan does
        snap = services.live.get()
        assert snap.id == live and not services.live.damaged, (moment, services.live.damaged)
        answer = services.pipeline.run("YOLO는 객체 탐지를 몇 단계로 처리하는 알고리즘이야?", snapshot=snap)
        assert not answer.refused and answer.citations, moment
        summary = Ingestor(settings, progress=False).sync()  # the next ingest: completes, consistent
        assert not summary.failed and summary.published == (live == old), (moment, summary)
        assert rows(settings.index_dir) == clean_build(settings, tmp_path, builds), moment
        assert SnapshotStore(settings.index_dir).open_live().id == read_current(settings.index_dir)
        report.append(f"{i + 1:2d}. {moment:36s} last marker {seen[-1] if seen else '-':22s} "
                      f"live {'new' if live != old else 'old'}")
    for p in settings.notes_dir.glob("fault-*.md"):
        p.unlink()
    if not (settings.notes_dir / MOVABLE).exists():
        change(settings.notes_dir, "move", 0)
    assert Ingestor(settings, progress=False).sync().published
    assert rows(settings.index_dir) == template_rows  # back to the original files: the original index
    index = settings.index_dir
    assert not list(snapshots_dir(index).glob(".tmp-*")) and not list(index.glob(".CURRENT.*.tmp"))
    for snap_id in list_snapshot_ids(index):  # the half-pruned one is gone; every kept one is whole
        verify_snapshot(snapshots_dir(index) / snap_id)
    print("\nkills survived: %d/%d\n%s" % (len(report), len(MOMENTS), "\n".join(report)))
