"""A sustained load on 127.0.0.1: /ask and /search mixed at a fixed concurrency, one re-index
in the middle. Prints requests, requests/s, latency p50/p95/p99 (overall and per route), errors,
the snapshots that answered, and the server's memory (VmRSS of the server and its children) at
idle, after warm-up and at the end, with the growth after warm-up.

    python -m bench.load_test [--seconds 120] [--concurrency 32] [--warmup 15] [--workers 1]

It runs on a private copy of data/notes (and of data/index when built, else it ingests) and
writes bench/results/load_test.json. Exit status 1 when a request failed or memory grew by
more than 10% after warm-up; never on speed (the client shares the CPU with the server).
"""
from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from bench.common import NO_BUILT_LLM

ROOT = Path(__file__).resolve().parents[1]
TESTSET = ROOT / "data" / "qa" / "testset.jsonl"
RESULT = ROOT / "bench" / "results" / "load_test.json"
MAX_GROWTH = 0.10
NOTE = "# 부하 시험 노트\n\n부하 시험 도중에 추가된 노트이다. 쿼카는 로트네스트 섬에 사는 유대류이다.\n"


def questions() -> list[str]:
    return [json.loads(line)["question"] for line in TESTSET.read_text(encoding="utf-8").splitlines() if line.strip()]


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile of ``values`` (ms), 0 when empty."""
    s = sorted(values)
    return round(s[min(len(s) - 1, max(0, math.ceil(q / 100 * len(s)) - 1))], 1) if s else 0.0


def rss_mb(pid: int) -> float:
    """VmRSS of ``pid`` and all its descendants (uvicorn workers), in MB."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, []))
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            pass
    return round(total, 1)


@dataclass
class LoadResult:
    seconds: float
    concurrency: int
    requests: int = 0
    errors: int = 0
    rps: float = 0.0
    latency_ms: dict[str, dict[str, float]] = field(default_factory=dict)
    rss_mb: dict[str, float] = field(default_factory=dict)
    growth_pct: float = 0.0
    rss_samples_mb: list[float] = field(default_factory=list)  # one a second during the measured load
    snapshots: list[str] = field(default_factory=list)
    reindex: dict[str, Any] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)


def _client(url: str, qs: list[str], offset: int, until: float, out: dict[str, list], lock: threading.Lock) -> None:
    """One keep-alive connection alternating POST /ask and GET /search until ``until``."""
    host = urlsplit(url).netloc
    conn = http.client.HTTPConnection(host, timeout=60)
    lat: dict[str, list[float]] = {"ask": [], "search": []}
    errors, snaps, i = [], set(), offset
    while time.monotonic() < until:
        q, route = qs[i % len(qs)], ("ask" if i % 2 == 0 else "search")
        i += 1
        started = time.perf_counter()
        try:
            if route == "ask":
                conn.request("POST", "/ask", body=json.dumps({"question": q}).encode(),
                             headers={"content-type": "application/json"})
            else:
                conn.request("GET", f"/search?q={quote(q)}&k=5")
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                errors.append(f"{route} {r.status}")
            snaps.add(r.getheader("x-snapshot-id") or "")
        except (OSError, http.client.HTTPException) as exc:
            errors.append(f"{route} {type(exc).__name__}: {exc}")
            conn.close()
            conn = http.client.HTTPConnection(host, timeout=60)
        lat[route].append((time.perf_counter() - started) * 1000)
    conn.close()
    with lock:
        for k, v in lat.items():
            out[k].extend(v)
        out["errors"].extend(errors)
        out["snapshots"].extend(snaps)


def _load(url: str, qs: list[str], concurrency: int, seconds: float) -> dict[str, list]:
    out: dict[str, list] = {"ask": [], "search": [], "errors": [], "snapshots": []}
    lock = threading.Lock()
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=_client, args=(url, qs, i * 7, until, out, lock)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def _reindex(url: str, token: str, notes_dir: Path, delay: float, report: dict[str, Any]) -> None:
    """Halfway through: a new note, then POST /reindex (ingest and publish while serving)."""
    time.sleep(delay)
    (notes_dir / f"load-test-{int(time.time())}.md").write_text(NOTE, encoding="utf-8")
    conn = http.client.HTTPConnection(urlsplit(url).netloc, timeout=300)
    started = time.perf_counter()
    conn.request("POST", "/reindex", headers={"Authorization": f"Bearer {token}"})
    r = conn.getresponse()
    body = json.loads(r.read() or b"{}")
    report.update(status=r.status, seconds=round(time.perf_counter() - started, 2), published=body.get("published"),
                  snapshot=body.get("snapshot"), at_s=round(delay, 1))
    conn.close()


TAIL_S = 3.0  # seconds of load after a re-index that ended past the window


def _merge(out: dict[str, list], more: dict[str, list]) -> None:
    for key, values in more.items():
        out[key] += values


