"""The dense-index registry: a snapshot's meta names the backend that reads it back.

Adding a vector index is a module with a `DenseIndex` implementation and one line in BACKENDS.
"""
from __future__ import annotations

from typing import Any

from rag.dense.base import DenseIndex
from rag.dense.faiss_index import FaissIndex
from rag.errors import SnapshotDamaged

BACKENDS: dict[str, type[DenseIndex]] = {
    FaissIndex.name: FaissIndex,
}
DEFAULT = FaissIndex.name  # snapshots written before the meta named their backend are FAISS ones


def dense_class(name: str) -> type[DenseIndex]:
    """The class registered under ``name``; raises KeyError naming the known ones."""
    try:
        return BACKENDS[name]
    except KeyError:
        raise KeyError(f"unknown dense index backend {name!r} (known: {', '.join(BACKENDS)})") from None


def dense_class_for(meta: dict[str, Any]) -> type[DenseIndex]:
    """The backend a snapshot's meta names (``meta["dense"]["backend"]``, FAISS when absent);
    an unknown one is SnapshotDamaged (built by another version)."""
    info = meta.get("dense")
    name = info.get("backend", DEFAULT) if isinstance(info, dict) else DEFAULT
    try:
        return dense_class(str(name))
    except KeyError as exc:
        raise SnapshotDamaged(f"snapshot {meta.get('id')}: {exc.args[0]}") from None
