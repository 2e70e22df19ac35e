"""Per-sentence embeddings of a snapshot, for the reader's semantic features (rag.reading).

On disk (written at ingest, beside the chunk table):

    sentence_vectors.npy   float16, shape (n_sentences, dim): the sentences of chunk 0 in the
                           order of the sentence table, then those of chunk 1, ...
    sentence_offsets.npy   int64, shape (n_chunks + 1,): chunk i's rows are
                           ``offsets[i]:offsets[i + 1]``

Both are opened memory-mapped (``np.load(mmap_mode="r")``), so workers on one host share their
pages and nothing per sentence is held in Python objects; float16 halves the size of float32 at
a cosine error below 1e-3 for unit vectors of 384 dimensions.

A snapshot source that stores no sentence vectors (the Milvus engine) gets ``OnDemandSentenceVectors``:
the passages a question ranks highly are embedded when first read, and kept in a bounded LRU.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from rag.embedders.base import Embedder
from rag.errors import SnapshotDamaged

VECTORS = "sentence_vectors.npy"
OFFSETS = "sentence_offsets.npy"


class SentenceVectorSource(Protocol):
    def get(self, chunk_id: int, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors (float32, shape (len(texts), dim)) of chunk ``chunk_id``'s sentences,
        whose texts are ``texts`` in the sentence table's order."""
        ...


def write_sentence_vectors(directory: Path, per_chunk: Sequence[np.ndarray], dim: int) -> None:
    """Write ``per_chunk`` (one float array (n_i, dim) per chunk, in chunk-id order)."""
    counts = np.array([len(v) for v in per_chunk], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    rows = [np.asarray(v, dtype=np.float16).reshape(-1, dim) for v in per_chunk]
    vectors = np.concatenate(rows) if rows else np.zeros((0, dim), np.float16)
    np.save(directory / VECTORS, vectors)
    np.save(directory / OFFSETS, offsets)


class StoredSentenceVectors:
    """The memory-mapped arrays of one snapshot directory."""

    def __init__(self, vectors: np.ndarray, offsets: np.ndarray) -> None:
        self.vectors = vectors
        self.offsets = offsets

    @classmethod
    def load(cls, directory: Path, n_chunks: int, dim: int) -> "StoredSentenceVectors":
        """Raises SnapshotDamaged when the files are missing or do not match the chunk table."""
        try:
            vectors = np.load(directory / VECTORS, mmap_mode="r")
            offsets = np.load(directory / OFFSETS, mmap_mode="r")
        except (OSError, ValueError) as exc:
            raise SnapshotDamaged(f"snapshot {directory.name}: sentence vectors are unreadable ({exc})") from exc
        if (offsets.shape != (n_chunks + 1,) or vectors.ndim != 2 or vectors.shape[1] != dim
                or int(offsets[-1]) != vectors.shape[0]):
            raise SnapshotDamaged(f"snapshot {directory.name}: sentence vectors {vectors.shape} do not match "
                                  f"{n_chunks} chunks of dim {dim}")
        return cls(vectors, offsets)

    def get(self, chunk_id: int, texts: Sequence[str]) -> np.ndarray:
        a, b = int(self.offsets[chunk_id]), int(self.offsets[chunk_id + 1])
        if b - a != len(texts):
            raise SnapshotDamaged(f"chunk {chunk_id}: {b - a} sentence vectors for {len(texts)} sentences")
        return np.asarray(self.vectors[a:b], dtype=np.float32)


class OnDemandSentenceVectors:
    """Embeds a chunk's sentences with the snapshot's embedder when first asked (tens of ms per
    passage), keeping the last ``capacity`` chunks."""

    def __init__(self, embedder: Embedder, capacity: int = 2048) -> None:
        self.embedder = embedder
        self.capacity = capacity
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, chunk_id: int, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            hit = self._cache.get(chunk_id)
            if hit is not None and len(hit) == len(texts):
                self._cache.move_to_end(chunk_id)
                return hit
        value = (np.asarray(self.embedder.embed_documents(list(texts)), dtype=np.float32) if texts
                 else np.zeros((0, self.embedder.dim), np.float32))
        with self._lock:
            self._cache[chunk_id] = value
            if len(self._cache) > self.capacity:
                self._cache.popitem(last=False)
        return value
