"""The dense-index seam: what the query side, the snapshot reader and the writer need of a
vector index. An implementation is one module plus one line in `rag.dense.registry.BACKENDS`."""
from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np


class DenseIndex(Protocol):
    """Nearest neighbours by inner product over unit vectors; row numbers are chunk ids."""

    name: ClassVar[str]  # the registry key, written into a snapshot's meta ("dense": {"backend": name})
    # bound on |score - exact inner product| (0 for exact float32 scores; a quantising index's error)
    score_error: ClassVar[float]

    @property
    def dim(self) -> int:
        """Vector dimension."""
        ...

    def __len__(self) -> int:
        """Number of vectors (rows)."""
        ...

    @classmethod
    def build(cls, vectors: np.ndarray) -> "DenseIndex":
        """An index over ``vectors`` (float32, shape (n, dim)); raises ValueError for another shape."""
        ...

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(ids int64 (<=k,), scores float32 (<=k,)) of the ``k`` nearest rows to ``query`` (dim,),
        best first."""
        ...

    def save(self, directory: Path) -> None:
        """Write the index's files into the (existing) snapshot ``directory``."""
        ...

    @classmethod
    def load(cls, directory: Path) -> "DenseIndex":
        """The index saved in ``directory``; raises SnapshotDamaged when it is missing or garbled."""
        ...

    @classmethod
    def verify(cls, directory: Path, meta: dict[str, Any]) -> None:
        """A quick check, without loading, that the files in ``directory`` can hold ``meta["chunks"]``
        vectors of ``meta["embedder"]["dim"]``; raises SnapshotDamaged."""
        ...
