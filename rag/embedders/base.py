"""The embedder seam: one abstract batch method, everything else derived from it."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Literal, Protocol, Sequence

import numpy as np

Kind = Literal["query", "passage"]


class QueryEmbedder(Protocol):
    id: str
    dim: int

    def embed_query(self, text: str) -> np.ndarray: ...


class DocumentEmbedder(Protocol):
    id: str
    dim: int

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...


class Embedder(ABC):
    """Base of every embedder; ``id`` names the model *and* its fitted state.

    Two embedders with the same id must give the same vectors: the id keys the embedding cache
    and is written into each snapshot so a snapshot is never searched with another model.
    """

    id: str
    dim: int
    kind: str

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
        return {"id": self.id, "kind": self.kind, "dim": self.dim}


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(vectors / norms, dtype=np.float32)
