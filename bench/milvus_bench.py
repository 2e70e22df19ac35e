"""FAISS files per worker vs Milvus Lite: ingest throughput, query latency, memory per API
worker and /search requests/s with 1, 2 and 4 workers, on synthetic corpora.

    python -m bench.milvus_bench [--sizes 100000] [--workers 1,2,4] [--questions 40] [--requests 150]
    python -m bench.milvus_bench --sizes 1000000          # the 1M-chunk corpus (long on 2 cores)

Corpora are the bench's synthetic ones (resampled note sentences, the fast offline embedder).
"ingest" is the whole `rag ingest` of the corpus (load, split, analyse, embed, write the FAISS
snapshot); "publish" is the extra step of the Milvus backend (copy into a new collection, verify,
switch the alias). Query latency is one in-process hybrid search (dense + BM25 + fusion +
proximity), p50/p95 over the questions. Memory is each uvicorn worker's RSS when idle after
start-up, and PSS (pages shared between workers counted once per sharer) beside it; the
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
from bench.httpload import load, serve, vmrss_kb


def pss_kb(pid: int) -> int:
    """Proportional set size (Linux smaps_rollup): shared pages split between their sharers."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def query_latency(searcher: Any, qs: list[str]) -> dict[str, float]:
    searcher.run(qs[0])  # warm-up (Kiwi, caches)
    samples = []
    for q in qs:
        t = time.perf_counter()
        searcher.run(q)
        samples.append((time.perf_counter() - t) * 1000)
    return {"p50_ms": round(pct(samples, 50), 2), "p95_ms": round(pct(samples, 95), 2)}


def worker_memory(server: Any) -> dict[str, float]:
    pids = server.pids()  # uvicorn alone, or its supervisor, its workers (and a small helper process)
    if len(pids) > 1:
        pids = [p for p in pids[1:] if vmrss_kb(p) > 100 * 1024]
    rss = [vmrss_kb(p) / 1024 for p in pids]
    pss = [pss_kb(p) / 1024 for p in pids]
    return {"rss_per_worker_mb": round(sum(rss) / len(rss), 1), "pss_per_worker_mb": round(sum(pss) / len(pss), 1),
            "rss_total_mb": round(server.rss_mb(), 1)}


def one_backend(name: str, corpus: Path, index: Path, env: dict[str, str], workers: list[int], qs: list[str],
                requests: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for w in workers:
        with serve(corpus, index, w, timeout=900, extra_env=env) as server:
            time.sleep(1.0)
            mem = worker_memory(server)
            load(server, "search", qs, 4, 20, 30.0, sample_rss=False)  # warm-up
            r = load(server, "search", qs, 8, requests, 60.0, sample_rss=False)
            out[str(w)] = {**mem, "rps": round(r.rps, 1), "p50_ms": round(pct(r.latencies_ms, 50), 1),
                           "p95_ms": round(pct(r.latencies_ms, 95), 1), "errors": r.errors}
            log(f"{name} {w} worker(s): {out[str(w)]}")
    return out


def bench_size(size: int, workers: list[int], qs: list[str], requests: int) -> dict[str, Any]:
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
        result["milvus"] = one_backend("milvus", corpus, index, env, workers, qs, requests)
        result["engine_rss_after_mb"] = round(vmrss_kb(milvus.process.pid) / 1024, 1)
    result["faiss"] = one_backend("faiss", corpus, index, {}, workers, qs, requests)
    return result


def table(results: dict[str, Any]) -> str:
    lines = ["| chunks | backend | ingest chunks/s | publish chunks/s | query p50 / p95 ms | workers | RSS/worker MB "
             "| PSS/worker MB | /search req/s | engine RSS MB |", "|---|---|---|---|---|---|---|---|---|---|"]
    for size, r in results.items():
        for backend in ("faiss", "milvus"):
            q = r["query"][backend]
            for w, m in r[backend].items():
                lines.append(f"| {size} | {backend} | {r['ingest_chunks_per_s']} | "
                             f"{r['publish_chunks_per_s'] if backend == 'milvus' else '-'} | "
                             f"{q['p50_ms']} / {q['p95_ms']} | {w} | {m['rss_per_worker_mb']} | {m['pss_per_worker_mb']} | "
                             f"{m['rps']} | {r['engine_rss_after_mb'] if backend == 'milvus' else '-'} |")
    return "\n".join(lines)


def crossover(results: dict[str, Any]) -> str:
    """Where N Milvus workers plus the engine take less memory than N FAISS workers."""
    notes = []
    for size, r in results.items():
        for w in r["faiss"]:
            faiss_total = r["faiss"][w]["rss_total_mb"]
            milvus_total = r["milvus"][w]["rss_total_mb"] + r["engine_rss_after_mb"]
            notes.append(f"{size} chunks, {w} worker(s): FAISS {faiss_total:.0f} MB vs Milvus workers + engine "
                         f"{milvus_total:.0f} MB")
    return "\n".join(notes)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000", help="synthetic sizes in chunks, e.g. 100000,1000000")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--requests", type=int, default=150, help="/search requests per measurement")
    args = parser.parse_args(argv)
    qs = [q["question"] for q in spread_questions(args.questions)]
    workers = [int(w) for w in args.workers.split(",")]
    results = {str(s): bench_size(int(s), workers, qs, args.requests) for s in args.sizes.split(",")}
    print(table(results))
    print(crossover(results))
    write_result("milvus", {"sizes": results, "table": table(results)}, quiet=True)
    return results


if __name__ == "__main__":
    main()
