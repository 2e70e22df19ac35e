"""The query side of a snapshot held in Milvus: the dense index, the lexical index, the chunk
table and the sentence table of one chunks collection, with the frozen interfaces of their
FAISS / bm25s / SQLite counterparts.

What is small stays in the worker (the vocabulary and document frequencies the gate and the
proximity score read, the documents table); chunks and their sentences are read from the
engine on demand and kept in a bounded LRU that every search fills with the rows it returns.
"""
from __future__ import annotations

import json
import threading
from collections import Counter, OrderedDict
from typing import TYPE_CHECKING, Any, Iterator, Sequence, overload

import numpy as np

from rag.types import Chunk, SentenceSpan

if TYPE_CHECKING:
    from pymilvus import MilvusClient

ROW_FIELDS = ["doc", "start", "end", "section", "page", "text", "section_tokens", "sentences"]
PAGE = 1000  # rows per request when the whole chunk table is read (evaluation, metrics)
EMPTY_IDS = np.zeros(0, dtype=np.int64)
EMPTY_SCORES = np.zeros(0, dtype=np.float32)


class RowCache:
    """Chunk rows by id (a bounded LRU shared by the searches that fill it and the readers)."""

    def __init__(self, client: "MilvusClient", collection: str, capacity: int = 8192) -> None:
        self.client = client
        self.collection = collection
        self.capacity = capacity
        self._rows: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, rows: list[dict[str, Any]]) -> None:
        with self._lock:
            for row in rows:
                self._rows[int(row["id"])] = row
                self._rows.move_to_end(int(row["id"]))
            while len(self._rows) > self.capacity:
                self._rows.popitem(last=False)

    def get_many(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        with self._lock:
            found = {i: self._rows[i] for i in ids if i in self._rows}
        missing = [i for i in ids if i not in found]
        if missing:
            rows = self.client.get(self.collection, ids=missing, output_fields=ROW_FIELDS)
            rows = [dict(r) for r in rows]
            self.put(rows)
            found.update({int(r["id"]): r for r in rows})
        return found

    def get(self, chunk_id: int) -> dict[str, Any] | None:
        return self.get_many([chunk_id]).get(chunk_id)


def _hits(result: Any, cache: RowCache) -> tuple[np.ndarray, np.ndarray]:
    hits = list(result[0]) if result else []
    rows = [{"id": h["id"], **h["entity"]} for h in hits if h.get("entity")]
    cache.put([r for r in rows if "text" in r])
    pairs = sorted(((int(h["id"]), float(h["distance"])) for h in hits), key=lambda p: (-p[1], p[0]))
    if not pairs:
        return EMPTY_IDS, EMPTY_SCORES
    return np.array([p[0] for p in pairs], dtype=np.int64), np.array([p[1] for p in pairs], dtype=np.float32)


class MilvusDenseIndex:
    """Exact inner product (FLAT, IP) over the collection's ``dense`` field; ids are chunk ids."""

    name = "milvus"
    score_error = 0.0  # Milvus FLAT scores are exact

    def __init__(self, cache: RowCache, dim: int, size: int) -> None:
        self.cache = cache
        self._dim = dim
        self.size = size

    @property
    def dim(self) -> int:
        return self._dim

    def __len__(self) -> int:
        return self.size

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(ids int64, scores float32) of the ``k`` nearest rows to ``query`` (dim,), best first."""
        k = min(k, self.size)
        if k <= 0:
            return EMPTY_IDS, EMPTY_SCORES
        vector = np.asarray(query, dtype=np.float32).reshape(-1).tolist()
        result = self.cache.client.search(self.cache.collection, data=[vector], anns_field="dense", limit=k,
                                          search_params={"metric_type": "IP"}, output_fields=ROW_FIELDS)
        return _hits(result, self.cache)


class MilvusLexicalIndex:
    """BM25 over Kiwi morphemes as a sparse inner product: each row's sparse vector holds its
    BM25 term weights (bm25s's precomputed scores, k1=1.2, b=0.75), the query's holds each known
    term's count, so the inner product is the BM25 score bm25s computes for the same tokens.
    Term statistics (vocabulary, document frequencies) are held in memory."""

    name = "milvus"

    def __init__(self, cache: RowCache, tokens: list[str], doc_freqs: Sequence[int], size: int) -> None:
        self.cache = cache
        self.vocab: dict[str, int] = {t: i for i, t in enumerate(tokens)}
        self.doc_freqs = np.asarray(doc_freqs, dtype=np.int64)
        self.size = size

    def __len__(self) -> int:
        return self.size

    def doc_freq(self, token: str) -> int:
        j = self.vocab.get(token)
        return 0 if j is None else int(self.doc_freqs[j])

    def known(self, tokens: list[str]) -> list[str]:
        return [t for t in tokens if t in self.vocab]

    def contains(self, token: str, chunk_id: int) -> bool:
        j = self.vocab.get(token)
        if j is None:
            return False
        rows = self.cache.client.get(self.cache.collection, ids=[int(chunk_id)], output_fields=["sparse"])
        return bool(rows) and j in {int(t) for t in rows[0]["sparse"]}

    def search(self, tokens: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """(ids, scores) best first, ties by chunk id; rows scoring zero are dropped."""
        counts = Counter(self.vocab[t] for t in tokens if t in self.vocab)
        k = min(k, self.size)
        if not counts or k <= 0:
            return EMPTY_IDS, EMPTY_SCORES
        result = self.cache.client.search(self.cache.collection, data=[{j: float(c) for j, c in counts.items()}],
                                          anns_field="sparse", limit=k, search_params={"metric_type": "IP"},
                                          output_fields=ROW_FIELDS)
        ids, scores = _hits(result, self.cache)
        keep = scores > 0
        return ids[keep], scores[keep]


def _chunk(row: dict[str, Any]) -> Chunk:
    return Chunk(doc=row["doc"], start=int(row["start"]), end=int(row["end"]), text=row["text"],
                 section=row.get("section"), page=row.get("page"), id=int(row["id"]))


class MilvusChunks(Sequence[Chunk]):
    """The chunk table as a read-only sequence (chunk id = index), read from the engine."""

    def __init__(self, cache: RowCache, size: int) -> None:
        self.cache = cache
        self.size = size

    def __len__(self) -> int:
        return self.size

    @overload
    def __getitem__(self, index: int) -> Chunk: ...
    @overload
    def __getitem__(self, index: slice) -> list[Chunk]: ...

    def __getitem__(self, index: int | slice) -> Chunk | list[Chunk]:
        if isinstance(index, slice):
            ids = list(range(self.size))[index]
            rows = self.cache.get_many(ids)
            return [_chunk(rows[i]) for i in ids]
        i = int(index) + (self.size if index < 0 else 0)
        if not 0 <= i < self.size:
            raise IndexError(f"chunk id {index} out of range (0..{self.size - 1})")
        row = self.cache.get(i)
        if row is None:
            raise IndexError(f"chunk {i} is missing from collection {self.cache.collection}")
        return _chunk(row)

    def __iter__(self) -> Iterator[Chunk]:
        """Every chunk in id order, read a page at a time (not kept in the LRU)."""
        for start in range(0, self.size, PAGE):
            rows = self.cache.client.query(self.cache.collection, filter=f"id >= {start} and id < {start + PAGE}",
                                           output_fields=ROW_FIELDS, limit=PAGE)
            yield from (_chunk(r) for r in sorted(rows, key=lambda r: int(r["id"])))


class MilvusSentenceTable:
    """Each chunk's sentences and section-title morphemes (see `rag.snapshots.sentences`)."""

    def __init__(self, cache: RowCache) -> None:
        self.cache = cache

    def spans(self, chunk_id: int) -> tuple[tuple[str, ...], tuple[SentenceSpan, ...]]:
        """(section title morphemes, sentences) of a chunk; empty for an unknown id."""
        row = self.cache.get(int(chunk_id))
        if row is None:
            return (), ()
        section = tuple(json.loads(row["section_tokens"]))
        return section, tuple(SentenceSpan(a, b, tuple(t)) for a, b, t in json.loads(row["sentences"]))

    def get(self, chunk_id: int) -> tuple[frozenset[str], ...]:
        """Morpheme sets of the section title, then of each sentence (for proximity windows)."""
        section, sentences = self.spans(chunk_id)
        return ((frozenset(section),) if section else ()) + tuple(frozenset(s.tokens) for s in sentences)
