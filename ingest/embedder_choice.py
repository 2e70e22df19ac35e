"""Which embedder an ingest uses: the configured sentence-transformers model when it loads,
else the offline embedder fitted on the corpus (kept beside the index and reused)."""
from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from rag.embedders.base import Embedder
from rag.embedders.loader import load_sentence_transformer
from rag.embedders.offline import OfflineEmbedder
from rag.errors import ModelUnavailable
from rag.settings import Settings
from rag.types import Chunk


log = logging.getLogger(__name__)
OFFLINE_DIR = "embedders/offline"
REFIT_GROWTH = 1.5  # refit when the corpus has grown by half since the embedder was fitted


def fit_texts(chunks: list[Chunk]) -> list[str]:
    """Lines and whole chunks: lines give the SVD enough samples on a small corpus."""
    from ingest.splitting import embed_input

    lines = [line.strip() for c in chunks for line in c.text.splitlines() if len(line.strip()) >= 10]
    return lines + [embed_input(c) for c in chunks]


def offline_embedder(index_dir: Path, chunks: list[Chunk], dim: int, refit: bool = False) -> OfflineEmbedder:
    directory = index_dir / OFFLINE_DIR
    texts = fit_texts(chunks)
    if directory.is_dir() and not refit:
        try:
            embedder = OfflineEmbedder.load(directory)
            if len(texts) <= embedder.fit_size * REFIT_GROWTH and embedder.dim == min(dim, embedder.dim):
                return embedder
            log.info("corpus grew from %d to %d texts: refitting the offline embedder", embedder.fit_size, len(texts))
        except Exception as exc:  # a damaged model file is simply refitted
            log.warning("offline embedder unreadable (%s): refitting", exc)
    embedder = OfflineEmbedder.fit(texts, dim=dim)
    tmp = directory.with_name(directory.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    embedder.save(tmp)
    shutil.rmtree(directory, ignore_errors=True)
    os.replace(tmp, directory)
    return embedder


def choose_embedder(
    settings: Settings, index_dir: Path, chunks: list[Chunk], refit: bool = False
) -> Embedder:
    if settings.embedder in ("auto", "st"):
        try:
            embedder = load_sentence_transformer(settings.st_model, settings.embed_batch_size)
            log.info("embedder: %s", embedder.id)
            return embedder
        except ModelUnavailable as exc:
            if settings.embedder == "st":
                raise
            log.warning("%s; using the offline embedder fitted on the notes", exc)
    return offline_embedder(index_dir, chunks, settings.offline_dim, refit)
