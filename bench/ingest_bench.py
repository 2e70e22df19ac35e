"""Ingest speed: full build of the notes, a no-change re-run, one file changed, and throughput
on synthetic corpora (resampled note sentences) of 1k, 10k and 100k chunks."""
from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.common import NOTES, repeat, synthetic_corpus, write_result
from ingest.pipeline import Ingestor
from rag.settings import Settings


def _settings(notes: Path, index: Path) -> Settings:
    return Settings(notes_dir=notes, index_dir=index, embedder="offline", _env_file=None)  # type: ignore[call-arg]


def notes_runs(work: Path, runs: int) -> dict:
    notes = work / "notes"
    shutil.copytree(NOTES, notes)

    def full() -> None:
        index = work / "index-full"
        shutil.rmtree(index, ignore_errors=True)
        Ingestor(_settings(notes, index), progress=False).sync()

    out = {"full": repeat(full, runs=runs, warmup=1)}
    settings = _settings(notes, work / "index")
    Ingestor(settings, progress=False).sync()
    out["no_change"] = repeat(lambda: Ingestor(settings, progress=False).sync(), runs=runs, warmup=1)
    target = notes / sorted(p.name for p in notes.iterdir())[-1]
    original = target.read_text(encoding="utf-8")
    counter = iter(range(10**6))

    def one_file() -> None:
        target.write_text(original + f"\n\n변경 {next(counter)}: 실험 기록을 한 줄 추가했다.\n", encoding="utf-8")
        Ingestor(settings, progress=False).sync()

    out["one_file_changed"] = repeat(one_file, runs=runs, warmup=1)
    return out


def throughput(work: Path, sizes: list[int]) -> dict:
    out = {}
    for size in sizes:
        corpus = synthetic_corpus(work / f"syn-{size}", size)
        mb = sum(p.stat().st_size for p in corpus.iterdir()) / 1e6
        index = work / f"index-{size}"
        t = time.perf_counter()
        summary = Ingestor(_settings(corpus, index), progress=False).sync()
        seconds = time.perf_counter() - t
        out[str(size)] = {"chunks": summary.chunks, "seconds": round(seconds, 2),
                          "chunks_per_s": round(summary.chunks / seconds, 1), "mb_per_s": round(mb / seconds, 3),
                          "mb": round(mb, 2)}
        print(f"ingest {size}: {out[str(size)]}", file=sys.stderr)
    return out


def main(sizes: list[int] | None = None, runs: int = 5) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        result = {"notes": notes_runs(work, runs), "synthetic": throughput(work, sizes or [1000, 10000, 100000])}
    write_result("ingest", result)
    return result


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or None)
