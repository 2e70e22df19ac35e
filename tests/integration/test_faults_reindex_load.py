"""Re-index under load: 1,000 queries from 8 concurrent clients while a maintainer uploads,
replaces and deletes documents on the same server. No errors, and every passage or citation
in every response is a chunk of the snapshot that answered (``X-Snapshot-Id``): the document
existed then, with that very text."""
from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from rag.snapshots.format import CHUNKS_DB, read_chunks, snapshots_dir
from tests.server import Server, build_index, run_server

QUERIES, CLIENTS, WRITES = 1000, 8, 9  # WRITES: three upload-replace-delete rounds at least
QUESTIONS = ["쿼카는 어디에 사나요?", "쿼카는 무엇을 먹나요?", "YOLO는 객체 탐지를 몇 단계로 처리하는 알고리즘이야?",
             "What is BERT?", "GAN에서 판별자는 무슨 일을 해?", "트랜스포머의 어텐션은 무엇인가?"]
VERSIONS = ["# 쿼카 노트 {i}\n\n쿼카는 호주 서부의 로트네스트 섬에 사는 작은 유대류이다. 관찰 기록 {i}번.\n",
            "# 쿼카 노트 {i}\n\n쿼카는 밤에 활동하며 풀과 나뭇잎을 먹는다. 수정된 기록 {i}번.\n"]


def maintainer(server: Server, stop: threading.Event, log: list[tuple[str, int]]) -> None:
    """Upload, replace and delete notes in a loop until the queries are done (if it fails, the
    queries stop waiting for it, and the test reports the failed write)."""
    try:
        with server.client(headers=server.admin()) as c:
            for i in itertools.count():
                if stop.is_set():
                    return
                name = f"quokka-{i}.md"
                for method, version in (("POST", 0), ("PUT", 1), ("DELETE", None)):
                    path = "/documents" if method == "POST" else f"/documents/{name}"
                    files = None if version is None else {"file": (name, VERSIONS[version].format(i=i).encode())}
                    r = c.request(method, path, files=files)
                    log.append((f"{method} {r.status_code}", r.status_code))
    finally:
        stop.set()


def query(server: Server, n: int, writes: list, stop: threading.Event) -> list[tuple[str, int, str, list[tuple]]]:
    """``n`` requests alternating /ask and /search: (route, status, snapshot id, cited chunks).
    Paced by the writes, so the queries span WRITES of them on a fast machine or a slow one."""
    out = []
    with server.client() as c:
        for j in range(n):
            while len(writes) < WRITES * j // n and not stop.is_set():
                time.sleep(0.01)
            q = QUESTIONS[j % len(QUESTIONS)]
            if j % 2 == 0:
                r = c.post("/ask", json={"question": q})
                cited = [(x["doc"], x["start"], x["end"], x["quote"]) for x in r.json().get("citations", [])]
            else:
                r = c.get("/search", params={"q": q, "k": 5})
                cited = [(x["doc"], x["start"], x["end"], x["text"]) for x in r.json().get("passages", [])]
            out.append(("ask" if j % 2 == 0 else "search", r.status_code, r.headers.get("x-snapshot-id", ""), cited))
    return out


@pytest.mark.slow
def test_queries_during_uploads_replaces_and_deletes(tmp_path: Path) -> None:
    settings = build_index(tmp_path)
    with run_server(settings, env={"RAG_KEEP_SNAPSHOTS": "1000"}) as server:
        stop, writes = threading.Event(), []
        writer = threading.Thread(target=maintainer, args=(server, stop, writes))
        started = time.monotonic()
        writer.start()
        try:
            with ThreadPoolExecutor(CLIENTS) as pool:
                parts = pool.map(lambda _: query(server, QUERIES // CLIENTS, writes, stop), range(CLIENTS))
                results = [r for part in parts for r in part]
        finally:
            stop.set()
            writer.join(timeout=120)
        seconds = time.monotonic() - started
    statuses = Counter(f"{route} {status}" for route, status, _, _ in results)
    assert len(results) == QUERIES and set(statuses) == {"ask 200", "search 200"}, statuses
    assert len(writes) >= WRITES - 1 and all(s in (200, 201) for _, s in writes), Counter(w for w, _ in writes)
    chunks: dict[str, set[tuple]] = {}
    for snap_id in {s for _, _, s, _ in results}:
        rows, _ = read_chunks(snapshots_dir(settings.index_dir) / snap_id / CHUNKS_DB)
        chunks[snap_id] = {(c.doc, c.start, c.end, c.text) for c in rows}
    wrong = [(snap, c) for _, _, snap, cited in results for c in cited if c not in chunks[snap]]
    assert not wrong, wrong[:3]  # every cited passage existed, with that text, in the answering snapshot
    quokka = sum(1 for _, _, _, cited in results for c in cited if c[0].startswith("quokka-"))
    print(f"\nre-index under load: {len(results)} queries ({dict(statuses)}) from {CLIENTS} clients in {seconds:.1f}s, "
          f"{len(writes)} writes ({dict(Counter(w for w, _ in writes))}), {len(chunks)} snapshots answered, "
          f"{quokka} citations of uploaded notes, 0 errors, 0 citations outside their snapshot")
    assert len(chunks) >= 3 and quokka > 0  # answers did switch snapshots and did cite the changing notes
