"""The approximate implementation of the dense-index seam: FAISS IVF (inverted file) with 8-bit
scalar-quantised vectors, for snapshots above ``RAG_DENSE_APPROXIMATE_ABOVE`` vectors
(rag.dense.registry picks it).

Why IVF and not HNSW: on the 2-core bench machine an IVF build of a million 384-d vectors is a
k-means over a sample plus one assignment pass (4.4 minutes, measured), where an HNSW graph
inserts the vectors one by one with a graph search each (HNSW was not measured here; its build
is the slower kind); and FAISS memory-maps an IVF file's inverted lists on load
(checked: they take no anonymous memory), so the workers of one host share those pages.

Why 8-bit codes (``IndexIVFScalarQuantizer``, QT_8bit, residuals to the cell centroid): a
million 384-d vectors take 0.4 GB instead of 1.5 GB as float32, which is what lets two workers
stay under 1.2 GB each with the file's pages shared; a score is off by less than 2e-3 (measured
over 20k clustered and 20k isotropic unit vectors; ``score_error`` allows 0.01), well below the
gaps between neighbours that decide recall.

Parameters (``bench.scale`` measures them, see docs/benchmarks.md):

- ``nlist``: the power of two nearest 4·sqrt(n), FAISS's guideline ("Guidelines to choose an
  index", faiss wiki: between 4·sqrt(n) and 16·sqrt(n) cells), capped at n/39 so that k-means has
  the 39 training points per centroid FAISS asks for (1 cell, i.e. exact search, for tiny n).
  k-means runs 10 iterations over at most 40 points per centroid.
- ``nprobe``: cells scanned per query, ``min(nlist, max(MIN_NPROBE, nlist // NPROBE_DIVISOR))``:
  16 cells at 100k vectors, 32 at 1M. Chosen by bench.scale's sweep (2026-12-07, synthetic
  clustered unit vectors, 384-d, 2 busy cores; docs/benchmarks.md): recall@10 against exact
  search reached its plateau (0.989 at 100k, 0.977 at 1M: what the 8-bit codes lose) by nprobe 8
  at both sizes, and the dense search cost ~0.3 ms at 100k and ~1 ms at 1M at the chosen
  values, against 0.4 and 11 ms at nlist/32 (32 and 128 cells); the factor of 2-4 above the
  plateau's start is a margin for real embeddings, which are less separable. nprobe is stored
  in the index file.
"""
from __future__ import annotations

import math
from typing import ClassVar

import faiss
import numpy as np

from rag.dense.faiss_index import FaissIndex, _single_threaded

TRAIN_POINTS_PER_CELL = 40  # FAISS warns below 39 points per centroid
KMEANS_ITERATIONS = 10
NPROBE_DIVISOR = 128
MIN_NPROBE = 16
CODE_BYTES_PER_DIM = 1  # QT_8bit


def nlist_for(n: int) -> int:
    """Number of IVF cells for ``n`` vectors (see the module docstring); 1 for n < 78."""
    if n < 2 * 39:
        return 1
    target = 4 * math.sqrt(n)
    power = 2 ** round(math.log2(target))
    return max(1, min(power, n // 39))


class IvfIndex(FaissIndex):
    """Approximate inner product over unit vectors: IndexIVFScalarQuantizer with an exact (flat)
    coarse quantizer. Saved as ``faiss.index`` like the exact index (the meta's backend says
    which); loading (memory-mapped) and searching are FaissIndex's."""

    name: ClassVar[str] = "faiss-ivf"
    score_error: ClassVar[float] = 0.01  # bound on |returned score - exact inner product| for unit vectors
    bytes_per_dim: ClassVar[int] = CODE_BYTES_PER_DIM  # 8-bit codes ...
    bytes_per_row: ClassVar[int] = 8  # ... and an 8-byte id per vector

    @classmethod
    def build(cls, vectors: np.ndarray, seed: int = 0) -> "IvfIndex":
        """Raises ValueError for anything but a 2-D array."""
        _single_threaded()
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2:
            raise ValueError("vectors must be a 2-D array")
        n, dim = vectors.shape
        nlist = nlist_for(n)
        index = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(dim), dim, nlist, faiss.ScalarQuantizer.QT_8bit,
                                              faiss.METRIC_INNER_PRODUCT)
        index.cp.niter = KMEANS_ITERATIONS
        index.cp.seed = seed
        index.cp.max_points_per_centroid = TRAIN_POINTS_PER_CELL
        if n:
            sample = vectors
            if n > nlist * TRAIN_POINTS_PER_CELL:
                rows = np.sort(np.random.default_rng(seed).choice(n, nlist * TRAIN_POINTS_PER_CELL, replace=False))
                sample = vectors[rows]
            index.train(sample)
            index.add(vectors)
        index.nprobe = min(nlist, max(MIN_NPROBE, nlist // NPROBE_DIVISOR))
        return cls(index)

