"""The snapshot format, shared by the reader (`rag`) and the writer (`ingest`).

    index_dir/CURRENT                 id of the live snapshot, replaced atomically
    index_dir/snapshots/<id>/         dense and lexical index files, chunks.sqlite, meta.json, embedder/
    index_dir/cache.sqlite            embeddings and tokens keyed by (embedder id, text hash)

A snapshot directory is complete before its name appears (it is built under a temporary name
and renamed), and ``meta.json`` is its last file; readers follow CURRENT and never see a
half-written snapshot. The meta names the dense and lexical backends that wrote the index files
(``meta["dense"]["backend"]``, ``meta["lexical"]["backend"]``; FAISS and bm25 when absent).
"""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from rag.errors import SnapshotDamaged
from rag.types import Chunk

FORMAT_VERSION = 5  # 3: sentence spans stored with their morphemes; 4: the heading table; 5: sentence vectors
CURRENT = "CURRENT"
SNAPSHOTS = "snapshots"
META = "meta.json"
CHUNKS_DB = "chunks.sqlite"

SCHEMA = """
CREATE TABLE documents (doc TEXT PRIMARY KEY, title TEXT, type TEXT, pages INTEGER,
                        chunks INTEGER, hash TEXT, size INTEGER, updated TEXT,
                        collection INTEGER NOT NULL DEFAULT 0);
CREATE TABLE headings (doc TEXT NOT NULL, start INTEGER NOT NULL, level INTEGER NOT NULL, title TEXT NOT NULL,
                       PRIMARY KEY (doc, start, level));
CREATE TABLE chunks (id INTEGER PRIMARY KEY, doc TEXT NOT NULL, start INTEGER NOT NULL,
                     "end" INTEGER NOT NULL, section TEXT, page INTEGER, text TEXT NOT NULL);
CREATE INDEX chunks_doc ON chunks(doc);
CREATE TABLE sentences (chunk_id INTEGER PRIMARY KEY, section_tokens TEXT NOT NULL, sentences TEXT NOT NULL);
"""


def snapshots_dir(index_dir: Path) -> Path:
    return index_dir / SNAPSHOTS


def read_current(index_dir: Path) -> str | None:
    try:
        value = (index_dir / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return value or None


def list_snapshot_ids(index_dir: Path) -> list[str]:
    """Complete snapshots, oldest first (ids sort by creation time)."""
    root = snapshots_dir(index_dir)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def read_meta(snapshot_dir: Path) -> dict[str, Any]:
    """The snapshot's meta.json; raises SnapshotDamaged when it is missing, garbled or of another format."""
    try:
        meta = json.loads((snapshot_dir / META).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SnapshotDamaged(f"snapshot {snapshot_dir.name}: {META} is missing") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SnapshotDamaged(f"snapshot {snapshot_dir.name}: {META} is unreadable ({exc})") from exc
    except OSError as exc:
        raise SnapshotDamaged(f"snapshot {snapshot_dir.name}: {META} cannot be read ({exc.strerror or exc})") from exc
    if not isinstance(meta, dict) or not isinstance(meta.get("embedder"), dict):
        raise SnapshotDamaged(f"snapshot {snapshot_dir.name}: {META} is not a snapshot description")
    if meta.get("format") != FORMAT_VERSION:
        raise SnapshotDamaged(f"snapshot {snapshot_dir.name}: format {meta.get('format')} is not {FORMAT_VERSION}"
                              " (built by another version: run `rag ingest` to rebuild)")
    return meta


def read_chunks(db_path: Path) -> tuple[list[Chunk], list[dict[str, Any]]]:
    """(chunks in id order, documents) of a chunk table; raises SnapshotDamaged. Every chunk is
    loaded: the writer's side (an incremental ingest, a publish); a snapshot opened for queries
    reads its chunks on demand (rag.snapshots.chunk_table)."""
    if not db_path.is_file():
        raise SnapshotDamaged(f"{db_path.parent.name}: {CHUNKS_DB} is missing")
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        rows = con.execute('SELECT id, doc, start, "end", section, page, text FROM chunks ORDER BY id').fetchall()
    except sqlite3.DatabaseError as exc:
        raise SnapshotDamaged(f"{db_path.parent.name}: {CHUNKS_DB} is corrupt ({exc})") from exc
    finally:
        con.close()
    chunks = [Chunk(doc=r[1], start=r[2], end=r[3], text=r[6], section=r[4], page=r[5], id=r[0]) for r in rows]
    if any(c.id != i for i, c in enumerate(chunks)):
        raise SnapshotDamaged(f"{db_path.parent.name}: chunk ids are not contiguous")
    return chunks, read_documents(db_path)


def read_documents(db_path: Path) -> list[dict[str, Any]]:
    """The documents of a chunk table; raises SnapshotDamaged. Each document row carries its
    heading table as ``sections``: ``[[start, level, title], ...]`` by start
    (``rag.snapshots.sections``), and ``collection`` (0/1: a collection of posts)."""
    if not db_path.is_file():
        raise SnapshotDamaged(f"{db_path.parent.name}: {CHUNKS_DB} is missing")
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        docs = con.execute("SELECT doc, title, type, pages, chunks, hash, size, updated, collection FROM documents "
                           "ORDER BY doc").fetchall()
        headings = con.execute("SELECT doc, start, level, title FROM headings ORDER BY doc, start, level").fetchall()
    except sqlite3.DatabaseError as exc:
        raise SnapshotDamaged(f"{db_path.parent.name}: {CHUNKS_DB} is corrupt ({exc})") from exc
    finally:
        con.close()
    keys = ("doc", "title", "type", "pages", "chunks", "hash", "size", "updated", "collection")
    sections: dict[str, list[list[Any]]] = {}
    for doc, start, level, title in headings:
        sections.setdefault(doc, []).append([start, level, title])
    return [{**dict(zip(keys, d)), "sections": sections.get(d[0], [])} for d in docs]


def file_sizes(path: Path) -> dict[str, int]:
    """Size of every file of a snapshot directory but its meta, by relative path: written into
    the meta, they let a reader tell a truncated or overwritten file without parsing it."""
    return {p.relative_to(path).as_posix(): p.stat().st_size
            for p in sorted(path.rglob("*")) if p.is_file() and p.name != META}
