"""Issue 12, case 4: the real server SIGKILLed while an upload, a replacement or a deletion is
being ingested, then restarted on the same files.

Each write is killed at two moments: while its snapshot is being written (not yet published)
and right after the publish (the snapshot is live, the notes directory not yet changed). The
server runs in a child process (uvicorn around the app, as ``rag serve`` does) that prints a
marker at each moment and parks at the chosen one, so the kill lands exactly there.

After the restart: a write killed before its publish never happened (no file, not indexed,
the retried POST works, nothing unacknowledged is published by the next write, a killed PUT
still serves and keeps the old bytes); one killed after its publish is finished (the file is
moved in). Either way the notes directory and the live snapshot agree (``/health``)."""
from __future__ import annotations

import hashlib
import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import httpx
import pytest

from rag.settings import Settings
from tests.server import NO_BUILT_LLM, ADMIN_TOKEN, ROOT, build_index, free_port, run_server

pytestmark = pytest.mark.slow

DRIVER = textwrap.dedent('''
    import sys, time
    park = sys.argv[2]
    def mark(name):
        sys.stdout.write(name + "\\n"); sys.stdout.flush()
        if name == park:
            time.sleep(600)  # parked: the test kills the process here
    import ingest.snapshot_writer as sw
    write, publish = sw.SnapshotWriter.write, sw.SnapshotWriter.publish
    def parked_write(self, *a, **k):
        mark("writing-snapshot")
        return write(self, *a, **k)
    def parked_publish(self, *a, **k):
        out = publish(self, *a, **k)
        mark("published")
        return out
    sw.SnapshotWriter.write, sw.SnapshotWriter.publish = parked_write, parked_publish
    import uvicorn
    uvicorn.run("api.app:app_from_env", factory=True, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
''')
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
QUOKKA = ("# 쿼카 생태 노트\n\n쿼카는 호주 서부의 로트네스트 섬에 주로 사는 작은 유대류이다. "
          "쿼카는 주로 밤에 활동하며 풀과 나뭇잎을 먹는다.\n").encode()
