"""A million chunks on one host: hybrid retrieval latency, the dense index's recall, build time
and memory per worker, on synthetic snapshots (bench.scale_corpus says how they are made).

    python -m bench.scale --sizes 100000,1000000 --json

prints one JSON object on stdout (progress on stderr) and writes bench/results/scale.json:

    {"sizes": [{"chunks", "p50_ms", "p95_ms", "recall_at_10", "pss_mb_per_worker", "build_s", ...}],
     "note": ...}

For each size:
- ``build_s``: the dense index (the backend ``RAG_DENSE_APPROXIMATE_ABOVE`` picks for that size),
  the bm25s index over the chunks' morphemes, and the project's snapshot writer (chunk and
  sentence tables, meta); the synthetic corpus itself is not counted (``corpus_s``).
- ``p50_ms``/``p95_ms``: ``Searcher.retrieve`` (analyse, dense + bm25s, weighted RRF, the
  proximity rerank, passages with their sentences) over the test set's and blind set's questions,
  in a worker process that opened the snapshot with ``Snapshot.open`` as a server worker does
  (memory-mapped index files, chunk table on demand); the question's vector comes from the
  synthetic embedder (~0.1 ms) instead of e5.
- ``recall_at_10``: the served dense index's top 10 against exact search (FAISS flat) over 200
  query vectors of the same distribution; ``nprobe_sweep`` gives recall and p50 of the dense
  search alone for other nprobe values (how the default was chosen).
- ``pss_mb_per_worker``: the mean PSS (/proc/PID/smaps_rollup) of two worker processes that each
  opened the snapshot and ran the questions (the first one timed alone, then the second):
  shared pages count half in each. ``pss_mb_if_all_resident``: the same with every page of the
  memory-mapped index files resident (their size / 2 in place of what was touched), the
  steady state of a long-serving pair.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import ROOT, TESTSET, log, pct, work_dir, write_result

RECALL_QUERIES = 200
WARMUP = 10
SWEEP = (4, 8, 16, 32, 64, 128)
MAPPED = ("faiss.index", "bm25")  # the snapshot's memory-mapped index files (sentence vectors: none here)


def questions() -> list[str]:
    out = []
    for path in (TESTSET, TESTSET.with_name("blind2.jsonl")):
        out += [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return out


def build(n: int, index_dir: Path) -> tuple[Path, dict[str, Any]]:
    """Write the synthetic snapshot of ``n`` chunks; (its directory, timings and sizes)."""
    from bench.scale_corpus import SyntheticEmbedder, synthetic_chunks
    from ingest.snapshot_writer import SnapshotWriter
    from rag.dense.registry import dense_class_for_size
    from rag.lexical.registry import BACKENDS as LEXICAL
    from rag.settings import Settings
    from rag.snapshots.format import snapshots_dir

    t0 = time.perf_counter()
    embedder = SyntheticEmbedder(topics=max(1, round(n ** 0.5)))
    chunks, documents, sentences = synthetic_chunks(n)
    vectors = embedder.corpus_vectors(n)
    corpus_s = time.perf_counter() - t0
    log(f"scale {n:,}: synthetic corpus in {corpus_s:.1f} s")
    t1 = time.perf_counter()
    dense = dense_class_for_size(n, Settings(_env_file=None).dense_approximate_above).build(vectors)  # type: ignore[call-arg]
    t2 = time.perf_counter()
    log(f"scale {n:,}: dense {dense.name} in {t2 - t1:.1f} s")
    lexical = LEXICAL[LEXICAL.default].build([[t for s in c for t in s[2]] for c in sentences])
    t3 = time.perf_counter()
    log(f"scale {n:,}: bm25s in {t3 - t2:.1f} s")
    writer = SnapshotWriter(index_dir, keep=1)
    empty = np.zeros((0, embedder.dim), np.float16)
    snap_id = writer.write(chunks, documents, dense, lexical, embedder, {"config": {"bench": "scale"}}, sentences,
                           [empty] * n)
    writer.publish(snap_id)
    t4 = time.perf_counter()
    log(f"scale {n:,}: snapshot written in {t4 - t3:.1f} s")
    path = snapshots_dir(index_dir) / snap_id
    return path, {"corpus_s": round(corpus_s, 1), "build_s": round(t4 - t1, 1),
                  "build_parts_s": {"dense": round(t2 - t1, 1), "bm25": round(t3 - t2, 1), "write": round(t4 - t3, 1)},
                  "dense_backend": dense.name, "vectors": vectors, "dense": dense, "topics": embedder.topics}


def recall(vectors: np.ndarray, dense: Any, topics: int) -> dict[str, Any]:
    """Recall@10 of ``dense`` (as built) against exact search, and the nprobe sweep."""
    import faiss

    from bench.scale_corpus import SyntheticEmbedder

    queries = SyntheticEmbedder(topics).embed_documents([f"recall query {i}" for i in range(RECALL_QUERIES)])
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    truth = exact.search(queries, 10)[1]
    del exact

    def measure() -> tuple[float, float]:
        found, ms = [], []
        for q in queries:
            t = time.perf_counter()
            found.append(dense.search(q, 10)[0])
            ms.append((time.perf_counter() - t) * 1000)
        r = float(np.mean([len(set(f.tolist()) & set(e.tolist())) / 10 for f, e in zip(found, truth)]))
        return round(r, 4), round(pct(ms, 50), 3)

    out: dict[str, Any] = {}
    out["recall_at_10"], out["dense_p50_ms"] = measure()
    ivf = getattr(dense.index, "nprobe", None)
    if ivf is not None:
        out["nlist"], out["nprobe"] = int(dense.index.nlist), int(ivf)
        sweep = {}
        for nprobe in SWEEP:
            dense.index.nprobe = nprobe
            sweep[str(nprobe)] = dict(zip(("recall_at_10", "dense_p50_ms"), measure()))
        dense.index.nprobe = ivf
        out["nprobe_sweep"] = sweep
    return out


def rollup(pid: int) -> dict[str, int]:
    """kB fields of /proc/PID/smaps_rollup (Rss, Pss, Pss_Anon, Pss_File, ...)."""
    out = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, value = line.split(":", 1)
        out[key] = int(value.split()[0])
    return out


def mapped_pss_kb(pid: int, directory: Path) -> int:
    """PSS (kB) of the process' mappings of files under ``directory`` (/proc/PID/smaps)."""
    total, inside = 0, False
    prefix = str(directory.resolve())
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split(maxsplit=5)
        if len(head) >= 5 and "-" in head[0] and not head[0].endswith(":"):  # a mapping's header line
            inside = len(head) == 6 and head[5].startswith(prefix)
        elif inside and line.startswith("Pss:"):
            total += int(line.split()[1])
    return total


