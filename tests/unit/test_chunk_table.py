"""The chunk table a query-side snapshot reads on demand (rag.snapshots.chunk_table): the same
chunks as reading the whole table, by id, in order, and damage is SnapshotDamaged."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from rag.errors import SnapshotDamaged
from rag.snapshots.chunk_table import ChunkTable
from rag.snapshots.format import SCHEMA, read_chunks
from rag.types import Chunk


def write_table(path: Path, n: int, ids: list[int] | None = None) -> list[Chunk]:
    chunks = [Chunk(doc=f"d{i % 3}.md", start=10 * i, end=10 * i + 5, text=f"본문 {i}", section=None if i % 2 else "절",
                    page=i % 4 or None, id=i) for i in range(n)]
    con = sqlite3.connect(path)
    con.executescript(SCHEMA)
    con.executemany('INSERT INTO chunks (id, doc, start, "end", section, page, text) VALUES (?, ?, ?, ?, ?, ?, ?)',
                    [(j, c.doc, c.start, c.end, c.section, c.page, c.text) for j, c in zip(ids or range(n), chunks)])
    con.commit()
    con.close()
    return chunks


def test_chunks_by_id_and_in_order_as_the_whole_table_reads(tmp_path: Path) -> None:
    db = tmp_path / "chunks.sqlite"
    chunks = write_table(db, 5000)
    table = ChunkTable(db, capacity=8)
    assert len(table) == 5000 and table[0] == chunks[0] and table[4999] == chunks[4999] and table[-1] == chunks[-1]
    assert table[10:13] == chunks[10:13] and table[3] is table[3]  # the LRU hands back the same object
    assert list(table) == chunks == read_chunks(db)[0]  # iteration pages through all 5000
    assert [c.id for c in table] == list(range(5000))
    with pytest.raises(IndexError):
        table[5000]
    with pytest.raises(IndexError):
        table[-5001]
    assert len(ChunkTable(_empty(tmp_path))) == 0 and list(ChunkTable(_empty(tmp_path))) == []


def _empty(tmp_path: Path) -> Path:
    db = tmp_path / "empty.sqlite"
    if not db.exists():
        write_table(db, 0)
    return db


def test_a_damaged_table_is_snapshot_damage(tmp_path: Path) -> None:
    with pytest.raises(SnapshotDamaged, match="missing"):
        ChunkTable(tmp_path / "none.sqlite")
    gap = tmp_path / "gap.sqlite"
    write_table(gap, 3, ids=[0, 1, 5])
    with pytest.raises(SnapshotDamaged, match="not contiguous"):
        ChunkTable(gap)
    garbled = tmp_path / "garbled.sqlite"
    garbled.write_bytes(b"\x00not a database" * 100)
    with pytest.raises(SnapshotDamaged, match="corrupt"):
        ChunkTable(garbled)