def run_load(url: str, pid: int, notes_dir: Path, token: str, seconds: float, concurrency: int,
             warmup: float, qs: list[str] | None = None) -> LoadResult:
    """Warm-up, then the measured load with one re-index in the middle (``seconds`` at least: it
    runs on until the re-index has published, plus ``TAIL_S``); memory sampled each second."""
    qs = qs or questions()
    result = LoadResult(seconds=seconds, concurrency=concurrency)
    result.rss_mb["idle"] = rss_mb(pid)
    _load(url, qs, concurrency, warmup)
    result.rss_mb["warm"] = rss_mb(pid)
    samples: list[float] = []
    done = threading.Event()
    sampler = threading.Thread(target=lambda: [samples.append(rss_mb(pid)) for _ in iter(lambda: done.wait(1.0), True)])
    reindexer = threading.Thread(target=_reindex, args=(url, token, notes_dir, seconds / 2, result.reindex))
    sampler.start()
    reindexer.start()
    started = time.monotonic()
    out = _load(url, qs, concurrency, seconds)
    if reindexer.is_alive():
        # A slow machine: the re-index outlasts the window. The load goes on until it has
        # published and for TAIL_S after, so the new snapshot is served under load too.
        while reindexer.is_alive():
            _merge(out, _load(url, qs, concurrency, 1.0))
        _merge(out, _load(url, qs, concurrency, TAIL_S))
    elapsed = time.monotonic() - started
    result.seconds = round(elapsed, 1)
    reindexer.join()
    done.set()
    sampler.join()
    result.rss_mb.update(end=rss_mb(pid), max=max(samples or [0.0]))
    result.rss_samples_mb = samples
    everything = out["ask"] + out["search"]
    result.requests, result.errors = len(everything), len(out["errors"])
    result.error_samples = out["errors"][:5]
    result.rps = round(result.requests / elapsed, 1)
    for name, values in (("all", everything), ("ask", out["ask"]), ("search", out["search"])):
        result.latency_ms[name] = {"n": len(values), "p50": pct(values, 50), "p95": pct(values, 95),
                                   "p99": pct(values, 99)}
    result.snapshots = sorted(set(out["snapshots"]))
    result.growth_pct = round(100 * (result.rss_mb["end"] - result.rss_mb["warm"]) / result.rss_mb["warm"], 1)
    return result


def summary(r: LoadResult) -> str:
    lat = r.latency_ms
    return "\n".join([
        f"load: {r.requests} requests in {r.seconds:g}s at concurrency {r.concurrency}: {r.rps} req/s, {r.errors} errors",
        *(f"  {k:6s} n={v['n']:6d}  p50 {v['p50']:8.1f} ms  p95 {v['p95']:8.1f} ms  p99 {v['p99']:8.1f} ms"
          for k, v in lat.items()),
        f"  re-index at {r.reindex.get('at_s')}s: status {r.reindex.get('status')}, {r.reindex.get('seconds')}s, "
        f"published {r.reindex.get('published')}; snapshots that answered: {len(r.snapshots)}",
        f"  server RSS: idle {r.rss_mb['idle']} MB, after warm-up {r.rss_mb['warm']} MB, end {r.rss_mb['end']} MB, "
        f"max {r.rss_mb['max']} MB; growth after warm-up {r.growth_pct}% (limit {MAX_GROWTH:.0%})",
    ])


def _serve(root: Path, token: str, workers: int) -> tuple[subprocess.Popen, str]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")} | NO_BUILT_LLM
    env.update(RAG_NOTES_DIR=str(root / "notes"), RAG_INDEX_DIR=str(root / "index"), RAG_EMBEDDER="offline",
               RAG_ADMIN_TOKEN=token, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.app:app_from_env", "--factory", "--host",
                             "127.0.0.1", "--port", str(port), "--workers", str(workers), "--log-level", "warning"],
                            cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection(f"127.0.0.1:{port}", timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("the server did not start")


def _prepare(root: Path) -> None:
    """Notes and index under ``root``: a copy of data/index when this code opens it cleanly,
    else a fresh ingest (an index left by an older version would only measure 503s)."""
    from rag.snapshots.format import read_current
    from rag.snapshots.store import SnapshotStore

    shutil.copytree(ROOT / "data" / "notes", root / "notes")
    if (ROOT / "data" / "index" / "CURRENT").exists():
        shutil.copytree(ROOT / "data" / "index", root / "index", ignore=shutil.ignore_patterns(".ingest.lock"))
        store = SnapshotStore(root / "index")
        try:
            if store.open_live().id == read_current(root / "index") and not store.damaged:
                return
        except Exception:  # noqa: BLE001 - any failure means: build it afresh
            pass
        print("data/index does not open cleanly with this code: ingesting afresh", file=sys.stderr)
        shutil.rmtree(root / "index")
    subprocess.run([sys.executable, "-m", "api.cli", "ingest"], cwd=ROOT, check=True,
                   env={**os.environ, "RAG_NOTES_DIR": str(root / "notes"), "RAG_INDEX_DIR": str(root / "index"),
                        "RAG_EMBEDDER": "offline", "PYTHONPATH": str(ROOT)})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--warmup", type=float, default=15.0)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    root = Path(tempfile.mkdtemp(prefix="rag-load-"))
    try:
        _prepare(root)
        token = secrets.token_urlsafe(16)
        proc, url = _serve(root, token, args.workers)
        try:
            result = run_load(url, proc.pid, root / "notes", token, args.seconds, args.concurrency, args.warmup)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(summary(result))
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(asdict(result), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    ok = result.errors == 0 and result.growth_pct <= 100 * MAX_GROWTH and result.reindex.get("status") == 200
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
