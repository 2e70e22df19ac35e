"""A maintainer's write after one large PDF: with the document cache (parses only the new file)
and without it (the cache emptied first: every file parsed and split, as every write did before).

    python -m bench.write_bench [--pages 2000] [--runs 3]

Prints the time of a one-note write and of each ingest stage; writes bench/results/write.json.
"""
from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import time
from typing import Any

from bench.common import NOTES, log, settings_for, work_dir, write_result
from ingest.pipeline import Ingestor
from tests.pdfs import write_text_pdf

LINE = "Lecture {p}.{l}: gradient descent moves the weights against the gradient of the loss, step {p}."


def staged_sync(settings: Any) -> tuple[float, dict[str, float], int]:
    """(seconds, seconds per stage, files parsed) of one sync."""
    marks: list[tuple[str, float]] = []
    started = time.perf_counter()
    summary = Ingestor(settings, progress=False).sync(on_stage=lambda s: marks.append((s, time.perf_counter())))
    end = time.perf_counter()
    stages = {name: round(nxt - t, 3) for (name, t), (_, nxt) in zip(marks, [*marks[1:], ("end", end)])}
    return end - started, stages, summary.parsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pages", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    work = work_dir() / "write-bench"
    shutil.rmtree(work, ignore_errors=True)
    notes, index = work / "notes", work / "index"
    shutil.copytree(NOTES, notes)
    write_text_pdf(notes / "book.pdf", [[LINE.format(p=p, l=l) for l in range(12)] for p in range(1, args.pages + 1)])
    settings = settings_for(notes, index)
    log(f"write bench: notes + a {args.pages}-page PDF ({(notes / 'book.pdf').stat().st_size / 1e6:.1f} MB)")
    first, first_stages, _ = staged_sync(settings)
    out: dict[str, Any] = {"pages": args.pages, "first_build_s": round(first, 3), "first_build_stages": first_stages}
    for mode in ("cached", "uncached"):
        times, stages, parsed = [], [], []
        for run in range(args.runs):
            (notes / f"{mode}-{run}.md").write_text(f"# 메모 {run}\n\n{mode} 쓰기 {run}번: 학습률을 바꿨다.\n",
                                                   encoding="utf-8")
            if mode == "uncached":  # what every write did before: parse every file again
                con = sqlite3.connect(index / "cache.sqlite")
                with con:
                    con.execute("DELETE FROM loaded")
                    con.execute("DELETE FROM split")
                con.close()
            seconds, st, n = staged_sync(settings)
            times.append(seconds)
            stages.append(st)
            parsed.append(n)
        out[mode] = {"median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3),
                     "max_s": round(max(times), 3), "files_parsed": parsed, "stages_s": stages[-1]}
        log(f"  one-note write, {mode}: median {out[mode]['median_s']:.2f}s over {args.runs} runs, "
            f"files parsed {parsed}, stages {stages[-1]}")
    write_result("write", out)


if __name__ == "__main__":
    main()
