"""The snapshot format (shared with ``ingest``) and its reader.

    index_dir/CURRENT                 id of the live snapshot, replaced atomically
    index_dir/snapshots/<id>/         faiss.index, bm25/, chunks.sqlite, meta.json, embedder/
    index_dir/cache.sqlite            embeddings and tokens keyed by (embedder id, text hash)

A snapshot directory is complete before its name appears (it is built under a temporary name
and renamed), and ``meta.json`` is its last file; readers follow CURRENT and never see a
half-written snapshot.
"""
from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from rag.dense_index import FILE as FAISS_FILE
from rag.dense_index import DenseIndex
from rag.embedders.base import Embedder
from rag.embedders.registry import EMBEDDER_DIR, embedder_class, load_snapshot_embedder
from rag.errors import NoIndex, RagError, SnapshotDamaged
from rag.lexical_index import DIR as BM25_DIR
from rag.lexical_index import LexicalIndex
from rag.types import Chunk, SentenceSpan

log = logging.getLogger(__name__)

FORMAT_VERSION = 3  # 3: sentence spans stored with their morphemes
CURRENT = "CURRENT"
SNAPSHOTS = "snapshots"
META = "meta.json"
CHUNKS_DB = "chunks.sqlite"

SCHEMA = """
CREATE TABLE documents (doc TEXT PRIMARY KEY, title TEXT, type TEXT, pages INTEGER,
                        chunks INTEGER, hash TEXT, size INTEGER, updated TEXT);
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
    if not db_path.is_file():
        raise SnapshotDamaged(f"{db_path.parent.name}: {CHUNKS_DB} is missing")
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        rows = con.execute('SELECT id, doc, start, "end", section, page, text FROM chunks ORDER BY id').fetchall()
        docs = con.execute("SELECT doc, title, type, pages, chunks, hash, size, updated FROM documents ORDER BY doc").fetchall()
    except sqlite3.DatabaseError as exc:
        raise SnapshotDamaged(f"{db_path.parent.name}: {CHUNKS_DB} is corrupt ({exc})") from exc
    finally:
        con.close()
    chunks = [Chunk(doc=r[1], start=r[2], end=r[3], text=r[6], section=r[4], page=r[5], id=r[0]) for r in rows]
    if any(c.id != i for i, c in enumerate(chunks)):
        raise SnapshotDamaged(f"{db_path.parent.name}: chunk ids are not contiguous")
    keys = ("doc", "title", "type", "pages", "chunks", "hash", "size", "updated")
    return chunks, [dict(zip(keys, d)) for d in docs]


def file_sizes(path: Path) -> dict[str, int]:
    """Size of every file of a snapshot directory but its meta, by relative path: written into
    the meta, they let a reader tell a truncated or overwritten file without parsing it."""
    return {p.relative_to(path).as_posix(): p.stat().st_size
            for p in sorted(path.rglob("*")) if p.is_file() and p.name != META}


def check_files(path: Path, meta: dict[str, Any]) -> None:
    """Every file the meta lists is there with the size it was written with (older snapshots
    without the list are checked by the other means only)."""
    expected = meta.get("files")
    if not isinstance(expected, dict):
        return
    for rel, size in expected.items():
        try:
            actual = (path / rel).stat().st_size
        except OSError:
            raise SnapshotDamaged(f"snapshot {path.name}: {rel} is missing") from None
        if actual != size:
            raise SnapshotDamaged(f"snapshot {path.name}: {rel} is {actual} bytes but {size} were written "
                                  "(truncated or overwritten)")


def verify_snapshot(path: Path) -> dict[str, Any]:
    """A quick integrity check: meta, file sizes, chunk table and index sizes agree, and the
    embedder the snapshot carries (a fitted one) loads. Any damage is a SnapshotDamaged, so a writer treats the
    snapshot as absent and rebuilds."""
    meta = read_meta(path)
    check_files(path, meta)
    chunks, _ = read_chunks(path / CHUNKS_DB)
    try:
        n, dim = int(meta.get("chunks", -1)), int(meta["embedder"]["dim"])
    except (KeyError, TypeError, ValueError) as exc:
        raise SnapshotDamaged(f"snapshot {path.name}: {META} lacks the chunk count or dimension ({exc})") from exc
    if len(chunks) != n:
        raise SnapshotDamaged(f"snapshot {path.name}: {len(chunks)} chunks in the table, meta says {n}")
    faiss_path = path / FAISS_FILE
    if not faiss_path.is_file() or faiss_path.stat().st_size < n * dim * 4:
        raise SnapshotDamaged(f"snapshot {path.name}: {FAISS_FILE} is missing or truncated")
    if not (path / BM25_DIR).is_dir():
        raise SnapshotDamaged(f"snapshot {path.name}: {BM25_DIR}/ is missing")
    _check_stored_embedder(path, meta)
    return meta


def _check_stored_embedder(path: Path, meta: dict[str, Any]) -> None:
    """An embedder stored in the snapshot (the fitted LSA) must load (a few ms): one that does not,
    garbled or of an older format, would leave readers with nothing to embed questions with, so
    it is damage that the next ingest repairs. A pretrained model is not part of the snapshot; it
    is checked when it loads. An unknown kind is damage too."""
    try:
        cls = embedder_class(meta["embedder"].get("kind"))
    except RagError as exc:
        raise SnapshotDamaged(f"snapshot {path.name}: {exc.message}") from exc
    if not cls.stored_in_snapshot:
        return
    try:
        load_snapshot_embedder(meta, path)
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        raise SnapshotDamaged(f"snapshot {path.name}: {EMBEDDER_DIR}/ is unreadable ({reason})") from exc


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


@dataclass
class Snapshot:
    """Everything a query needs, loaded into memory; immutable once opened."""

    id: str
    path: Path
    meta: dict[str, Any]
    chunks: list[Chunk]
    documents: list[dict[str, Any]]
    dense: DenseIndex
    lexical: LexicalIndex
    embedder: Embedder
    sentences: SentenceTable
    stats: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def titles(self) -> dict[str, str | None]:
        """Document id -> title, as stored in the documents table."""
        return {d["doc"]: d.get("title") for d in self.documents}

    def title(self, doc: str) -> str | None:
        return self.titles.get(doc)

    @classmethod
    def open(cls, path: Path, embedder: Embedder | None = None) -> "Snapshot":
        """Load a snapshot; any damage (a missing, truncated or garbled file) is SnapshotDamaged."""
        try:
            return cls._open(path, embedder)
        except RagError:
            raise
        except Exception as exc:  # whatever a garbled file makes a library raise
            raise SnapshotDamaged(f"snapshot {path.name} is unreadable ({type(exc).__name__}: {exc})") from exc

    @classmethod
    def _open(cls, path: Path, embedder: Embedder | None) -> "Snapshot":
        meta = read_meta(path)
        check_files(path, meta)
        chunks, documents = read_chunks(path / CHUNKS_DB)
        try:
            dense = DenseIndex.load(path)
        except Exception as exc:
            raise SnapshotDamaged(f"snapshot {path.name}: {FAISS_FILE} is unreadable ({exc})") from exc
        try:
            lexical = LexicalIndex.load(path, len(chunks))
        except Exception as exc:
            raise SnapshotDamaged(f"snapshot {path.name}: {BM25_DIR}/ is unreadable ({exc})") from exc
        if len(dense) != len(chunks) or int(meta.get("chunks", -1)) != len(chunks):
            raise SnapshotDamaged(
                f"snapshot {path.name}: {len(chunks)} chunks but {len(dense)} vectors, meta says {meta.get('chunks')}"
            )
        if embedder is None or embedder.id != meta["embedder"]["id"]:
            try:
                embedder = load_snapshot_embedder(meta, path)
            except RagError:
                raise
            except Exception as exc:
                raise SnapshotDamaged(f"snapshot {path.name}: embedder is unreadable ({exc})") from exc
        if embedder.dim != dense.dim:
            raise SnapshotDamaged(f"snapshot {path.name}: index dim {dense.dim} != embedder dim {embedder.dim}")
        try:
            sentences = SentenceTable(path / CHUNKS_DB)
        except sqlite3.DatabaseError as exc:
            raise SnapshotDamaged(f"snapshot {path.name}: {CHUNKS_DB} has no sentence table ({exc})") from exc
        return cls(path.name, path, meta, chunks, documents, dense, lexical, embedder, sentences)


class SnapshotStore:
    """Finds the live snapshot, falling back to the newest good one when it is damaged."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = Path(index_dir)
        self._lock = threading.Lock()
        self.damaged: dict[str, str] = {}

    def current_id(self) -> str | None:
        return read_current(self.index_dir)

    def open_live(self, reuse: Snapshot | None = None) -> Snapshot:
        """Open CURRENT, or the newest snapshot that opens, recording the damaged ones."""
        with self._lock:
            current = self.current_id()
            candidates = [current] if current else []
            candidates += [i for i in reversed(list_snapshot_ids(self.index_dir)) if i != current]
            if not candidates:
                raise NoIndex(f"no snapshot in {self.index_dir}: run `rag ingest` first")
            for snap_id in candidates:
                if reuse is not None and reuse.id == snap_id:
                    return reuse
                try:
                    snap = Snapshot.open(snapshots_dir(self.index_dir) / snap_id, reuse.embedder if reuse else None)
                except (SnapshotDamaged, FileNotFoundError) as exc:
                    self.damaged[snap_id] = str(exc)
                    log.error("snapshot %s is damaged, trying an older one: %s", snap_id, exc)
                    continue
                self.damaged.pop(snap_id, None)
                return snap
            raise NoIndex(f"every snapshot in {self.index_dir} is damaged: {self.damaged}; run `rag ingest` to repair")
