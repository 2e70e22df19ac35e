"""Re-index without downtime: readers keep getting answers while documents are published, new
requests see the new snapshot without a restart, requests in flight finish on theirs, and with
``--workers 2`` both workers switch."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.server import Server, build_index, parse_sse, run_server

pytestmark = pytest.mark.slow


def note(i: int) -> str:
    return f"# 판다 관찰 {i}\n\n판다 관찰 기록 {i}번: 판다는 하루에 대나무를 {10 + i}킬로그램 먹는다.\n"


def upload(server: Server, name: str, text: str) -> dict:
    r = httpx.post(server.url + "/documents", headers=server.admin(), timeout=120,
                   files={"file": (name, text.encode("utf-8"))})
    assert r.status_code == 201, r.text
    return r.json()


def test_readers_never_fail_while_documents_are_published(tmp_path: Path) -> None:
    with run_server(build_index(tmp_path)) as server:
        stop = threading.Event()
        errors: list[str] = []
        seen: set[str] = set()
        count = [0]

        def reader(route: str) -> None:
            with server.client() as c:
                while not stop.is_set():
                    try:
                        if route == "/search":
                            r = c.get("/search", params={"q": "판다는 대나무를 얼마나 먹나요?", "k": 3})
                        else:
                            r = c.post("/ask", json={"question": "YOLO는 객체 탐지를 몇 단계로 처리해?"})
                        if r.status_code != 200:
                            errors.append(f"{route} {r.status_code} {r.text[:200]}")
                        else:
                            seen.add(r.headers["x-snapshot-id"])
                            count[0] += 1
                    except httpx.HTTPError as exc:
                        errors.append(f"{route} {exc!r}")

        threads = [threading.Thread(target=reader, args=(route,)) for route in ("/search", "/search", "/ask")]
        for t in threads:
            t.start()
        published = []
        try:
            time.sleep(1)
            for i in range(3):
                summary = upload(server, f"panda{i}.md", note(i))
                published.append(summary["snapshot"])
                # a new request right after the publish uses the new snapshot, no restart
                r = httpx.get(server.url + "/search", params={"q": f"판다 관찰 기록 {i}번", "k": 3})
                assert r.headers["x-snapshot-id"] == summary["snapshot"]
                assert f"panda{i}.md" in {p["doc"] for p in r.json()["passages"]}
                time.sleep(0.5)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=60)
        assert errors == [], errors[:5]
        assert count[0] > 20 and len(seen & set(published)) >= 2, (count, seen, published)


def test_a_stream_in_flight_finishes_on_its_snapshot(tmp_path: Path) -> None:
    with run_server(build_index(tmp_path)) as server, server.client() as c:
        with c.stream("POST", "/ask/stream", json={"question": "YOLO는 객체 탐지를 몇 단계로 처리하는 알고리즘이야?"}) as r:
            started_on = r.headers["x-snapshot-id"]
            lines = r.iter_lines()
            first = next(lines)
            assert first == "event: token"
            summary = upload(server, "panda-late.md", note(9))  # published while the stream is open
            body = first + "\n" + "\n".join(lines) + "\n"
        assert summary["snapshot"] != started_on
        events = parse_sse(body)
        assert events[-1][0] == "answer" and not json.loads(events[-1][1])["refused"]
        assert c.get("/health").json()["snapshot"] == summary["snapshot"]


def _health_by_worker(server: Server, want: int = 2, tries: int = 400) -> dict[int, list[str]]:
    """Fresh connections until ``want`` workers have answered; snapshot ids seen, per worker pid."""
    seen: dict[int, list[str]] = {}
    for _ in range(tries):
        body = httpx.get(server.url + "/health", headers={"Connection": "close"}).json()
        seen.setdefault(body["worker"], []).append(body["snapshot"])
        if len(seen) >= want and sum(map(len, seen.values())) >= 20:
            break
    return seen


@pytest.mark.parametrize("preload", [False, True], ids=["uvicorn-workers", "preloaded-gunicorn-workers"])
def test_both_workers_switch_after_a_publish(tmp_path: Path, preload: bool) -> None:
    """Also with ``rag serve --preload``: the upload's ingest and the searches analyse Korean in
    forked workers whose Kiwi was constructed by the master (a used Kiwi would hang there)."""
    with run_server(build_index(tmp_path), workers=2, preload=preload) as server:
        before = _health_by_worker(server)
        assert len(before) == 2, f"only {len(before)} worker answered"
        old = {s for ids in before.values() for s in ids}
        assert len(old) == 1
        summary = upload(server, "panda-workers.md", note(5))
        assert summary["published"] and summary["snapshot"] not in old
        after = _health_by_worker(server)
        assert len(after) == 2
        for pid, ids in after.items():
            assert set(ids) == {summary["snapshot"]}, (pid, ids)
        # and both answer from it: the new document is found whichever worker answers
        for _ in range(10):
            r = httpx.get(server.url + "/search", params={"q": "판다 관찰 기록 5번", "k": 3},
                          headers={"Connection": "close"})
            assert r.headers["x-snapshot-id"] == summary["snapshot"]
            assert "panda-workers.md" in {p["doc"] for p in r.json()["passages"]}
