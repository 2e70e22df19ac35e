"""The dense-index registry: a snapshot's meta names the backend that reads it back.

Adding a vector index is a module with a `DenseIndex` implementation and one line in BACKENDS.
"""
from __future__ import annotations

from rag.backend_registry import BackendRegistry
from rag.dense.base import DenseIndex
from rag.dense.faiss_index import FaissIndex

# FaissIndex is the default: snapshots written before the meta named their backend are FAISS ones
BACKENDS: BackendRegistry[DenseIndex] = BackendRegistry("dense", {
    FaissIndex.name: FaissIndex,
}, default=FaissIndex.name)
dense_class_for = BACKENDS.for_meta