OTTER = "# 수달 노트\n\n수달은 강가에 사는 족제비과 동물로 물고기를 잡아먹는다.\n".encode()
EXISTING = "000_6894a9c6475e8976.txt"
MOMENTS = ["writing-snapshot", "published"]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def kill_during(settings: Settings, park: str, method: str, path: str, upload: tuple[str, bytes] | None) -> list[str]:
    """Start the parked server, send the write, SIGKILL the server at ``park``; the markers seen."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")} | NO_BUILT_LLM
    env.update({"RAG_NOTES_DIR": str(settings.notes_dir), "RAG_INDEX_DIR": str(settings.index_dir),
                "RAG_EMBEDDER": "offline", "RAG_ADMIN_TOKEN": ADMIN_TOKEN, "HF_HUB_OFFLINE": "1",
                "PYTHONPATH": str(ROOT)})
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, str(port), park], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=lambda: ([lines.put(s.strip()) for s in proc.stdout], lines.put(None)),  # type: ignore[union-attr]
                     daemon=True).start()
    seen: list[str] = []
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and proc.poll() is None, "the server did not start"
                time.sleep(0.2)
        files = {"file": upload} if upload is not None else None

        def send() -> None:
            try:
                httpx.request(method, url + path, headers=AUTH, files=files, timeout=120)
            except httpx.HTTPError:
                pass  # the server dies under it: no answer

        threading.Thread(target=send, daemon=True).start()
        while (line := lines.get(timeout=120)) is not None:
            seen.append(line)
            if line == park:
                break
        assert seen and seen[-1] == park, f"the write ended before {park}: {seen}"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    return seen


def documents(c: httpx.Client) -> dict[str, str]:
    return {d["id"]: d["hash"] for d in c.get("/documents").json()["documents"]}


@pytest.mark.parametrize("moment", MOMENTS)
def test_killed_upload(tmp_path: Path, moment: str) -> None:
    settings = build_index(tmp_path)
    kill_during(settings, moment, "POST", "/documents", ("quokka.md", QUOKKA))
    assert not (settings.notes_dir / "quokka.md").exists()  # not moved in before the kill, either way
    with run_server(settings) as srv, srv.client(headers=AUTH) as c:
        health = c.get("/health").json()
        assert health["notes"]["in_sync"], health
        if moment == "writing-snapshot":  # never acknowledged: it did not happen
            assert health["recovered"] == [{"doc": "quokka.md", "op": "put", "outcome": "discarded"}]
            assert "quokka.md" not in documents(c) and not (settings.notes_dir / "quokka.md").exists()
            r = c.post("/documents", files={"file": ("otter.md", OTTER)})  # the next, unrelated write
            assert r.status_code == 201, r.text
            assert "quokka.md" not in documents(c), "an unacknowledged upload was published later"
            r = c.post("/documents", files={"file": ("quokka.md", QUOKKA)})  # the client's retry
            assert r.status_code == 201, r.text
        else:  # its snapshot was live: the write is finished, and a retry is told it exists
            assert health["recovered"] == [{"doc": "quokka.md", "op": "put", "outcome": "completed"}]
            assert c.post("/documents", files={"file": ("quokka.md", QUOKKA)}).status_code == 409
        assert documents(c)["quokka.md"] == sha(QUOKKA)
        assert (settings.notes_dir / "quokka.md").read_bytes() == QUOKKA
        answer = c.post("/ask", json={"question": "쿼카는 어디에 사나요?"}).json()
        assert "quokka.md" in {x["doc"] for x in answer["citations"]}
    assert not list((settings.index_dir / "staging").iterdir())


@pytest.mark.parametrize("moment", MOMENTS)
def test_killed_replace(tmp_path: Path, moment: str) -> None:
    settings = build_index(tmp_path)
    old = (settings.notes_dir / EXISTING).read_bytes()
    new = old + "\n\n# 추가된 절\n\n새로 추가된 절의 문장으로 교체 실험을 기록한다.\n".encode()
    kill_during(settings, moment, "PUT", f"/documents/{EXISTING}", (EXISTING, new))
    assert (settings.notes_dir / EXISTING).read_bytes() == old  # a PUT keeps the old bytes until its publish
    with run_server(settings) as srv, srv.client(headers=AUTH) as c:
        health = c.get("/health").json()
        assert health["notes"]["in_sync"], health
        if moment == "writing-snapshot":  # the old version is still served and on disk
            assert health["recovered"][0]["outcome"] == "discarded"
            assert documents(c)[EXISTING] == sha(old)
            assert (settings.notes_dir / EXISTING).read_bytes() == old
            r = c.put(f"/documents/{EXISTING}", files={"file": (EXISTING, new)})  # the retry
            assert r.status_code == 200, r.text
        else:
            assert health["recovered"][0]["outcome"] == "completed"
        assert documents(c)[EXISTING] == sha(new)
        assert (settings.notes_dir / EXISTING).read_bytes() == new


@pytest.mark.parametrize("moment", MOMENTS)
def test_killed_delete(tmp_path: Path, moment: str) -> None:
    settings = build_index(tmp_path)
    kill_during(settings, moment, "DELETE", f"/documents/{EXISTING}", None)
    assert (settings.notes_dir / EXISTING).exists()  # a DELETE removes the file only after its publish
    with run_server(settings) as srv, srv.client(headers=AUTH) as c:
        health = c.get("/health").json()
        assert health["notes"]["in_sync"], health
        gone = moment == "published"
        assert health["recovered"][0]["outcome"] == ("completed" if gone else "discarded")
        assert (EXISTING in documents(c)) is not gone
        assert (settings.notes_dir / EXISTING).exists() is not gone


def test_differences_are_reported_and_rag_ingest_fixes_them(tmp_path: Path) -> None:
    """Files changed behind the service's back (or left by an older, unstaged writer) are named in
    /health and the log at start-up; `rag ingest` re-syncs, and /health follows the new snapshot."""
    settings = build_index(tmp_path)
    (settings.notes_dir / "orphan.md").write_bytes(OTTER)
    (settings.notes_dir / EXISTING).write_bytes(b"# changed\n\nchanged by hand.\n")
    (settings.notes_dir / "001_ad38356643d53f32.txt").unlink()
    with run_server(settings) as srv, srv.client() as c:
        notes = c.get("/health").json()["notes"]
        assert notes == {"in_sync": False, "not_indexed": ["orphan.md"], "changed": [EXISTING],
                         "missing": ["001_ad38356643d53f32.txt"], "fix": notes["fix"]} and "rag ingest" in notes["fix"]
        assert "notes directory and live snapshot differ" in srv.output()
        env = {**os.environ, "RAG_NOTES_DIR": str(settings.notes_dir), "RAG_INDEX_DIR": str(settings.index_dir),
               "RAG_EMBEDDER": "offline", "PYTHONPATH": str(ROOT)}
        out = subprocess.run([sys.executable, "-m", "api.cli", "ingest"], env=env, cwd=ROOT, capture_output=True,
                             text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        assert c.get("/health").json()["notes"]["in_sync"]
