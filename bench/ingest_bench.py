"""Ingest speed: full build of the notes, a no-change re-run, one file changed, and throughput
on synthetic corpora (resampled note sentences) of 1k, 10k and 100k chunks, and ingest time
against the number of lines of one note (bench.lines_bench: 10k, 40k, 160k lines).

    python -m bench.ingest_bench [--sizes 1000,10000] [--runs 5] [--lines 10000,40000,160000]
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from typing import Any

from bench.common import (NOTES, SIZES, clear_text_caches, log, repeat, settings_for, synthetic_index, work_dir,
                          write_result)
from bench.lines_bench import LINES, line_rows
from ingest.pipeline import Ingestor


def notes_runs(work: Path, runs: int) -> dict[str, Any]:
    """The three maintainer operations on the real notes, each timed ``runs`` times after a warm-up."""
    notes = work / "ingest-notes"
    shutil.rmtree(notes, ignore_errors=True)
    shutil.copytree(NOTES, notes)
    mb = sum(p.stat().st_size for p in notes.iterdir()) / 1e6

    def full() -> None:
        # A fresh index folder each time: splitting, morphemes, fitting the offline embedder,
        # embedding, writing. Kiwi's model stays loaded; the morpheme caches do not.
        index = work / "ingest-index-full"
        shutil.rmtree(index, ignore_errors=True)
        clear_text_caches()
        Ingestor(settings_for(notes, index), progress=False).sync()

    log("ingest: notes, full build")
    out: dict[str, Any] = {"full": repeat(full, runs=runs, warmup=1)}
    settings = settings_for(notes, work / "ingest-index")
    summary = Ingestor(settings, progress=False).sync()
    out["chunks"], out["mb"] = summary.chunks, round(mb, 3)
    out["full"]["chunks_per_s"] = round(summary.chunks / (out["full"]["median_ms"] / 1000), 1)
    out["full"]["mb_per_s"] = round(mb / (out["full"]["median_ms"] / 1000), 4)
    log("ingest: notes, no change")
    out["no_change"] = repeat(lambda: Ingestor(settings, progress=False).sync(), runs=runs, warmup=1)
    target = notes / sorted(p.name for p in notes.iterdir())[-1]
    original = target.read_text(encoding="utf-8")
    counter = iter(range(10**6))
    embedded: list[int] = []

    def one_file() -> None:
        # A new line at the end of one note: a new snapshot is published, only new chunks embed.
        target.write_text(original + f"\n\n변경 {next(counter)}: 실험 기록을 한 줄 추가했다.\n", encoding="utf-8")
        s = Ingestor(settings, progress=False).sync()
        embedded.append(s.embedded)

    log("ingest: notes, one file changed")
    out["one_file_changed"] = repeat(one_file, runs=runs, warmup=1)
    out["one_file_changed"]["embedded_chunks"] = embedded[-1] if embedded else None
    target.write_text(original, encoding="utf-8")
    return out


def throughput(work: Path, sizes: list[int]) -> dict[str, Any]:
    """One build per size (a 100k build takes minutes; the index is then reused by the query
    and server benches, so it is built exactly once per `make bench`)."""
    out: dict[str, Any] = {}
    for size in sizes:
        log(f"ingest: synthetic corpus of {size} chunks")
        _, _, stats = synthetic_index(work, size)
        out[str(size)] = stats
        log(f"ingest {size}: {stats}")
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="synthetic sizes in chunks ('' for none)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--lines", default=",".join(map(str, LINES)), help="one-note sizes in lines ('' for none)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    work = work_dir()
    result = {"runs": args.runs, "notes": notes_runs(work, args.runs), "synthetic": throughput(work, sizes),
              "lines": line_rows([int(s) for s in args.lines.split(",") if s.strip()], work)}
    write_result("ingest", result)
    return result


if __name__ == "__main__":
    main()
