"""The sentence table of a snapshot, read on demand through a bounded LRU."""
from __future__ import annotations

import json
import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path

from rag.types import SentenceSpan


class SentenceTable:
    """Each chunk's sentences (spans into its text, with their content morphemes) and its
    section title's morphemes, read on demand from the chunk table and kept in a bounded LRU:
    only the few passages a query ranks highly are ever needed."""

    def __init__(self, db_path: Path, capacity: int = 4096) -> None:
        self.db_path = db_path
        self.capacity = capacity
        self._cache: OrderedDict[int, tuple[tuple[str, ...], tuple[SentenceSpan, ...]]] = OrderedDict()
        self._lock = threading.Lock()
        # Opened now, not on first use: an open handle keeps the file readable even after the
        # snapshot is pruned, so a request in flight always finishes on its own snapshot.
        self._con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, check_same_thread=False)
        self._con.execute("SELECT count(*) FROM sentences").fetchone()

    def spans(self, chunk_id: int) -> tuple[tuple[str, ...], tuple[SentenceSpan, ...]]:
        """(section title morphemes, sentences) of a chunk; empty for an unknown id."""
        with self._lock:
            hit = self._cache.get(chunk_id)
            if hit is not None:
                self._cache.move_to_end(chunk_id)
                return hit
            row = self._con.execute("SELECT section_tokens, sentences FROM sentences WHERE chunk_id = ?",
                                    (chunk_id,)).fetchone()
            value: tuple[tuple[str, ...], tuple[SentenceSpan, ...]] = ((), ())
            if row:
                value = (tuple(json.loads(row[0])), tuple(SentenceSpan(a, b, tuple(t)) for a, b, t in json.loads(row[1])))
            self._cache[chunk_id] = value
            if len(self._cache) > self.capacity:
                self._cache.popitem(last=False)
            return value

    def get(self, chunk_id: int) -> tuple[frozenset[str], ...]:
        """Morpheme sets of the section title, then of each sentence (for proximity windows)."""
        section, sentences = self.spans(chunk_id)
        return ((frozenset(section),) if section else ()) + tuple(frozenset(s.tokens) for s in sentences)
