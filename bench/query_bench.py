"""Query latency per retriever (dense, bm25, hybrid) and of `rag ask` (extractive), on the notes
and on synthetic corpora of 1k, 10k and 100k chunks; plus the latency-vs-size plot.

    python -m bench.query_bench [--sizes 1000] [--runs 5] [--questions 40] [--embedder offline|e5]

Each pass asks every question once; a pass is repeated ``runs`` times after a warm-up pass, and
each figure is the median of the per-pass values with their min and max. The question-analysis
cache is cleared before every pass: a student's question is new to the server, while the
passages' sentence caches stay warm as they would in a running server.
"""
from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any, Callable

from bench.common import (RESULTS, SIZES, log, notes_index, pct, questions, settings_for, spread,
                          spread_questions, synthetic_index, work_dir, write_result)
from rag.generators.extractive import ExtractiveGenerator
from rag.live import LiveSnapshot
from rag.pipeline import AnswerPipeline
from rag.search import Searcher
from rag.settings import RetrieverName

RETRIEVERS = tuple(RetrieverName)
PLOT = "latency_vs_size.png"


def clear_question_cache() -> None:
    from rag.language import korean
    from rag import retrievers

    retrievers.clear_vector_cache()
    fn = getattr(korean, "tagged_content_tokens", None)
    if hasattr(fn, "cache_clear"):
        fn.cache_clear()


def passes(fn: Callable[[str], Any], qs: list[str], runs: int) -> dict[str, Any]:
    """p50/p95 of one pass over ``qs``, as median [min, max] over ``runs`` passes after a warm-up."""
    p50s, p95s, pooled = [], [], []
    for r in range(runs + 1):
        clear_question_cache()
        samples = []
        for q in qs:
            t = time.perf_counter()
            fn(q)
            samples.append((time.perf_counter() - t) * 1000)
        if r == 0:
            continue  # warm-up pass
        p50s.append(pct(samples, 50))
        p95s.append(pct(samples, 95))
        pooled += samples
    return {"p50_ms": spread(p50s), "p95_ms": spread(p95s), "max_ms": round(max(pooled), 3),
            "questions": len(qs)}


def bench_index(notes: Path, index: Path, qs: list[str], runs: int, embedder: str = "offline") -> dict[str, Any]:
    settings = settings_for(notes, index, embedder=embedder)
    t = time.perf_counter()
    live = LiveSnapshot.from_settings(settings)
    snap = live.get()
    load_s = time.perf_counter() - t
    searcher = Searcher(settings, lambda: snap)
    pipeline = AnswerPipeline(settings, searcher, ExtractiveGenerator(settings.answer_max_chars))
    searcher.run(qs[0], snapshot=snap)  # loads Kiwi and the embedder's lazy parts
    out: dict[str, Any] = {"chunks": len(snap.chunks), "snapshot_load_s": round(load_s, 3), "embedder": snap.embedder.id}
    for name in RETRIEVERS:
        out[name] = passes(lambda q, n=name: searcher.run(q, k=10, retriever=n, snapshot=snap), qs, runs)  # type: ignore[misc]
        log(f"query {len(snap.chunks)} chunks, {name}: p50 {out[name]['p50_ms']['median']} ms")
    out["ask"] = passes(lambda q: pipeline.run(q, snapshot=snap), qs, runs)
    log(f"query {len(snap.chunks)} chunks, ask: p50 {out['ask']['p50_ms']['median']} ms")
    out["faiss_search"] = faiss_threads(snap)
    return out


def faiss_threads(snap: Any, runs: int = 30) -> dict[str, Any]:
    """Raw FAISS search time per query with OpenMP's default thread count and with one thread:
    on 2 shared cores, threads that wait for each other cost more than they save."""
    import faiss
    import numpy as np

    default = faiss.omp_get_max_threads()
    query = np.random.default_rng(0).random((1, snap.dense.dim), dtype=np.float32)
    out: dict[str, Any] = {"default_threads": default}
    try:
        for label, n in (("default", default), ("one", 1)):
            faiss.omp_set_num_threads(n)
            for _ in range(3):
                snap.dense.search(query, 50)
            samples = []
            for _ in range(runs):
                t = time.perf_counter()
                snap.dense.search(query, 50)
                samples.append((time.perf_counter() - t) * 1000)
            out[f"ms_{label}_threads"] = round(pct(samples, 50), 3)
    finally:
        faiss.omp_set_num_threads(default)
    return out


def growth(result: dict[str, Any], name: str = "hybrid") -> float | None:
    """Slope of log(p50) against log(chunks) between the two largest synthetic corpora (same
    questions at every size): 1 is linear, below 1 is sublinear."""
    pts = sorted((v["chunks"], v[name]["p50_ms"]["median"]) for k, v in result["sizes"].items() if k.isdigit())
    if len(pts) < 2 or pts[-2][0] == pts[-1][0]:
        return None
    (n1, t1), (n2, t2) = pts[-2], pts[-1]
    return round(math.log(t2 / t1) / math.log(n2 / n1), 3)


def plot(result: dict[str, Any], path: Path) -> Path:
    """p50 (solid) and p95 (dotted) against corpus size, log-log, with a linear reference; the
    synthetic corpora share one question set, the notes (all questions) are single markers."""
    from matplotlib.figure import Figure

    sizes = sorted((v for k, v in result["sizes"].items() if k.isdigit()), key=lambda v: v["chunks"])
    notes = result["sizes"].get("notes")
    fig = Figure(figsize=(7.5, 4.8))
    ax = fig.subplots()
    xs = [v["chunks"] for v in sizes]
    for name in (*RETRIEVERS, "ask"):
        if sizes:
            line = ax.plot(xs, [v[name]["p50_ms"]["median"] for v in sizes], marker="o", label=f"{name} p50")[0]
            ax.plot(xs, [v[name]["p95_ms"]["median"] for v in sizes], ls=":", color=line.get_color(), label=f"{name} p95")
            color = line.get_color()
        else:
            color = None
        if notes:
            ax.scatter([notes["chunks"]], [notes[name]["p50_ms"]["median"]], marker="x", color=color,
                       label=None if sizes else f"{name} p50")
    if sizes:
        y0 = sizes[0]["hybrid"]["p50_ms"]["median"]
        ax.plot(xs, [y0 * x / xs[0] for x in xs], color="grey", ls="--", label="linear in size (from hybrid)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("corpus size (chunks); x = the notes, all questions")
    ax.set_ylabel("latency per question (ms)")
    ax.set_title("Query latency against corpus size (offline defaults)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=110)
    return path


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="synthetic sizes in chunks ('' for none)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--questions", type=int, default=40, help="questions per synthetic size (notes: all)")
    parser.add_argument("--embedder", default="offline", choices=("offline", "e5"),
                        help="embedder of the notes' index (the synthetic corpora stay offline)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    work = work_dir()
    result: dict[str, Any] = {"runs": args.runs, "sizes": {}}
    notes, index = notes_index(work, args.embedder)
    log(f"query: notes ({args.embedder})")
    result["sizes"]["notes"] = bench_index(notes, index, [q["question"] for q in questions()], args.runs, args.embedder)
    sub = [q["question"] for q in spread_questions(args.questions)]
    for size in sizes:
        corpus, index, _ = synthetic_index(work, size)
        log(f"query: synthetic {size}")
        result["sizes"][str(size)] = bench_index(corpus, index, sub, args.runs)
    result["growth_exponent_hybrid"] = growth(result)
    result["plot"] = str(plot(result, RESULTS / PLOT).relative_to(RESULTS.parent.parent))
    write_result("query", result)
    return result


if __name__ == "__main__":
    main()
