"""Writing a snapshot and publishing it atomically; pruning old ones."""
from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from rag.dense.base import DenseIndex
from rag.embedders.base import Embedder
from rag.embedders.registry import EMBEDDER_DIR
from rag.errors import StorageFull
from rag.lexical.base import LexicalIndex
from rag.snapshots.sentence_vectors import write_sentence_vectors
from rag.snapshots.format import (
    CHUNKS_DB, CURRENT, FORMAT_VERSION, META, SCHEMA, file_sizes, list_snapshot_ids, read_current, snapshots_dir,
)
from rag.types import Chunk

from ingest.splitting import embed_input

FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
LOW_SPACE = 1 << 20  # below this much free space, a failed write is taken for a full disk


def new_snapshot_id() -> str:
    """Sortable by creation time, unique even within one second."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f") + "-" + uuid.uuid4().hex[:6]


def is_disk_full(exc: BaseException, path: Path) -> bool:
    """Whether a failed write ran out of space. Libraries say it differently: OSError ENOSPC
    (numpy, json, joblib), "database or disk is full" (sqlite), a bare RuntimeError (faiss), so
    the free space left on the device decides when the error itself does not."""
    if isinstance(exc, OSError) and exc.errno in FULL_ERRNOS:
        return True
    text = str(exc).lower()
    if "no space left" in text or "disk is full" in text or "quota exceeded" in text:
        return True
    try:
        return shutil.disk_usage(path).free < LOW_SPACE
    except OSError:
        return False


@contextmanager
def storage_errors(path: Path, what: str) -> Iterator[None]:
    """Turns a full disk into StorageFull (a clear 507 / CLI message); other errors pass through."""
    try:
        yield
    except Exception as exc:
        if is_disk_full(exc, path):
            raise StorageFull(f"disk full while {what} in {path}: nothing was published, the live snapshot is "
                              f"unchanged; free some space and run `rag ingest` again ({exc})") from exc
        raise


def fsync_dir(path: Path) -> None:
    """Make a directory's entries (a rename, a new file) durable; raises OSError."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SnapshotWriter:
    def __init__(self, index_dir: Path, keep: int = 3) -> None:
        self.index_dir = Path(index_dir)
        self.keep = keep

    def write(
        self,
        chunks: list[Chunk],
        documents: list[dict[str, Any]],
        dense: DenseIndex,
        lexical: LexicalIndex,
        embedder: Embedder,
        meta_extra: dict[str, Any],
        sentences: list[list[list[Any]]],
        sentence_vectors: list[np.ndarray],
    ) -> str:
        """Write a complete snapshot under a temporary name, then rename it into place."""
        root = snapshots_dir(self.index_dir)
        root.mkdir(parents=True, exist_ok=True)
        snap_id = new_snapshot_id()
        tmp = root / f".tmp-{snap_id}"
        try:
            with storage_errors(root, "writing a snapshot"):
                self._write(tmp, snap_id, chunks, documents, dense, lexical, embedder, meta_extra, sentences,
                            sentence_vectors)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return snap_id

    def _write(self, tmp: Path, snap_id: str, chunks: list[Chunk], documents: list[dict[str, Any]], dense: DenseIndex,
               lexical: LexicalIndex, embedder: Embedder, meta_extra: dict[str, Any],
               sentences: list[list[list[Any]]], sentence_vectors: list[np.ndarray]) -> None:
        """Every file under ``tmp``, meta.json (with the other files' sizes) last, then the rename."""
        root = tmp.parent
        tmp.mkdir()
        dense.save(tmp)
        lexical.save(tmp)
        self._write_db(tmp / CHUNKS_DB, chunks, documents, sentences)
        write_sentence_vectors(tmp, sentence_vectors, embedder.dim)
        embedder.save(tmp / EMBEDDER_DIR)
        meta = {
            "format": FORMAT_VERSION,
            "id": snap_id,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "embedder": embedder.describe(),
            "chunks": len(chunks),
            "dense": {"backend": dense.name},
            "lexical": {"backend": lexical.name},
            "documents": {d["doc"]: d["hash"] for d in documents},
            "files": file_sizes(tmp),
            **meta_extra,
        }
        meta_path = tmp / META
        with open(meta_path, "w", encoding="utf-8") as fh:
            json.dump(meta, fh, ensure_ascii=False, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        fsync_dir(tmp)
        os.rename(tmp, root / snap_id)
        fsync_dir(root)

    @staticmethod
    def _write_db(path: Path, chunks: list[Chunk], documents: list[dict[str, Any]], sentences: list[list[list[Any]]]) -> None:
        con = sqlite3.connect(path)
        try:
            con.executescript(SCHEMA)
            con.executemany(
                'INSERT INTO chunks (id, doc, start, "end", section, page, text) VALUES (?, ?, ?, ?, ?, ?, ?)',
                [(i, c.doc, c.start, c.end, c.section, c.page, c.text) for i, c in enumerate(chunks)],
            )
            con.executemany("INSERT INTO sentences VALUES (?, ?, ?)",
                            [(i, *_sentence_row(c, s)) for i, (c, s) in enumerate(zip(chunks, sentences, strict=True))])
            con.executemany(
                "INSERT INTO documents VALUES (:doc, :title, :type, :pages, :chunks, :hash, :size, :updated, :collection)",
                [{"collection": 0, **d} for d in documents])
            con.executemany("INSERT INTO headings VALUES (?, ?, ?, ?)",
                            [(d["doc"], int(a), int(lv), t) for d in documents for a, lv, t in d.get("sections") or ()])
            con.commit()
        finally:
            con.close()

    def publish(self, snap_id: str) -> None:
        """Point CURRENT at ``snap_id`` with one atomic rename; readers switch on their next look."""
        tmp = self.index_dir / f".{CURRENT}.{snap_id}.tmp"
        try:
            with storage_errors(self.index_dir, "publishing a snapshot"), open(tmp, "w", encoding="utf-8") as fh:
                fh.write(snap_id + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        os.replace(tmp, self.index_dir / CURRENT)
        fsync_dir(self.index_dir)

    def prune(self, grace_seconds: float = 0.0) -> list[str]:
        """Remove all but the newest ``keep`` snapshots (never the live one) and what killed
        writers left: temporary snapshot dirs and CURRENT files (called under the writer lock)."""
        root = snapshots_dir(self.index_dir)
        current = read_current(self.index_dir)
        ids = list_snapshot_ids(self.index_dir)
        removed = []
        for snap_id in ids[: max(0, len(ids) - self.keep)]:
            if snap_id != current:
                shutil.rmtree(root / snap_id, ignore_errors=True)
                removed.append(snap_id)
        now = time.time()
        for tmp in [*root.glob(".tmp-*"), *self.index_dir.glob(f".{CURRENT}.*.tmp")]:
            try:
                stale = now - tmp.stat().st_mtime > grace_seconds
            except FileNotFoundError:
                continue
            if stale and tmp.is_dir():
                shutil.rmtree(tmp, ignore_errors=True)
            elif stale:
                tmp.unlink(missing_ok=True)
        return removed


def _sentence_row(chunk: Chunk, sentences: list[list[Any]]) -> tuple[str, str]:
    """(section morphemes, sentences as ``[start, end, morphemes]`` in the chunk's text) of one
    chunk, from its analysed input (the section title line, when there is one, then the text)."""
    offset = len(embed_input(chunk)) - len(chunk.text)
    section = [t for a, _, toks in sentences if a < offset for t in toks]
    spans = [[a - offset, b - offset, toks] for a, b, toks in sentences if a >= offset]
    return json.dumps(section, ensure_ascii=False), json.dumps(spans, ensure_ascii=False)
