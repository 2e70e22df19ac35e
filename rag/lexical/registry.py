"""The lexical-index registry: a snapshot's meta names the backend that reads it back.

Adding a term index is a module with a `LexicalIndex` implementation and one line in BACKENDS.
"""
from __future__ import annotations

from typing import Any

from rag.errors import SnapshotDamaged
from rag.lexical.base import LexicalIndex
from rag.lexical.bm25 import BM25Index

BACKENDS: dict[str, type[LexicalIndex]] = {
    BM25Index.name: BM25Index,
}
DEFAULT = BM25Index.name  # snapshots written before the meta named their backend are bm25s ones


def lexical_class(name: str) -> type[LexicalIndex]:
    """The class registered under ``name``; raises KeyError naming the known ones."""
    try:
        return BACKENDS[name]
    except KeyError:
        raise KeyError(f"unknown lexical index backend {name!r} (known: {', '.join(BACKENDS)})") from None


def lexical_class_for(meta: dict[str, Any]) -> type[LexicalIndex]:
    """The backend a snapshot's meta names (``meta["lexical"]["backend"]``, bm25 when absent);
    an unknown one is SnapshotDamaged (built by another version)."""
    info = meta.get("lexical")
    name = info.get("backend", DEFAULT) if isinstance(info, dict) else DEFAULT
    try:
        return lexical_class(str(name))
    except KeyError as exc:
        raise SnapshotDamaged(f"snapshot {meta.get('id')}: {exc.args[0]}") from None
