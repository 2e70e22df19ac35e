"""A uvicorn server on 127.0.0.1 for the benchmarks, its memory, and a bounded load generator.

The client is plain ``http.client`` in threads, one keep-alive connection per thread: on a
2-core machine the client shares the CPU with the server, so it should cost as little as
possible. It stops by itself after a fixed number of requests or a time limit, whichever
comes first, and every request has a socket timeout.
"""
from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from bench.common import NO_BUILT_LLM, ROOT
from tests.server import server_command


@dataclass
class Server:
    port: int
    process: subprocess.Popen
    log: Path

    def rss_mb(self, pids: list[int] | None = None) -> float:
        """Resident memory of uvicorn's process and all its descendants (the workers)."""
        return round(sum(vmrss_kb(p) for p in (pids or _tree(self.process.pid))) / 1024, 1)

    def pids(self) -> list[int]:
        return _tree(self.process.pid)


def proc_kb(pid: int, file: str, field: str) -> int:
    """A kB field of a /proc/<pid> file (``status``, ``smaps_rollup``); 0 once the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/{file}").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def vmrss_kb(pid: int) -> int:
    return proc_kb(pid, "status", "VmRSS")


def pss_kb(pid: int) -> int:
    """Proportional set size: shared pages split between their sharers."""
    return proc_kb(pid, "smaps_rollup", "Pss")


def _tree(root: int) -> list[int]:
    """``root`` and its descendants, from the parent ids in /proc/<pid>/stat."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    out, frontier = [root], [root]
    while frontier:
        frontier = [p for p, pp in parents.items() if pp in frontier]
        out += frontier
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int, path: str, timeout: float = 5) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


@contextmanager
def serve(notes: Path, index: Path, workers: int, timeout: float = 180,
          extra_env: dict[str, str] | None = None, preload: bool = False) -> Iterator[Server]:
    """``uvicorn api.app:app_from_env --factory --workers N`` (``preload``: ``rag serve --workers N
    --preload``, forked by gunicorn after loading the models); ready once every worker answered."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")} | NO_BUILT_LLM
    env.update({"RAG_NOTES_DIR": str(notes), "RAG_INDEX_DIR": str(index), "RAG_EMBEDDER": "offline",
                "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONPATH": str(ROOT)})
    env.update(extra_env or {})
    cmd = server_command(port, workers, preload=preload, access_log=False)
    log = Path(tempfile.mkstemp(prefix="bench-uvicorn-", suffix=".log")[1])
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(port, proc, log)
    try:
        _wait_ready(server, workers, timeout)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.unlink(missing_ok=True)


def _wait_ready(server: Server, workers: int, timeout: float) -> None:
    """Poll /health on fresh connections until ``workers`` distinct worker pids have answered."""
    deadline = time.monotonic() + timeout
    seen: set[int] = set()
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {server.process.returncode}:\n{server.log.read_text()[-3000:]}")
        try:
            status, body = _get(server.port, "/health", timeout=2)
            if status == 200:
                data = json.loads(body)
                seen.add(int(data.get("worker") or data.get("pid") or 0))
                if len(seen) >= workers:
                    return
        except (OSError, http.client.HTTPException, ValueError):
            pass
        time.sleep(0.1)
    raise TimeoutError(f"uvicorn did not become ready within {timeout:.0f}s ({len(seen)} workers seen)")


@dataclass
class LoadResult:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    rss_max_mb: float = 0.0

    @property
    def rps(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0


def request_for(route: str, question: str) -> tuple[str, str, bytes | None, dict[str, str]]:
    if route == "search":
        return "GET", "/search?" + urllib.parse.urlencode({"q": question, "k": 5}), None, {}
    body = json.dumps({"question": question}).encode()
    return "POST", "/ask", body, {"Content-Type": "application/json"}


def load(server: Server, route: str, qs: list[str], concurrency: int, requests: int, time_limit: float,
         sample_rss: bool = True) -> LoadResult:
    """``requests`` requests (questions cycled) from ``concurrency`` threads; stops at the limit."""
    result = LoadResult()
    lock = threading.Lock()
    counter = iter(range(requests))
    deadline = time.monotonic() + time_limit
    done = threading.Event()

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        while time.monotonic() < deadline:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            method, path, body, headers = request_for(route, qs[i % len(qs)])
            t = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                r = conn.getresponse()
                r.read()
                ok = r.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            ms = (time.perf_counter() - t) * 1000
            with lock:
                if ok:
                    result.latencies_ms.append(ms)
                else:
                    result.errors += 1
        conn.close()

    pids = server.pids()  # once: scanning /proc on every sample would load the cores

    def sampler() -> None:
        while not done.wait(0.1):
            result.rss_max_mb = max(result.rss_max_mb, server.rss_mb(pids))

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    watcher = threading.Thread(target=sampler, daemon=True)
    if sample_rss:
        watcher.start()
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(time_limit + 35)
    result.seconds = time.perf_counter() - t0
    done.set()
    if sample_rss:
        watcher.join()
    return result
