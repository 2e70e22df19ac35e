"""The chunk table of an opened snapshot, read from SQLite on demand: a ``Sequence[Chunk]``
indexed by chunk id, so a worker holds no Python object per chunk (a million chunks of ~450
characters held as ``Chunk`` objects took over a gigabyte in each worker). A query reads the
few chunks it ranks highly; a bounded LRU keeps the recent ones."""
from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Iterator, Sequence, overload

from rag.errors import SnapshotDamaged
from rag.types import Chunk

COLUMNS = 'id, doc, start, "end", section, page, text'
PAGE = 2000  # rows per fetch while iterating the whole table (evaluation, training)


def _chunk(row: tuple) -> Chunk:
    return Chunk(doc=row[1], start=row[2], end=row[3], text=row[6], section=row[4], page=row[5], id=row[0])


class ChunkTable(Sequence[Chunk]):
    """``table[i]`` is chunk ``i`` (ids are 0..n-1); iterating reads the table in id order.

    The read-only connection is opened now, not on first use: an open handle keeps the file
    readable after the snapshot is pruned, so a request in flight finishes on its own snapshot."""

    def __init__(self, db_path: Path, capacity: int = 4096) -> None:
        """Raises SnapshotDamaged when the table is missing, corrupt or its ids are not 0..n-1."""
        self.db_path = db_path
        self.capacity = capacity
        self._cache: OrderedDict[int, Chunk] = OrderedDict()
        self._lock = threading.Lock()
        if not db_path.is_file():
            raise SnapshotDamaged(f"{db_path.parent.name}: {db_path.name} is missing")
        try:
            self._con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, check_same_thread=False)
            n, lo, hi = self._con.execute("SELECT count(*), min(id), max(id) FROM chunks").fetchone()
        except sqlite3.DatabaseError as exc:
            raise SnapshotDamaged(f"{db_path.parent.name}: {db_path.name} is corrupt ({exc})") from exc
        if n and (lo != 0 or hi != n - 1):  # ids are the primary key, so unique: 0..n-1 iff these hold
            raise SnapshotDamaged(f"{db_path.parent.name}: chunk ids are not contiguous")
        self._n = int(n)

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, i: int) -> Chunk: ...

    @overload
    def __getitem__(self, i: slice) -> list[Chunk]: ...

    def __getitem__(self, i: int | slice) -> Chunk | list[Chunk]:
        """Raises IndexError outside 0..n-1 (negative indices count from the end)."""
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._n))]
        j = int(i) + self._n if int(i) < 0 else int(i)
        if not 0 <= j < self._n:
            raise IndexError(f"chunk id {i} out of range (0..{self._n - 1})")
        with self._lock:
            hit = self._cache.get(j)
            if hit is not None:
                self._cache.move_to_end(j)
                return hit
            row = self._con.execute(f"SELECT {COLUMNS} FROM chunks WHERE id = ?", (j,)).fetchone()
            if row is None:
                raise SnapshotDamaged(f"{self.db_path.parent.name}: chunk {j} is missing")
            chunk = self._cache[j] = _chunk(row)
            if len(self._cache) > self.capacity:
                self._cache.popitem(last=False)
            return chunk

    def __iter__(self) -> Iterator[Chunk]:
        """All chunks in id order, fetched a page at a time (not kept)."""
        last = -1
        while True:
            with self._lock:
                rows = self._con.execute(f"SELECT {COLUMNS} FROM chunks WHERE id > ? ORDER BY id LIMIT ?",
                                         (last, PAGE)).fetchall()
            if not rows:
                return
            yield from map(_chunk, rows)
            last = rows[-1][0]
