"""Shared helpers of the benchmarks: repeated timing, synthetic corpora, result files.

Benchmarks print numbers and write ``bench/results/<name>.json``; they never pass or fail on time.
"""
from __future__ import annotations

import json
import os
import random
import statistics
import time
from pathlib import Path
from typing import Any, Callable

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
NOTES = ROOT / "data" / "notes"
TESTSET = ROOT / "data" / "qa" / "testset.jsonl"
RESULTS = ROOT / "bench" / "results"


def summarize(samples_ms: list[float]) -> dict[str, float]:
    s = sorted(samples_ms)
    return {
        "n": len(s),
        "median_ms": round(statistics.median(s), 3),
        "p95_ms": round(s[min(len(s) - 1, int(0.95 * len(s)))], 3),
        "min_ms": round(s[0], 3),
        "max_ms": round(s[-1], 3),
        "stdev_ms": round(statistics.pstdev(s), 3) if len(s) > 1 else 0.0,
    }


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


def note_sentences() -> list[str]:
    """Sentences of the notes, the material synthetic corpora are resampled from."""
    from rag.korean import quick_sentences

    out: list[str] = []
    for path in sorted(NOTES.iterdir()):
        out.extend(s for s in quick_sentences(path.read_text(encoding="utf-8")) if len(s) >= 15)
    return out


def synthetic_corpus(directory: Path, chunks: int, chunk_chars: int = 450, seed: int = 0) -> Path:
    """About ``chunks`` chunks of resampled note sentences in files of ~100 paragraphs each."""
    rng = random.Random(seed)
    sentences = note_sentences()
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


def questions(limit: int | None = None) -> list[dict[str, Any]]:
    items = [json.loads(line) for line in TESTSET.read_text(encoding="utf-8").splitlines() if line.strip()]
    return items[:limit] if limit else items


def write_result(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps(data, ensure_ascii=False, indent=1))
    return path