def workers(snapshot: Path, topics: int) -> dict[str, Any]:
    """Two worker processes open the snapshot and run the questions, one after the other; then
    both PSS are read while both are alive."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    procs, results = [], []
    try:
        for _ in range(2):
            p = subprocess.Popen([sys.executable, "-m", "bench.scale", "--worker", str(snapshot), "--topics", str(topics)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)
            procs.append(p)
            line = p.stdout.readline() if p.stdout else ""
            if not line:
                raise RuntimeError(f"worker {p.pid} exited ({p.wait()})")
            results.append(json.loads(line))
        mem = [{**rollup(p.pid), "index_pss": mapped_pss_kb(p.pid, snapshot)} for p in procs]
    finally:
        for p in procs:
            if p.stdin:
                p.stdin.close()
            p.wait(timeout=120)
    mapped = sum(f.stat().st_size for name in MAPPED for f in ([snapshot / name] if (snapshot / name).is_file()
                                                                 else (snapshot / name).rglob("*")))
    ms = results[0]["latencies_ms"]
    pss = [m["Pss"] / 1024 for m in mem]
    resident = [(m["Pss"] - m["index_pss"]) / 1024 + mapped / 2 / 2 ** 20 for m in mem]
    return {"p50_ms": round(pct(ms, 50), 2), "p95_ms": round(pct(ms, 95), 2), "questions": len(ms),
            "second_worker_p50_ms": round(pct(results[1]["latencies_ms"], 50), 2),
            "parts_p50_ms": {k: round(pct(v, 50), 2) for k, v in results[0]["parts_ms"].items()},
            "pss_mb_per_worker": round(float(np.mean(pss)), 1), "pss_mb_if_all_resident": round(float(np.mean(resident)), 1),
            "rss_mb_per_worker": round(float(np.mean([m["Rss"] for m in mem])) / 1024, 1),
            "index_pss_mb_per_worker": round(float(np.mean([m["index_pss"] for m in mem])) / 1024, 1),
            "open_s": results[0]["open_s"], "mapped_index_mb": round(mapped / 2 ** 20, 1)}


def worker(snapshot: Path, topics: int) -> None:
    """Open the snapshot as a server worker does, time the questions, print them, wait for stdin."""
    from bench.scale_corpus import SyntheticEmbedder
    from rag.search import Searcher
    from rag.settings import Settings
    from rag.snapshots.snapshot import Snapshot

    t = time.perf_counter()
    settings = Settings(_env_file=None, index_dir=snapshot.parent.parent, embedder="offline")  # type: ignore[call-arg]
    snap = Snapshot.open(snapshot, SyntheticEmbedder(topics), settings)
    searcher = Searcher(settings, lambda: snap)
    open_s = round(time.perf_counter() - t, 2)
    qs = questions()
    for q in qs[:WARMUP]:
        searcher.retrieve(q)
    ms, parts = [], {"analyse": [], "bm25": [], "dense": []}
    for q in qs[WARMUP:]:
        t = time.perf_counter()
        query, _, timings = searcher.retrieve(q)
        ms.append((time.perf_counter() - t) * 1000)
        parts["analyse"].append(timings["analyse"])
        for name, fn in (("bm25", lambda: snap.lexical.search(query.tokens, settings.candidates)),
                         ("dense", lambda: snap.dense.search(query.vector, settings.candidates))):
            t = time.perf_counter()
            fn()
            parts[name].append((time.perf_counter() - t) * 1000)
    print(json.dumps({"latencies_ms": ms, "parts_ms": parts, "open_s": open_s}), flush=True)
    sys.stdin.read()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="100000", help="comma-separated chunk counts (default 100000)")
    ap.add_argument("--json", action="store_true", help="print only the JSON object on stdout")
    ap.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--topics", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args.worker, args.topics)
        return 0
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        ap.error(f"--sizes must be comma-separated integers, not {args.sizes!r}")
    if not sizes or min(sizes) < 1:
        ap.error("--sizes needs at least one positive chunk count")
    out: dict[str, Any] = {"sizes": [], "note": (
        "dense vectors are random unit vectors (384-d float32) in sqrt(n) topics, not e5 embeddings; the question "
        "vectors come from the same distribution; recall_at_10 holds for that distribution. Latency and memory "
        "exclude the query embedder (e5 adds its query time and, without --preload, its model per worker)."),
        "machine": f"{os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2 ** 30:.0f} GiB"}
    work = work_dir()
    for n in sizes:
        index_dir = work / f"scale-{n}"
        shutil.rmtree(index_dir, ignore_errors=True)
        path, info = build(n, index_dir)
        vectors, dense = info.pop("vectors"), info.pop("dense")
        row = {"chunks": n, **recall(vectors, dense, info["topics"])}
        del vectors, dense
        log(f"scale {n:,}: recall@10 {row['recall_at_10']}")
        row.update(workers(path, info.pop("topics")))
        row.update(info)
        log(f"scale {n:,}: hybrid p50 {row['p50_ms']} ms, PSS {row['pss_mb_per_worker']} MB per worker")
        out["sizes"].append(row)
        shutil.rmtree(index_dir, ignore_errors=True)
    write_result("scale", out, quiet=True)
    print(json.dumps(out, ensure_ascii=False, indent=None if args.json else 1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
