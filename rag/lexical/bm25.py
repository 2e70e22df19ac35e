"""The bm25s implementation of the lexical-index seam: BM25 over Kiwi morphemes."""
from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import bm25s
import numpy as np

from rag.errors import SnapshotDamaged

DIR = "bm25"


class BM25Index:
    """Okapi BM25 (bm25s, k1=1.2, b=0.75: Robertson & Zaragoza 2009's usual defaults)."""

    name: ClassVar[str] = "bm25"

    def __init__(self, bm25: bm25s.BM25, size: int) -> None:
        self.bm25 = bm25
        self.size = size
        # bm25s adds "" to its vocabulary past the score matrix's terms (a padding token): it is no
        # term of ours, and looking its postings up would index past the matrix
        self.vocab: dict[str, int] = {t: j for t, j in bm25.vocab_dict.items() if t}

    def __len__(self) -> int:
        return self.size

    @classmethod
    def build(cls, token_lists: list[list[str]], k1: float = 1.2, b: float = 0.75) -> "BM25Index":
        bm25 = bm25s.BM25(k1=k1, b=b)
        # An empty chunk still needs a row so row numbers stay chunk ids.
        bm25.index([toks or ["\u2400"] for toks in token_lists], show_progress=False)
        return cls(bm25, len(token_lists))

    def _postings(self, token: str) -> np.ndarray:
        """Chunk ids containing ``token`` (bm25s keeps scores as a token-major CSC matrix)."""
        j = self.vocab.get(token)
        if j is None:
            return np.zeros(0, dtype=np.int32)
        s = self.bm25.scores
        return s["indices"][s["indptr"][j] : s["indptr"][j + 1]]

    def doc_freq(self, token: str) -> int:
        return int(self._postings(token).shape[0])

    def contains(self, token: str, chunk_id: int) -> bool:
        return bool(np.any(self._postings(token) == chunk_id))

    def known(self, tokens: list[str]) -> list[str]:
        return [t for t in tokens if t in self.vocab]

    def search(self, tokens: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """(ids, scores) best first; rows scoring zero are dropped (no shared term)."""
        tokens = self.known(tokens)
        if not tokens or self.size == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores = np.asarray(self.bm25.get_scores(tokens), dtype=np.float32)
        # only the rows sharing a term compete: partitioning them, not all n scores, keeps a
        # search at a million chunks from paying O(n) twice more (a negated copy, a partition)
        top = np.flatnonzero(scores > 0)
        if k < len(top):
            top = top[np.argpartition(-scores[top], k - 1)[:k]]
        top = top[np.argsort(-scores[top], kind="stable")]
        return top.astype(np.int64), scores[top]

    def save(self, directory: Path) -> None:
        self.bm25.save(str(directory / DIR))

    @classmethod
    def load(cls, directory: Path, size: int) -> "BM25Index":
        """The score matrix (data, indices, indptr: the postings) memory-mapped (bm25s's
        ``mmap=True``), so the workers of one host share its pages and only the vocabulary is a
        Python object. Raises SnapshotDamaged when the index directory is missing or garbled."""
        try:
            return cls(bm25s.BM25.load(str(directory / DIR), mmap=True), size)
        except Exception as exc:  # bm25s raises what numpy/json raise on a garbled file
            raise SnapshotDamaged(f"snapshot {directory.name}: {DIR}/ is unreadable ({exc})") from exc

    @classmethod
    def verify(cls, directory: Path, meta: dict[str, Any]) -> None:
        if not (directory / DIR).is_dir():
            raise SnapshotDamaged(f"snapshot {directory.name}: {DIR}/ is missing")
