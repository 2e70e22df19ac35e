"""The multi-host topology on loopback: a `milvus-lite server`, one ingest service (uvicorn, the
only writer: notes, local snapshots, publishing) and stateless API workers (uvicorn with two
workers, an empty index directory, RAG_INGEST_URL set). Writes sent to a worker go through the
ingest service; searches keep succeeding across a re-index; an ingest killed between filling
the new collection and switching the alias leaves the alias on the last good one; with no
collection left the workers answer 503 with the reason."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import httpx
import pytest

from ingest.pipeline import Ingestor
from rag.milvus import engine
from rag.milvus.source import MilvusSnapshotSource
from rag.settings import Settings
from rag.snapshots.format import read_current
from tests.server import ROOT, assert_error, build_index, run_server

pytestmark = pytest.mark.slow
PREFIX = "topo"


@pytest.fixture(scope="module")
def topology(milvus_server, tmp_path_factory):  # noqa: ANN001, ANN201
    root = tmp_path_factory.mktemp("topology")
    files = build_index(root / "ingest")  # the ingest host: notes and a FAISS-format local index
    backend = {"RAG_INDEX_BACKEND": "milvus", "RAG_MILVUS_URI": milvus_server.uri, "RAG_MILVUS_PREFIX": PREFIX}
    settings = files.model_copy(update={"index_backend": "milvus", "milvus_uri": milvus_server.uri,
                                        "milvus_prefix": PREFIX})
    # nothing changed in the notes, but Milvus lacks the live snapshot: the ingest publishes it
    summary = Ingestor(settings, progress=False).sync()
    assert not summary.published and MilvusSnapshotSource(settings).current_id() == read_current(files.index_dir)
    worker_dirs = Settings(notes_dir=root / "worker" / "notes", index_dir=root / "worker" / "index",  # type: ignore[call-arg]
                           embedder="offline", _env_file=None)
    with run_server(settings, env=backend) as ingest_service, \
            run_server(worker_dirs, workers=2, env={**backend, "RAG_INGEST_URL": ingest_service.url}) as workers:
        yield settings, ingest_service, workers


def _live(settings: Settings) -> str | None:
    return MilvusSnapshotSource(settings).current_id()


def test_workers_serve_from_milvus_with_no_local_files(topology) -> None:  # noqa: ANN001
    settings, _, workers = topology
    with workers.client() as c:
        health = c.get("/health").json()
        assert health["snapshot"] == _live(settings) == read_current(settings.index_dir)
        assert health["index_backend"] == "milvus"
        r = c.get("/search", params={"q": "YOLO는 객체를 어떻게 탐지해?"})
        assert r.status_code == 200 and r.json()["passages"], r.text
        assert r.headers["X-Snapshot-Id"] == health["snapshot"]
        r = c.post("/ask", json={"question": "YOLO에서 그리드 박스는 무슨 일을 해?"})
        assert r.status_code == 200 and r.json()["citations"], r.text
    assert not any(workers.index_dir.glob("snapshots/*")) and not workers.notes_dir.exists()


def test_writes_go_through_the_ingest_service_while_searches_keep_answering(topology) -> None:  # noqa: ANN001
    settings, ingest_service, workers = topology
    before = _live(settings)
    seen: list[tuple[int, str | None]] = []
    stop = threading.Event()

    def load() -> None:
        with workers.client() as c:
            while not stop.is_set():
                r = c.get("/search", params={"q": "트랜스포머의 어텐션은 무엇을 계산해?"})
                seen.append((r.status_code, r.headers.get("X-Snapshot-Id")))

    threads = [threading.Thread(target=load) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)
        body = "# 분산 색인\n\n밀버스 별칭은 새 컬렉션이 채워지고 검증된 뒤에 한 번에 바뀐다.\n".encode()
        with workers.client() as c:
            r = c.post("/documents", headers=workers.admin(), files={"file": ("milvus-alias.md", body)})
            assert r.status_code == 201, r.text
            after = r.json()["snapshot"]
            assert after != before and _live(settings) == after
            assert (ingest_service.notes_dir / "milvus-alias.md").is_file()  # the ingest host has the file
            dup = c.post("/documents", headers=workers.admin(), files={"file": ("copy.md", body)})
            assert_error(dup, 409, "duplicate_document")  # the ingest service's error, passed on as it was
            assert_error(c.post("/documents", files={"file": ("x.md", body)}), 401)  # checked on the worker too
        deadline = time.monotonic() + 15
        # every load thread (each keeps one connection, so one worker) has moved: each worker
        # trusts its last look at the alias for up to a second
        while time.monotonic() < deadline and not (len(seen) >= 6 and all(sid == after for _, sid in seen[-6:])):
            time.sleep(0.2)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert seen and all(status == 200 for status, _ in seen), {s for s, _ in seen}
    ids = [sid for _, sid in seen]
    assert before in ids and after in ids and ids[-1] == after
    with workers.client() as c:
        # each worker looks the alias up at most once a second: a worker the load did not reach
        # may answer one more request from the old collection
        deadline = time.monotonic() + 10
        while True:
            r = c.get("/search", params={"q": "밀버스 별칭은 언제 바뀌어?"}, headers={"Connection": "close"})
            if r.headers.get("X-Snapshot-Id") == after or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert r.headers.get("X-Snapshot-Id") == after, "a worker still serves the old collection after 10 s"
        assert any(p["doc"] == "milvus-alias.md" for p in r.json()["passages"]), r.text
        assert c.delete("/documents/milvus-alias.md", headers=workers.admin()).status_code == 200


DRIVER = textwrap.dedent('''
    import sys, time
    from ingest.milvus_publisher import MilvusPublisher
    from ingest.pipeline import Ingestor
    from rag.settings import Settings
    def parked(self):
        print("filled", flush=True)
        time.sleep(300)  # the parent kills it here: collections complete, alias not switched
    MilvusPublisher.before_switch = parked
    notes, index, uri = sys.argv[1:4]
    settings = Settings(notes_dir=notes, index_dir=index, embedder="offline", index_backend="milvus",
                        milvus_uri=uri, milvus_prefix="{prefix}", _env_file=None)
    Ingestor(settings, progress=False).sync()
''')


def test_an_ingest_killed_before_the_alias_switch_leaves_the_last_good_collection(topology) -> None:  # noqa: ANN001
    settings, _, workers = topology
    before = _live(settings)
    (Path(settings.notes_dir) / "killed-ingest.md").write_text(
        "# 중단된 색인\n\n색인 도중에 프로세스가 죽어도 별칭은 마지막 정상 컬렉션을 가리킨다.\n", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-c", DRIVER.replace("{prefix}", PREFIX), str(settings.notes_dir),
                             str(settings.index_dir), settings.milvus_uri], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stdout.readline().strip() == "filled"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    source = MilvusSnapshotSource(settings)
    assert source.current_id() == before and len(source.snapshot_ids()) >= 2  # a complete, unpublished one
    with workers.client() as c:
        for _ in range(4):
            r = c.get("/search", params={"q": "YOLO는 객체를 어떻게 탐지해?"})
            assert r.status_code == 200 and r.headers["X-Snapshot-Id"] == before
    summary = Ingestor(settings, progress=False).sync()  # the next ingest publishes and prunes
    assert summary.published and _live(settings) == summary.snapshot
    assert len(source.snapshot_ids()) <= settings.keep_snapshots
    names = set(source.client.list_collections())
    assert all(n[: -len(engine.META_SUFFIX)] in names for n in names if n.endswith(engine.META_SUFFIX))


def test_workers_answer_503_when_no_collection_is_left(topology) -> None:  # noqa: ANN001
    settings, _, workers = topology
    client = MilvusSnapshotSource(settings).client
    for name in client.list_collections():
        if name.startswith(PREFIX + "_"):
            client.drop_collection(name)
    time.sleep(1.5)  # the workers look at the alias at most once a second
    with workers.client() as c:
        r = c.get("/search", params={"q": "YOLO는 객체를 어떻게 탐지해?"})
        assert_error(r, 503, "no_index", mentions="rag ingest")
        assert c.get("/health").json()["status"] == "no_index"
    # nothing changed in the notes, yet the next ingest fills the emptied engine again, and says so
    summary = Ingestor(settings, progress=False).sync()
    assert not summary.published and summary.engine == "milvus", summary
    assert "but published to milvus" in summary.line()
    time.sleep(1.5)
    with workers.client() as c:
        r = c.get("/search", params={"q": "YOLO는 객체를 어떻게 탐지해?"})
        assert r.status_code == 200 and r.headers["X-Snapshot-Id"] == summary.snapshot
