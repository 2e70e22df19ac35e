"""``rag serve --workers 2 --preload``: gunicorn's master constructs Kiwi and the query embedder,
forks two uvicorn workers that share those pages, and each worker answers on its own; SIGTERM
stops them all. The publish a preloaded worker follows is in test_api_hot_reload.py."""
from __future__ import annotations

import signal
from pathlib import Path

import httpx

from tests.server import build_index, run_server

SHARED_MIN_MB = 150  # Kiwi's model alone: about 230 MB stay shared (measured, api/preload.py)


def shared_dirty_mb(pid: int) -> float:
    """Anonymous pages this process shares with others (written before a fork), in MB."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Shared_Dirty:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no Shared_Dirty line for {pid}")


def answers_by_worker(url: str, want: int = 2, tries: int = 60) -> dict[int, dict]:
    """One /ask per worker: a kept-alive connection stays with the worker that accepted it, and
    /health on it says which one that is."""
    out: dict[int, dict] = {}
    for _ in range(tries):
        with httpx.Client(base_url=url, timeout=60) as c:
            pid = c.get("/health").json()["worker"]
            if pid not in out:
                r = c.post("/ask", json={"question": "과적합을 줄이는 방법은 무엇인가요?"})
                assert r.status_code == 200, r.text
                out[pid] = r.json()
        if len(out) >= want:
            break
    return out


def test_preloaded_workers_share_kiwi_answer_and_stop_on_sigterm(tmp_path: Path) -> None:
    with run_server(build_index(tmp_path), workers=2, preload=True) as server:
        answers = answers_by_worker(server.url)
        assert len(answers) == 2, f"only workers {list(answers)} answered"
        for pid, body in answers.items():
            assert not body["refused"] and body["citations"], (pid, body)
            shared = shared_dirty_mb(pid)
            assert shared >= SHARED_MIN_MB, f"worker {pid} shares only {shared:.0f} MB with the master"
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=60) == 0, server.output()[-2000:]
        for pid in answers:
            assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()


def test_uvicorn_workers_share_no_model(tmp_path: Path) -> None:
    """The baseline the shared-memory bound is measured against: spawned workers share no
    anonymous memory, so the bound above can only be met by loading before the fork."""
    with run_server(build_index(tmp_path), workers=2) as server:
        answers = answers_by_worker(server.url)
        assert len(answers) == 2
        for pid in answers:
            assert shared_dirty_mb(pid) < SHARED_MIN_MB / 3
