"""Shared helpers of the benchmarks: repeated timing, synthetic corpora, indexes, result files.

Benchmarks print numbers and write ``bench/results/<name>.json``; they never pass or fail on time.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
NOTES = ROOT / "data" / "notes"
TESTSET = ROOT / "data" / "qa" / "testset.jsonl"
RESULTS = ROOT / "bench" / "results"
SIZES = [1000, 10000, 100000]
# For a child process whose RAG_ variables are cleared: benchmarks name their generator; `auto`
# would otherwise answer with the packaged LLM once `rag models build llm` has built it.
NO_BUILT_LLM = {"RAG_LLM_PACKAGED": "false"}


def summarize(samples_ms: list[float]) -> dict[str, float]:
    """Median, p95/p99 and spread of a list of milliseconds."""
    s = sorted(samples_ms)
    if not s:
        return {"n": 0}
    return {
        "n": len(s),
        "median_ms": round(statistics.median(s), 3),
        "p95_ms": round(pct(s, 95), 3),
        "p99_ms": round(pct(s, 99), 3),
        "min_ms": round(s[0], 3),
        "max_ms": round(s[-1], 3),
        "stdev_ms": round(statistics.pstdev(s), 3) if len(s) > 1 else 0.0,
    }


def pct(values: list[float], q: float) -> float:
    """The q-th percentile, linear interpolation (numpy's default), without importing numpy."""
    s = sorted(values)
    if not s:
        return float("nan")
    pos = (len(s) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def spread(values: list[float]) -> dict[str, float]:
    """Median of per-run figures with their min and max: the form every bench reports."""
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3),
            "max": round(max(values), 3), "runs": len(values)}


