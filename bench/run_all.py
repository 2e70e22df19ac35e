"""`make bench`: ingest, query, server and peer benchmarks in one run, then profiles of missed
targets, then ``bench/results/SUMMARY.md`` and the latency-vs-size plot.

Each bench runs in its own process (clean caches, its own memory) over one shared work folder,
so each synthetic corpus is generated and indexed once and reused. Environment knobs:
BENCH_SIZES (default 1000,10000,100000), BENCH_RUNS (default 5), BENCH_WORK (keep the corpora
and indexes there instead of a temporary folder), BENCH_PROFILE=0 (no profiles).
"""
from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.common import RESULTS, ROOT, SIZES, log
from bench.report import missed, write_summary

STEP_TIMEOUT = 1500  # seconds; a hung bench is stopped and the others still run

# Which profile explains which missed target (matched on the start of the target's text).
PROFILES = [("retrieval p50 on the notes", ["query"]), ("retrieval p50 at", ["query", "--size", "{big}"]),
            ("latency grows", ["query", "--size", "{big}"]), ("/search at concurrency", ["server"]),
            ("no-change", ["reingest"]), ("one-file", ["reingest"]), ("server RSS", ["memory", "--size", "{big}"])]


def run_step(name: str, module: str, args: list[str], env: dict[str, str]) -> dict[str, Any]:
    log(f"=== {name}: python -m {module} {' '.join(args)}")
    t = time.monotonic()
    try:
        rc = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            timeout=STEP_TIMEOUT).returncode
    except subprocess.TimeoutExpired:
        rc = -1
    seconds = round(time.monotonic() - t, 1)
    log(f"=== {name}: exit {rc} after {seconds} s")
    return {"rc": rc, "seconds": seconds}


def machine() -> str:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} cores {cpu}, Python {platform.python_version()}"


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def main() -> None:
    started = time.monotonic()
    sizes = os.environ.get("BENCH_SIZES", ",".join(map(str, SIZES)))
    runs = os.environ.get("BENCH_RUNS", "5")
    big = max((int(s) for s in sizes.split(",") if s.strip()), default=0)
    keep = bool(os.environ.get("BENCH_WORK"))
    work = Path(os.environ.get("BENCH_WORK") or tempfile.mkdtemp(prefix="rag-bench-"))
    env = {**os.environ, "BENCH_WORK": str(work), "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    RESULTS.mkdir(parents=True, exist_ok=True)
    ours = [RESULTS / f"{n}.json" for n in ("ingest", "query", "server", "peer")] + [RESULTS / "latency_vs_size.png"]
    for old in [*ours, *RESULTS.glob("profile_*.json"), *RESULTS.glob("profile_*.txt")]:
        old.unlink(missing_ok=True)  # a step that fails must not leave last run's numbers in the summary
    load_before = os.getloadavg()[0]
    steps = {
        "ingest": run_step("ingest", "bench.ingest_bench", ["--sizes", sizes, "--runs", runs], env),
        "query": run_step("query", "bench.query_bench", ["--sizes", sizes, "--runs", runs], env),
        "server": run_step("server", "bench.server_bench", ["--runs", runs, "--big", str(big)], env),
        "peer": run_step("peer", "bench.peer_bench", ["--runs", runs], env),
    }
    if os.environ.get("BENCH_PROFILE", "1") != "0":
        done: set[tuple[str, ...]] = set()
        for target in missed():
            for prefix, args in PROFILES:
                cmd = tuple(a.format(big=big) for a in args)
                if target.startswith(prefix) and cmd not in done and not (big == 0 and "{big}" in args):
                    done.add(cmd)
                    steps[f"profile {' '.join(cmd)}"] = run_step("profile", "bench.profile_bench", list(cmd), env)
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    meta = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "commit": commit(),
            "machine": machine(), "load average at start": f"{load_before:.2f}", "sizes": sizes, "runs": runs,
            "wall time": f"{(time.monotonic() - started) / 60:.1f} min",
            "steps": ", ".join(f"{k} {v['seconds']:.0f} s" + ("" if v["rc"] == 0 else f" (exit {v['rc']})")
                               for k, v in steps.items())}
    path = write_summary(meta)
    print(path.read_text(encoding="utf-8"))
    log(f"summary: {path}")
    if any(v["rc"] != 0 for v in steps.values()):
        sys.exit(1)  # a bench crashed (never because of a time)


if __name__ == "__main__":
    main()
