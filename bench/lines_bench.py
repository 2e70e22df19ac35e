"""Ingest time against the number of lines of one note: a word list of short lines (the shape
that made per-line passes quadratic), at 10k, 40k and 160k lines by default.

Each size is a full ingest of that one note into a fresh index (load, clean, find headings,
split, Kiwi analysis, offline embedder, write), plus the load-and-split stage alone. Linear
growth shows as a steady time per 1,000 lines and a x4 step for each x4 in lines.

    python -m bench.lines_bench [--lines 10000,40000,160000] [--stage-only]
"""
from __future__ import annotations

import argparse
import random
import shutil
import time
from pathlib import Path
from typing import Any

from bench.common import clear_text_caches, log, settings_for, work_dir, write_result

LINES = [10_000, 40_000, 160_000]


def word_list(lines: int, seed: int = 0) -> str:
    """``lines`` short lines of Hangul words and a number (about 25 bytes each, like a vocabulary
    list exported from a flash-card app): no blank lines, no sentence ends."""
    rng = random.Random(seed)
    syllables = [chr(0xAC00 + rng.randrange(11172)) for _ in range(800)]
    return "".join("".join(rng.choice(syllables) for _ in range(rng.randint(2, 5))) + f" {i}\n" for i in range(lines))


def run(lines: int, work: Path, stage_only: bool) -> dict[str, Any]:
    from ingest.pipeline import IngestSummary, Ingestor

    notes = work / f"lines-{lines}"
    shutil.rmtree(notes, ignore_errors=True)
    notes.mkdir(parents=True)
    (notes / "words.txt").write_text(word_list(lines), encoding="utf-8")
    index = work / f"lines-index-{lines}"
    shutil.rmtree(index, ignore_errors=True)
    ingestor = Ingestor(settings_for(notes, index), progress=False)
    t = time.perf_counter()
    docs = ingestor._load_all(notes, IngestSummary())
    chunks = ingestor._split(docs)
    stage = time.perf_counter() - t
    out: dict[str, Any] = {"lines": lines, "mb": round((notes / "words.txt").stat().st_size / 1e6, 2),
                           "chunks": len(chunks), "load_split_s": round(stage, 3)}
    if not stage_only:
        clear_text_caches()
        t = time.perf_counter()
        summary = ingestor.sync()
        out["ingest_s"] = round(time.perf_counter() - t, 3)
        out["ingest_ms_per_1k_lines"] = round(out["ingest_s"] * 1e6 / lines, 1)
        out["published"] = summary.published
    out["load_split_ms_per_1k_lines"] = round(stage * 1e6 / lines, 1)
    shutil.rmtree(index, ignore_errors=True)
    shutil.rmtree(notes, ignore_errors=True)
    return out


def line_rows(sizes: list[int], work: Path, stage_only: bool = False) -> list[dict[str, Any]]:
    """One row per size, with the growth of time against the previous size."""
    rows: list[dict[str, Any]] = []
    if sizes:
        log("lines: warm-up (imports, Kiwi's model, the first index)")
        run(1000, work, stage_only)
    for n in sizes:
        log(f"lines: ingest of a {n:,}-line note")
        row = run(n, work, stage_only)
        if rows:
            prev = rows[-1]
            key = "load_split_s" if stage_only else "ingest_s"
            row["growth_vs_previous"] = round(row[key] / max(prev[key], 1e-9), 2)
            row["lines_vs_previous"] = round(n / prev["lines"], 2)
        rows.append(row)
        log(f"lines {n}: {row}")
    return rows


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", default=",".join(map(str, LINES)), help="sizes in lines, comma-separated")
    parser.add_argument("--stage-only", action="store_true", help="time load and split only (no Kiwi, no index)")
    args = parser.parse_args(argv)
    rows = line_rows([int(s) for s in args.lines.split(",") if s.strip()], work_dir(), args.stage_only)
    result = {"rows": rows}
    write_result("lines", result)
    return result


if __name__ == "__main__":
    main()
