"""multilingual-e5-small on torch against the same model on ONNX Runtime (int8), in one process:

- query_p50_ms: warm ``embed_query`` over the test set's questions; the backends take turns
  question by question, so both see the same load on a shared machine;
- chunks_per_s: ``embed_documents`` over every chunk of data/notes (the ingest's own loader and
  chunker, the text the ingest embeds), in alternating rounds; the median round counts;
- min_cosine (onnx): the least cosine between the two backends' vectors of the 200 verification
  texts (rag/data/e5_verify.tsv, with their prefixes), measured here, not read from the report.

``--sweep`` runs instead ONNX Runtime's batch size and thread count trials that chose the
defaults (`rag.embedders.e5_onnx`). Used by ``python -m bench.embedder_bench --backends torch,onnx``.
"""
from __future__ import annotations

import statistics
import time
from typing import Any, Callable

import numpy as np

from bench.common import NOTES, log, pct, questions

ROUNDS = 3


def chunk_texts() -> list[str]:
    """What the ingest embeds for each chunk of data/notes."""
    from ingest.loaders import load_document
    from ingest.splitting import Chunker, embed_input
    from rag.settings import Settings

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    chunker = Chunker(settings.chunk_size, settings.chunk_overlap)
    texts = []
    for path in sorted(NOTES.iterdir()):
        if path.is_file():
            texts += [embed_input(c) for c in chunker.split(load_document(path, path.stem), [])]
    return texts


def load_backends(names: list[str]) -> dict[str, Any]:
    from rag.embedders.e5 import BuiltE5Embedder
    from rag.embedders.e5_onnx import OnnxE5Embedder
    from rag.settings import Settings

    settings = Settings(embedder="e5", _env_file=None)  # type: ignore[call-arg]
    loaders: dict[str, Callable[[], Any]] = {"torch": lambda: BuiltE5Embedder.from_settings(settings),
                                             "onnx": lambda: OnnxE5Embedder.from_settings(settings)}
    unknown = set(names) - set(loaders)
    if unknown:
        raise SystemExit(f"unknown backend(s) {sorted(unknown)}: choose from {', '.join(loaders)}")
    out = {}
    for name in names:
        log(f"loading e5 on {name}")
        out[name] = loaders[name]()
    return out


def query_p50(embedders: dict[str, Any], texts: list[str]) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in embedders}
    for t in texts[:5]:
        for e in embedders.values():
            e.embed_query(t)
    for t in texts:
        for name, e in embedders.items():
            t0 = time.perf_counter()
            e.embed_query(t)
            samples[name].append((time.perf_counter() - t0) * 1000)
    return {name: round(pct(s, 50), 2) for name, s in samples.items()}


def chunks_per_s(embedders: dict[str, Any], texts: list[str], rounds: int = ROUNDS) -> dict[str, float]:
    for e in embedders.values():
        e.embed_documents(texts[:8])
    rates: dict[str, list[float]] = {name: [] for name in embedders}
    for r in range(rounds):
        for name, e in embedders.items():
            t0 = time.perf_counter()
            e.embed_documents(texts)
            rates[name].append(len(texts) / (time.perf_counter() - t0))
            log(f"round {r + 1}/{rounds}: {name} {rates[name][-1]:.1f} chunks/s")
    return {name: round(statistics.median(v), 3) for name, v in rates.items()}


def min_cosine(reference: Any, other: Any) -> float:
    from rag.embedders.e5_build import verification_texts

    texts = verification_texts()
    cosines = []
    for kind in ("query", "passage"):
        batch = [t for k, t in texts if k == kind]
        cosines.append(np.sum(reference.embed_batch(batch, kind) * other.embed_batch(batch, kind), axis=1))
    return round(float(np.concatenate(cosines).min()), 5)


SWEEP = [(1, 8), (1, 16), (1, 32), (1, 64), (2, 32)]  # (threads, batch size)


def sweep(texts: list[str], queries: list[str]) -> list[dict[str, Any]]:
    """ONNX chunks/s by batch size and threads, and query p50 by threads (fresh sessions, same
    model; the first 60 chunks and 40 questions, one round each: a coarse choice on busy cores)."""
    from rag.embedders.e5_build import ensure_built
    from rag.embedders.e5_onnx import OnnxE5Embedder
    from rag.embedders.e5_onnx_build import ensure_exported
    from rag.settings import Settings

    settings = Settings(embedder="e5", _env_file=None)  # type: ignore[call-arg]
    model_dir = ensure_built(settings.model_cache_dir, settings.e5_weights)
    directory, report = ensure_exported(model_dir)
    rows = []
    for threads, batch in SWEEP:
        e = OnnxE5Embedder(directory, model_dir, report, batch, threads)
        rate = chunks_per_s({"onnx": e}, texts[:60], rounds=1)["onnx"]
        p50 = query_p50({"onnx": e}, queries[:40])["onnx"] if batch == 32 else None
        rows.append({"threads": threads, "batch_size": batch, "chunks_per_s": rate, "query_p50_ms": p50})
        log(f"sweep: {rows[-1]}")
    return rows


def compare(names: list[str], with_sweep: bool = False) -> dict[str, Any]:
    import os

    texts, queries = chunk_texts(), [q["question"] for q in questions()]
    if with_sweep:  # the trials alone: they take longer than the comparison on busy cores
        return {"onnx_sweep": sweep(texts, queries), "load_average": [round(x, 2) for x in os.getloadavg()]}
    embedders = load_backends(names)
    log(f"{len(texts)} chunks, {len(queries)} questions")
    p50 = query_p50(embedders, queries)
    rate = chunks_per_s(embedders, texts)
    result: dict[str, Any] = {"backends": {name: {"query_p50_ms": p50[name], "chunks_per_s": rate[name],
                                                  "id": e.id} for name, e in embedders.items()}}
    if "torch" in embedders and "onnx" in embedders:
        result["backends"]["onnx"]["min_cosine"] = min_cosine(embedders["torch"], embedders["onnx"])
        t, o = result["backends"]["torch"], result["backends"]["onnx"]
        result["ratios"] = {"query_p50_onnx_over_torch": round(o["query_p50_ms"] / t["query_p50_ms"], 3),
                            "chunks_per_s_onnx_over_torch": round(o["chunks_per_s"] / t["chunks_per_s"], 3)}
    result["machine"] = {"cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()],
                         "chunks": len(texts), "questions": len(queries)}
    return result
