"""The lexical-index seam: ranked term search plus the term statistics the answerability gate
and the proximity score read. An implementation is one module plus one line in
`rag.lexical.registry.BACKENDS`."""
from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np


class LexicalIndex(Protocol):
    """Term index over each chunk's analysed tokens (Kiwi morphemes); row numbers are chunk ids."""

    name: ClassVar[str]  # the registry key, written into a snapshot's meta ("lexical": {"backend": name})

    def __len__(self) -> int:
        """Number of rows (chunks, empty ones included)."""
        ...

    @classmethod
    def build(cls, token_lists: list[list[str]]) -> "LexicalIndex":
        """An index with one row per token list (an empty list still takes its row)."""
        ...

    def search(self, tokens: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """(ids int64, scores float32) of at most ``k`` rows, best first; rows scoring zero (no
        shared term) are dropped."""
        ...

    def doc_freq(self, token: str) -> int:
        """Number of rows containing ``token``."""
        ...

    def contains(self, token: str, chunk_id: int) -> bool:
        """Whether row ``chunk_id`` contains ``token``."""
        ...

    def known(self, tokens: list[str]) -> list[str]:
        """The tokens that occur in some row, in their order."""
        ...

    def save(self, directory: Path) -> None:
        """Write the index's files into the (existing) snapshot ``directory``."""
        ...

    @classmethod
    def load(cls, directory: Path, size: int) -> "LexicalIndex":
        """The index saved in ``directory`` with ``size`` rows; raises SnapshotDamaged when its
        files are missing or garbled."""
        ...

    @classmethod
    def verify(cls, directory: Path, meta: dict[str, Any]) -> None:
        """A quick check, without loading, that the index's files are there; raises SnapshotDamaged."""
        ...
