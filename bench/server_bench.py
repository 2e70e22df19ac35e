"""HTTP throughput and latency of `/search` and `/ask` on 127.0.0.1 at concurrency 1, 8 and 32
with 1 and 2 uvicorn workers; server memory (RSS of uvicorn and its workers) at idle and under
load; and the memory of a server on the largest synthetic index (offline defaults).

    python -m bench.server_bench [--runs 5] [--workers 1,2] [--concurrency 1,8,32] [--big 100000]

The load generator runs in this process, on the same 2 cores as the server, so requests/s
here is a floor for what a separate client machine would see. A diagnostic row repeats /search
at concurrency 8 with 2 workers whose native thread pools are limited to one thread.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from bench.common import log, notes_index, pct, questions, spread, synthetic_index, work_dir, write_result
from bench.httpload import Server, load, serve

REQUESTS = {"search": 200, "ask": 80}  # per run (at least 10 per client); a run also stops after TIME_LIMIT s
TIME_LIMIT = 20.0


def one_config(server: Server, route: str, qs: list[str], concurrency: int, runs: int) -> dict[str, Any]:
    """Warm-up, then ``runs`` bounded runs; requests/s per run, latency percentiles pooled."""
    load(server, route, qs, concurrency, max(2 * concurrency, 20), TIME_LIMIT, sample_rss=False)
    rps, lat, errors, rss = [], [], 0, 0.0
    for _ in range(runs):
        r = load(server, route, qs, concurrency, max(REQUESTS[route], 10 * concurrency), TIME_LIMIT)
        rps.append(r.rps)
        lat += r.latencies_ms
        errors += r.errors
        rss = max(rss, r.rss_max_mb)
    out = {"requests": len(lat) + errors, "errors": errors, "rps": spread(rps),
           "p50_ms": round(pct(lat, 50), 2), "p95_ms": round(pct(lat, 95), 2), "p99_ms": round(pct(lat, 99), 2),
           "rss_load_mb": rss}
    log(f"server {route} c={concurrency}: {out['rps']['median']:.0f} req/s, p50 {out['p50_ms']} ms, "
        f"p99 {out['p99_ms']} ms, errors {errors}, rss {rss} MB")
    return out


def idle_rss(server: Server, settle: float = 1.0) -> float:
    """RSS once the server is ready (lifespan warm-up search done, /health answered) and has sat
    still for a moment; called again after the load runs."""
    time.sleep(settle)
    return server.rss_mb()


# Diagnostic: the same server with one thread per native thread pool (FAISS's OpenMP, OpenBLAS).
# Two workers whose pools each want both cores wait on each other; this row shows how much.
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def one_thread_diagnostic(notes: Path, index: Path, qs: list[str], runs: int) -> dict[str, Any]:
    with serve(notes, index, 2, extra_env=ONE_THREAD) as server:
        log("server: diagnostic, 2 workers with one native thread each")
        return {"workers": 2, "env": ONE_THREAD, "search_c8": one_config(server, "search", qs, 8, runs)}


def bench_workers(notes: Path, index: Path, workers: int, qs: list[str], levels: list[int], runs: int) -> dict[str, Any]:
    t = time.perf_counter()
    with serve(notes, index, workers) as server:
        out: dict[str, Any] = {"startup_s": round(time.perf_counter() - t, 2), "rss_idle_mb": idle_rss(server)}
        log(f"server: {workers} worker(s) up in {out['startup_s']} s, idle RSS {out['rss_idle_mb']} MB")
        for route in ("search", "ask"):
            out[route] = {str(c): one_config(server, route, qs, c, runs) for c in levels}
        out["rss_after_mb"] = idle_rss(server)
    return out


def bench_big(size: int, qs: list[str], runs: int, workers: int = 1) -> dict[str, Any]:
    """A server on the synthetic index of ``size`` chunks: memory idle and under /search load."""
    corpus, index, _ = synthetic_index(work_dir(), size)
    t = time.perf_counter()
    with serve(corpus, index, workers) as server:
        out: dict[str, Any] = {"chunks": size, "workers": workers, "startup_s": round(time.perf_counter() - t, 2),
                               "rss_idle_mb": idle_rss(server)}
        log(f"server on {size} chunks: up in {out['startup_s']} s, idle RSS {out['rss_idle_mb']} MB")
        out["search_c8"] = one_config(server, "search", qs, 8, runs)
        out["rss_load_mb"] = out["search_c8"]["rss_load_mb"]
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--big", type=int, default=100000, help="synthetic size for the memory check (0: skip)")
    parser.add_argument("--no-diagnostic", dest="diagnostic", action="store_false",
                        help="skip the one-thread-per-pool row")
    args = parser.parse_args(argv)
    levels = [int(c) for c in args.concurrency.split(",")]
    qs = [q["question"] for q in questions()]
    notes, index = notes_index(work_dir())
    result: dict[str, Any] = {"runs": args.runs, "requests_per_run": REQUESTS, "time_limit_s": TIME_LIMIT,
                              "workers": {}}
    for w in (int(x) for x in args.workers.split(",")):
        result["workers"][str(w)] = bench_workers(notes, index, w, qs, levels, args.runs)
    if args.diagnostic:
        result["one_thread"] = one_thread_diagnostic(notes, index, qs, args.runs)
    if args.big:
        result["big"] = bench_big(args.big, qs, args.runs)
    result["errors"] = sum(cfg["errors"] for w in result["workers"].values()
                           for route in ("search", "ask") for cfg in w[route].values())
    result["rps_median_of"] = "per-run requests/s, median [min, max] over runs"
    write_result("server", result)
    return result


if __name__ == "__main__":
    main()
