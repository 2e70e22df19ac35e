"""The lexical-index registry: a snapshot's meta names the backend that reads it back.

Adding a term index is a module with a `LexicalIndex` implementation and one line in BACKENDS.
"""
from __future__ import annotations

from rag.backend_registry import BackendRegistry
from rag.lexical.base import LexicalIndex
from rag.lexical.bm25 import BM25Index

# BM25Index is the default: snapshots written before the meta named their backend are bm25s ones
BACKENDS: BackendRegistry[LexicalIndex] = BackendRegistry("lexical", {
    BM25Index.name: BM25Index,
}, default=BM25Index.name)
lexical_class_for = BACKENDS.for_meta
