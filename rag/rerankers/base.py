"""The reranker seam: what the searcher needs of a reranker. An implementation is one module plus
one line in `rag.rerankers.registry.RERANKERS`, and passes tests/contract/test_contract_rerankers.py."""
from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Protocol

if TYPE_CHECKING:
    from rag.language.query import AnalyzedQuery
    from rag.retrievers import Hit
    from rag.snapshots.snapshot import Snapshot


class Reranker(Protocol):
    name: ClassVar[str]

    def rerank(self, query: "AnalyzedQuery", hits: list["Hit"], snapshot: "Snapshot") -> list["Hit"]:
        """``hits`` (fused, best first) reordered: the head of at most the reranker's depth
        rescored and sorted (ties by chunk id), the rest kept after it in order. Never adds or
        drops a hit."""
        ...
