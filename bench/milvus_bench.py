"""FAISS files per worker vs Milvus Lite: ingest throughput, query latency, memory per API
worker and /search requests/s with 1, 2 and 4 workers (uvicorn's, and gunicorn's forked after
loading the models: ``rag serve --preload``), on synthetic corpora.

    python -m bench.milvus_bench [--sizes 100000] [--workers 1,2,4] [--modes uvicorn,preload]
                                 [--questions 40] [--requests 150]
    python -m bench.milvus_bench --sizes 1000000          # the 1M-chunk corpus (long on 2 cores)

Corpora are the bench's synthetic ones (resampled note sentences, the fast offline embedder).
"ingest" is the whole `rag ingest` of the corpus (load, split, analyse, embed, write the FAISS
snapshot); "publish" is the extra step of the Milvus backend (copy into a new collection, verify,
switch the alias). Query latency is one in-process hybrid search (dense + BM25 + fusion +
proximity), p50/p95 over the questions. Memory is each uvicorn worker's RSS when idle after
start-up and a warm-up load, PSS (shared pages split between their sharers) beside it, and the
PSS of the whole server (master included) that preloading is judged by; the
milvus-lite server's own RSS is the engine's, reported apart (one per deployment, not per
worker). The load generator shares the 2 cores with the server: requests/s is a floor.
"""
from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path
from typing import Any

from bench.common import log, pct, settings_for, spread_questions, synthetic_index, work_dir, write_result
from bench.httpload import load, pss_kb, serve, vmrss_kb


def query_latency(searcher: Any, qs: list[str]) -> dict[str, float]:
    searcher.run(qs[0])  # warm-up (Kiwi, caches)
    samples = []
    for q in qs:
        t = time.perf_counter()
        searcher.run(q)
        samples.append((time.perf_counter() - t) * 1000)
    return {"p50_ms": round(pct(samples, 50), 2), "p95_ms": round(pct(samples, 95), 2)}


def worker_memory(server: Any) -> dict[str, float]:
    """Memory of a server: RSS and PSS per worker, and PSS of the whole process tree (supervisor
    or gunicorn master, workers): with workers that share pages, the total PSS is what the
    server really costs, RSS counts shared pages once per process."""
    pids = server.pids()  # uvicorn alone, or its supervisor / gunicorn's master, its workers (and a helper)
    everything = pids
    if len(pids) > 1:
        pids = [p for p in pids[1:] if vmrss_kb(p) > 100 * 1024]
    rss = [vmrss_kb(p) / 1024 for p in pids]
    pss = [pss_kb(p) / 1024 for p in pids]
    return {"rss_per_worker_mb": round(sum(rss) / len(rss), 1), "pss_per_worker_mb": round(sum(pss) / len(pss), 1),
            "rss_total_mb": round(server.rss_mb(), 1), "pss_total_mb": round(sum(pss_kb(p) for p in everything) / 1024, 1)}


