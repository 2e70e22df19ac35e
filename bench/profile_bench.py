"""Profiles for missed targets (pyinstrument, and a staged RSS breakdown for memory), written to
``bench/results/profile_<name>.json`` (top entries by self time) and ``.txt`` (the call tree).

    python -m bench.profile_bench query [--size 100000]   # hybrid searches
    python -m bench.profile_bench server                  # py-spy on uvicorn's workers under /search load
    python -m bench.profile_bench reingest                # one-file change on the notes
    python -m bench.profile_bench ingest [--size 1000]    # a synthetic build
    python -m bench.profile_bench memory [--size 100000]  # RSS after each stage of a worker's start

Kiwi's model is loaded before the profiler starts: constructing ``Kiwi()`` while pyinstrument
samples has crashed the interpreter (segmentation fault) on our machine.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable

from bench.common import (RESULTS, clear_text_caches, log, notes_index, questions, settings_for, spread_questions,
                          synthetic_corpus, synthetic_index, work_dir, write_result)
from bench.httpload import load, serve, vmrss_kb


def top_entries(session: Any, limit: int = 15) -> list[dict[str, Any]]:
    """Functions by self time (summed over the tree), with their inclusive time."""
    self_t: dict[str, float] = defaultdict(float)
    total_t: dict[str, float] = defaultdict(float)

    def walk(frame: Any, ancestors: frozenset[str]) -> None:
        if frame.is_synthetic:
            return  # '[self]' leaves: already in their parent's total_self_time
        key = f"{frame.function} ({frame.file_path_short}:{frame.line_no})"
        self_t[key] += frame.total_self_time
        if key not in ancestors:
            total_t[key] += frame.time
        for child in frame.children:
            walk(child, ancestors | {key})

    root = session.root_frame()
    if root is not None:
        walk(root, frozenset())
    keys = sorted(self_t, key=lambda k: -self_t[k])[:limit]
    return [{"function": k, "self_s": round(self_t[k], 4), "total_s": round(total_t[k], 4)} for k in keys]


def profiled(name: str, title: str, fn: Callable[[], str]) -> dict[str, Any]:
    from pyinstrument import Profiler

    from rag.language.korean import kiwi

    kiwi()  # see the module docstring
    profiler = Profiler(interval=0.001)
    profiler.start()
    note = fn()
    profiler.stop()
    session = profiler.last_session
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"profile_{name}.txt").write_text(
        profiler.output_text(unicode=False, color=False, show_all=False), encoding="utf-8")
    data = {"title": title, "note": note, "top": top_entries(session)}
    write_result(f"profile_{name}", data, quiet=True)
    return data


def _index(size: int | None) -> tuple[Path, Path]:
    work = work_dir()
    if size:
        corpus, index, _ = synthetic_index(work, size)
        return corpus, index
    return notes_index(work)


def prof_query(size: int | None) -> None:
    from rag.live import LiveSnapshot
    from rag.search import Searcher

    notes, index = _index(size)
    settings = settings_for(notes, index)
    snap = LiveSnapshot.from_settings(settings).get()
    searcher = Searcher(settings, lambda: snap)
    qs = [q["question"] for q in spread_questions(40)]
    searcher.run(qs[0], snapshot=snap)

    def go() -> str:
        t = time.perf_counter()
        for _ in range(3):
            for q in qs:
                searcher.run(q, k=10, retriever="hybrid", snapshot=snap)
        return f"{3 * len(qs)} hybrid searches on {len(snap.chunks):,} chunks, {(time.perf_counter() - t) / (3 * len(qs)) * 1000:.2f} ms each under the profiler."

    profiled(f"query_{size or 'notes'}", f"Hybrid search, {len(snap.chunks):,} chunks", go)


IDLE_LEAVES = ("Condition.wait", "Queue.get", "Runner.run", "Event.wait", "select ", "_run_once")


def spy_top(raw: Path, limit: int = 15) -> tuple[list[dict[str, Any]], int]:
    """Top entries of a py-spy raw profile (``frames;...;frames count`` per line), busy samples only:
    threads waiting for work (thread-pool queue, the event loop's poll) are left out."""
    self_c: dict[str, int] = defaultdict(int)
    total_c: dict[str, int] = defaultdict(int)
    busy = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")[1:]]  # by function, not line
        if not frames or not count.isdigit() or frames[-1].startswith(IDLE_LEAVES):
            continue
        n = int(count)
        busy += n
        self_c[frames[-1]] += n
        for f in set(frames):
            total_c[f] += n
    keys = sorted(self_c, key=lambda k: -self_c[k])[:limit]
    return [{"function": k, "self_s": round(self_c[k] / max(busy, 1), 4), "total_s": round(total_c[k] / max(busy, 1), 4)}
            for k in keys], busy


def prof_server(workers: int = 2, seconds: int = 8) -> None:
    """py-spy on the real uvicorn workers while /search is loaded at concurrency 8 (pyinstrument
    sees one thread only, and a sync FastAPI route runs in a thread pool)."""
    notes, index = _index(None)
    qs = [q["question"] for q in questions()]
    raw = RESULTS / "profile_server.raw"
    spy = Path(sys.executable).with_name("py-spy")
    with serve(notes, index, workers) as server:
        load(server, "search", qs, 8, 100, 10, sample_rss=False)
        proc = subprocess.Popen([str(spy), "record", "--pid", str(server.process.pid), "--subprocesses", "--format",
                                 "raw", "-o", str(raw), "-d", str(seconds), "--rate", "250", "--nonblocking"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        time.sleep(0.5)
        r = load(server, "search", qs, 8, 100000, seconds - 1, sample_rss=False)
        out = proc.communicate(timeout=120)[0].decode(errors="replace")
    if proc.returncode != 0 or not raw.is_file():
        log(f"py-spy failed: {out[-500:]}")
        return
    top, busy = spy_top(raw)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "profile_server.txt").write_text(
        "\n".join(f"{e['self_s']:7.1%} self {e['total_s']:7.1%} total  {e['function']}" for e in spy_top(raw, 60)[0]) + "\n",
        encoding="utf-8")
    raw.unlink()
    write_result("profile_server", {
        "title": f"GET /search over HTTP, {workers} workers, concurrency 8 (py-spy, all threads and workers)",
        "note": f"{r.rps:.0f} req/s while sampled; {busy} busy samples. Columns are shares of busy samples.",
        "columns": ["self share", "total share", "function"], "top": top}, quiet=True)


def prof_ingest(size: int | None, reingest: bool) -> None:
    from ingest.pipeline import Ingestor

    work = work_dir()
    if reingest:
        notes, index = notes_index(work)
        target = sorted(notes.iterdir())[-1]
        original = target.read_text(encoding="utf-8")
        settings = settings_for(notes, index)

        def go() -> str:
            t = time.perf_counter()
            for i in range(3):
                target.write_text(original + f"\n\n프로파일 {i}: 한 줄을 바꿨다.\n", encoding="utf-8")
                Ingestor(settings, progress=False).sync()
            target.write_text(original, encoding="utf-8")
            return f"3 one-file re-ingests of the notes, {(time.perf_counter() - t) / 3:.2f} s each under the profiler."

        profiled("reingest", "One file changed, re-ingest of the notes", go)
        Ingestor(settings, progress=False).sync()
        return
    corpus = synthetic_corpus(work / f"prof-syn-{size}", size or 1000)
    index = work / f"prof-index-{size}"
    shutil.rmtree(index, ignore_errors=True)
    clear_text_caches()

    def build() -> str:
        s = Ingestor(settings_for(corpus, index), progress=False).sync()
        return f"full build of {s.chunks:,} synthetic chunks in {s.seconds:.1f} s under the profiler."

    profiled(f"ingest_{size}", f"Ingest of a synthetic corpus of {size:,} chunks", build)


def prof_memory(size: int | None) -> None:
    """RSS of this (fresh) process after each stage a worker goes through at start."""
    rows: list[dict[str, Any]] = []
    last = [0.0]

    def mark(stage: str) -> None:
        mb = vmrss_kb(os.getpid()) / 1024
        rows.append({"function": stage, "self_s": round(mb - last[0], 1), "total_s": round(mb, 1)})
        last[0] = mb

    mark("python interpreter")
    notes, index = _index(size)
    mark("bench helpers (and the index build when it was missing)")
    import api.app  # noqa: F401

    mark("import api.app (FastAPI, rag, faiss, sklearn, ...)")
    from api.services import Services

    services = Services.load(settings_for(notes, index))
    mark("Services.load (searcher, generator)")
    snap = services.live.get()
    mark(f"snapshot open ({len(snap.chunks):,} chunks: chunk table, FAISS, BM25, embedder)")
    services.searcher.run("warm-up 준비", snapshot=snap)
    mark("first search (Kiwi model, lazy parts)")
    for q in questions()[:50]:
        services.pipeline.run(q["question"], snapshot=snap)
    mark("50 answers (caches filled)")
    write_result(f"profile_memory_{size or 'notes'}", {
        "title": f"Memory of one worker by stage, {len(snap.chunks):,} chunks",
        "note": "RSS of one fresh process after each stage a uvicorn worker goes through.",
        "columns": ["added MB", "RSS MB", "stage"], "top": rows}, quiet=True)
    log(f"memory: {rows}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["query", "server", "reingest", "ingest", "memory"])
    parser.add_argument("--size", type=int, default=0, help="synthetic size (0: the notes)")
    args = parser.parse_args(argv)
    size = args.size or None
    if args.what == "query":
        prof_query(size)
    elif args.what == "server":
        prof_server()
    elif args.what in ("reingest", "ingest"):
        prof_ingest(size or 1000, args.what == "reingest")
    else:
        prof_memory(size)
    log(f"profile {args.what} written under {RESULTS}")


if __name__ == "__main__":
    main()
