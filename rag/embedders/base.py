"""The embedder seam: one abstract batch method, everything else derived from it."""
from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Sequence

import numpy as np

if TYPE_CHECKING:
    from rag.settings import Settings

Kind = Literal["query", "passage"]


class Embedder(ABC):
    """Base of every embedder; ``id`` names the model *and* its fitted state.

    Two embedders with the same id must give the same vectors: the id keys the embedding cache
    and is written into each snapshot so a snapshot is never searched with another model.
    Each kind is registered in `rag.embedders.registry`; a snapshot names its kind, and that
    class's ``from_snapshot`` brings back the same embedder.
    """

    id: str
    dim: int
    kind: str
    stored_in_snapshot = False  # whether ``save`` writes state (a fitted model) that a snapshot carries
    note: str | None = None  # why this embedder answered (the `auto` choice), shown in the snapshot meta

    @classmethod
    @abstractmethod
    def from_snapshot(cls, info: dict[str, Any], directory: Path, settings: "Settings") -> "Embedder":
        """The embedder a snapshot was built with: ``info`` is its meta's ``embedder`` entry,
        ``directory`` the snapshot's embedder/ directory. Raises ModelUnavailable."""

    def save(self, directory: Path) -> None:
        """Write what a snapshot needs to bring this embedder back; a pretrained model needs nothing."""

    @abstractmethod
    def embed_batch(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        """Unit-normalised float32 vectors, one row per text."""

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.embed_batch(list(texts), "passage")

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_batch([text], "query")[0]

    def describe(self) -> dict[str, object]:
        info: dict[str, object] = {"id": self.id, "kind": self.kind, "dim": self.dim}
        if self.note:
            info["note"] = self.note
        return info


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(vectors / norms, dtype=np.float32)