def one_backend(name: str, corpus: Path, index: Path, env: dict[str, str], workers: list[int], qs: list[str],
                requests: int, preload: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for w in workers:
        with serve(corpus, index, w, timeout=900, extra_env=env, preload=preload) as server:
            time.sleep(1.0)
            load(server, "search", qs, 4, 20, 30.0, sample_rss=False)  # warm-up: every worker has analysed Korean
            mem = worker_memory(server)
            r = load(server, "search", qs, 8, requests, 60.0, sample_rss=False)
            out[str(w)] = {**mem, "rps": round(r.rps, 1), "p50_ms": round(pct(r.latencies_ms, 50), 1),
                           "p95_ms": round(pct(r.latencies_ms, 95), 1), "errors": r.errors}
            log(f"{name}{' --preload' if preload else ''} {w} worker(s): {out[str(w)]}")
    return out


def bench_size(size: int, workers: list[int], qs: list[str], requests: int, modes: list[str]) -> dict[str, Any]:
    from ingest.milvus_publisher import MilvusPublisher
    from rag.milvus.source import MilvusSnapshotSource
    from rag.search import Searcher
    from rag.snapshots.format import read_current, snapshots_dir
    from rag.snapshots.store import SnapshotStore
    from tests.milvus_server import run_milvus

    work = work_dir()
    log(f"milvus bench: building the {size}-chunk synthetic corpus and its FAISS snapshot")
    corpus, index, stats = synthetic_index(work, size)
    result: dict[str, Any] = {"chunks": stats["chunks"], "ingest_s": stats["seconds"],
                              "ingest_chunks_per_s": stats["chunks_per_s"]}
    data = work / f"milvus-{size}"
    shutil.rmtree(data, ignore_errors=True)
    with run_milvus(data) as milvus:
        settings = settings_for(corpus, index, index_backend="milvus", milvus_uri=milvus.uri,
                                milvus_prefix="bench", milvus_timeout_s=600)
        t = time.perf_counter()
        MilvusPublisher(settings).publish(snapshots_dir(index) / str(read_current(index)))
        seconds = time.perf_counter() - t
        result["publish_s"] = round(seconds, 1)
        result["publish_chunks_per_s"] = round(stats["chunks"] / seconds, 1)
        log(f"published {stats['chunks']} chunks to Milvus Lite in {seconds:.1f} s")
        files = SnapshotStore(index).open_live()
        engine_snap = MilvusSnapshotSource(settings).open_live()
        plain = settings_for(corpus, index)
        result["query"] = {"faiss": query_latency(Searcher(plain, lambda: files), qs),
                           "milvus": query_latency(Searcher(settings, lambda: engine_snap), qs)}
        del files, engine_snap
        log(f"in-process hybrid search: {result['query']}")
        result["engine_rss_mb"] = round(vmrss_kb(milvus.process.pid) / 1024, 1)
        env = {"RAG_INDEX_BACKEND": "milvus", "RAG_MILVUS_URI": milvus.uri, "RAG_MILVUS_PREFIX": "bench",
               "RAG_MILVUS_TIMEOUT_S": "600"}
        for mode in modes:
            result["milvus" + mode] = one_backend("milvus", corpus, index, env, workers, qs, requests, mode == PRELOAD)
        result["engine_rss_after_mb"] = round(vmrss_kb(milvus.process.pid) / 1024, 1)
    for mode in modes:
        result["faiss" + mode] = one_backend("faiss", corpus, index, {}, workers, qs, requests, mode == PRELOAD)
    return result


PRELOAD = "+preload"
MODES = {"uvicorn": "", "preload": PRELOAD}


def _runs(r: dict[str, Any]) -> list[tuple[str, str]]:
    """(backend, result key) of every measured server kind, e.g. ("milvus", "milvus+preload")."""
    return [(b, b + m) for b in ("faiss", "milvus") for m in MODES.values() if b + m in r]


def table(results: dict[str, Any]) -> str:
    lines = ["| chunks | backend | workers | ingest chunks/s | publish chunks/s | query p50 / p95 ms | RSS/worker MB "
             "| PSS/worker MB | server PSS MB | /search req/s | engine RSS MB |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for size, r in results.items():
        for backend, key in _runs(r):
            q = r["query"][backend]
            for w, m in r[key].items():
                lines.append(f"| {size} | {key} | {w} | {r['ingest_chunks_per_s']} | "
                             f"{r['publish_chunks_per_s'] if backend == 'milvus' else '-'} | "
                             f"{q['p50_ms']} / {q['p95_ms']} | {m['rss_per_worker_mb']} | {m['pss_per_worker_mb']} | "
                             f"{m.get('pss_total_mb', '-')} | {m['rps']} | "
                             f"{r['engine_rss_after_mb'] if backend == 'milvus' else '-'} |")
    return "\n".join(lines)


def crossover(results: dict[str, Any]) -> str:
    """Memory of N FAISS workers against N Milvus workers plus the engine (total PSS of the
    server's processes; the engine is one per deployment)."""
    notes = []
    for size, r in results.items():
        for mode in MODES.values():
            if "faiss" + mode not in r or "milvus" + mode not in r:
                continue
            for w, f in r["faiss" + mode].items():
                m = r["milvus" + mode][w]
                notes.append(f"{size} chunks, {w} worker(s){mode}: FAISS {f['pss_total_mb']:.0f} MB vs Milvus workers "
                             f"{m['pss_total_mb']:.0f} MB + engine {r['engine_rss_after_mb']:.0f} MB")
    return "\n".join(notes)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000", help="synthetic sizes in chunks, e.g. 100000,1000000")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--requests", type=int, default=150, help="/search requests per measurement")
    parser.add_argument("--modes", default="uvicorn,preload",
                        help="worker kinds: uvicorn (--workers N, spawned) and/or preload (rag serve --preload)")
    args = parser.parse_args(argv)
    qs = [q["question"] for q in spread_questions(args.questions)]
    workers = [int(w) for w in args.workers.split(",")]
    modes = [MODES[m] for m in args.modes.split(",")]
    results = {str(s): bench_size(int(s), workers, qs, args.requests, modes) for s in args.sizes.split(",")}
    print(table(results))
    print(crossover(results))
    write_result("milvus", {"sizes": results, "table": table(results)}, quiet=True)
    return results


if __name__ == "__main__":
    main()