def repeat(fn: Callable[[], Any], runs: int = 5, warmup: int = 1) -> dict[str, float]:
    """Median and spread of ``runs`` timed calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return summarize(samples)


def clear_text_caches() -> None:
    """Forget the process' morpheme caches, so a 'full build' pays for its Korean analysis as a
    fresh process would (Kiwi's model itself stays loaded: that is a one-off ~1 s)."""
    from rag.language import korean

    getattr(korean, "_cache", {}).clear()
    for name in ("tagged_content_tokens",):
        fn = getattr(korean, name, None)
        if hasattr(fn, "cache_clear"):
            fn.cache_clear()


def note_sentences() -> list[str]:
    """Sentences of the notes (Kiwi's splitter, rag.language.sentences), the material synthetic corpora
    are resampled from."""
    from rag.language.sentences import split

    out: list[str] = []
    for path in sorted(NOTES.iterdir()):
        text = path.read_text(encoding="utf-8")
        out.extend(text[s.start:s.end] for s in split(text) if s.end - s.start >= 15)
    return out


def _closed(sentence: str) -> str:
    """The sentence with an end mark when it lacks one, so that a paragraph of resampled
    sentences splits back into exactly those sentences."""
    return sentence if sentence.rstrip().endswith((".", "!", "?", "。")) else sentence + "."


def synthetic_corpus(directory: Path, chunks: int, chunk_chars: int = 450, seed: int = 0) -> Path:
    """About ``chunks`` chunks of resampled note sentences in files of ~100 paragraphs each.

    A paragraph is one line of sentences (lines repeated across files would be dropped as
    boilerplate). Each sentence keeps an end mark, so the indexer's sentence split gives back
    the note sentences and the morpheme cache sees repeats: the corpus measures the index, not
    Kiwi's speed on new text (the notes' full build measures that)."""
    rng = random.Random(seed)
    sentences = [_closed(s) for s in note_sentences()]
    directory.mkdir(parents=True, exist_ok=True)
    per_file = 100
    for f in range((chunks + per_file - 1) // per_file):
        paragraphs = []
        for _ in range(min(per_file, chunks - f * per_file)):
            para, size = [], 0
            while size < chunk_chars * 0.8:
                s = rng.choice(sentences)
                para.append(s)
                size += len(s) + 1
            paragraphs.append(" ".join(para))
        (directory / f"synthetic_{f:05d}.txt").write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return directory


def settings_for(notes: Path, index: Path, **overrides: Any):  # noqa: ANN201 - rag.settings.Settings
    """Offline defaults, independent of the caller's environment and .env file."""
    from rag.settings import Settings

    return Settings(notes_dir=notes, index_dir=index, _env_file=None,  # type: ignore[call-arg]
                    **{"embedder": "offline", **overrides})


def work_dir() -> Path:
    """Where corpora and indexes live for one `make bench` (BENCH_WORK shares them between
    the programs of a run; alone, each program uses a temporary folder of its own)."""
    given = os.environ.get("BENCH_WORK")
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        return path
    path = Path(tempfile.mkdtemp(prefix="rag-bench-"))
    import atexit

    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def notes_index(work: Path, embedder: str = "offline") -> tuple[Path, Path]:
    """(notes copy, its index with ``embedder``) under ``work``, built once."""
    notes, index = work / "notes", work / ("index-notes" if embedder == "offline" else f"index-notes-{embedder}")
    if not notes.is_dir():
        shutil.copytree(NOTES, notes)
    if not (index / "CURRENT").is_file():
        from ingest.pipeline import Ingestor

        Ingestor(settings_for(notes, index, embedder=embedder), progress=False).sync()
    return notes, index


def synthetic_index(work: Path, size: int) -> tuple[Path, Path, dict[str, Any]]:
    """(corpus, index, build stats) of the synthetic corpus of ``size`` chunks, built once per
    work folder: the ingest bench times the build, the query and server benches reuse it."""
    corpus, index = work / f"syn-{size}", work / f"index-{size}"
    stats_file = index / "bench-build.json"
    if stats_file.is_file() and (index / "CURRENT").is_file():
        return corpus, index, json.loads(stats_file.read_text())
    from ingest.pipeline import Ingestor

    shutil.rmtree(corpus, ignore_errors=True)
    shutil.rmtree(index, ignore_errors=True)
    synthetic_corpus(corpus, size)
    mb = sum(p.stat().st_size for p in corpus.iterdir()) / 1e6
    clear_text_caches()
    stages: dict[str, float] = {}
    t0 = time.perf_counter()
    last = [t0, ""]

    def on_stage(name: str) -> None:
        now = time.perf_counter()
        if last[1]:
            stages[str(last[1])] = round(now - float(last[0]), 2)
        last[0], last[1] = now, name

    summary = Ingestor(settings_for(corpus, index), progress=False).sync(on_stage=on_stage)
    seconds = time.perf_counter() - t0
    stages[str(last[1])] = round(time.perf_counter() - float(last[0]), 2)
    stats = {"chunks": summary.chunks, "seconds": round(seconds, 2), "mb": round(mb, 2),
             "chunks_per_s": round(summary.chunks / seconds, 1), "mb_per_s": round(mb / seconds, 4),
             "stages_s": stages, "embedder": summary.embedder}
    stats_file.write_text(json.dumps(stats))
    return corpus, index, stats


def questions(limit: int | None = None, answerable_only: bool = False) -> list[dict[str, Any]]:
    items = [json.loads(line) for line in TESTSET.read_text(encoding="utf-8").splitlines() if line.strip()]
    if answerable_only:
        items = [i for i in items if i["type"] != "unanswerable"]
    return items[:limit] if limit else items


def spread_questions(limit: int) -> list[dict[str, Any]]:
    """``limit`` questions taken evenly across the test set (all types and both languages)."""
    items = questions()
    if limit >= len(items):
        return items
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


def write_result(name: str, data: dict[str, Any], quiet: bool = False) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    if not quiet:
        print(json.dumps(data, ensure_ascii=False, indent=1))
    return path


def read_result(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def log(message: str) -> None:
    """Progress on stderr: stdout carries the result JSON."""
    import sys

    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
