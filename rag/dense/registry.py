"""The dense-index registry: a snapshot's meta names the backend that reads it back.

Adding a vector index is a module with a `DenseIndex` implementation and one line in BACKENDS.
"""
from __future__ import annotations

from rag.backend_registry import BackendRegistry
from rag.dense.base import DenseIndex
from rag.dense.faiss_index import FaissIndex
from rag.dense.ivf_index import IvfIndex

# FaissIndex is the default: snapshots written before the meta named their backend are FAISS ones
BACKENDS: BackendRegistry[DenseIndex] = BackendRegistry("dense", {
    FaissIndex.name: FaissIndex,
    IvfIndex.name: IvfIndex,
}, default=FaissIndex.name)
dense_class_for = BACKENDS.for_meta


def dense_class_for_size(n: int, approximate_above: int) -> type[DenseIndex]:
    """The backend a new snapshot of ``n`` vectors is built with: exact FAISS up to
    ``approximate_above`` (RAG_DENSE_APPROXIMATE_ABOVE), the approximate IVF index above it."""
    return BACKENDS[IvfIndex.name if n > approximate_above else FaissIndex.name]
