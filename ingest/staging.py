"""Document writes that reach the notes directory only once their snapshot is published.

A write through the API (add, replace, delete one document) is staged under
``<index>/staging/<id>/``: ``op.json`` says what it does, ``view/`` is the notes directory as it
will be (symbolic links to every other note, plus the new bytes). The ingest runs over the view
and publishes; then :meth:`StagedWrite.settle` moves the new bytes into the notes directory (or
removes the deleted file) and drops the staging directory. Until then the notes directory keeps
the old bytes, so a crash at any moment leaves one of two states, told apart by the live
snapshot alone:

* the snapshot with the write is live: the write happened; settling finishes it (roll forward);
* it is not: the write never happened; settling drops the staged bytes (roll back).

:func:`recover` settles whatever a killed writer left; call it under the writer lock (at
start-up and before every write), when no live writer can own a staging directory.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from rag.errors import RagError
from rag.snapshots.format import read_current, read_meta, snapshots_dir

from ingest.loaders import find_file
from ingest.normalize import normalize_id
from ingest.pipeline import scan
from ingest.snapshot_writer import fsync_dir, storage_errors

log = logging.getLogger(__name__)

STAGING_DIR = "staging"
OP_FILE = "op.json"
VIEW_DIR = "view"
Op = Literal["put", "delete"]


def sha256(data: bytes) -> str:
    """The document hash the snapshot records (``LoadedDocument.hash``: SHA-256 of the bytes)."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class StagedWrite:
    root: Path  # <index>/staging/<id>
    op: Op  # "put": add or replace doc_id with the staged bytes; "delete": remove doc_id
    doc: str
    sha256: str | None  # of the staged bytes (put only)

    @classmethod
    def stage(cls, index_dir: Path, op: Op, doc: str, data: bytes | None = None) -> "StagedWrite":
        """Write the staged bytes, then ``op.json`` last (a directory without it is an
        unfinished staging and is simply removed), both flushed to disk."""
        root = Path(index_dir) / STAGING_DIR / f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        staged = cls(root, op, doc, sha256(data) if data is not None else None)
        try:
            # a full disk here is the same StorageFull (507) as one during the publish
            with storage_errors(Path(index_dir), "staging the document"):
                (root / VIEW_DIR).mkdir(parents=True)
                if data is not None:
                    _write_synced(staged.staged_path, data)
                record = {k: v for k, v in asdict(staged).items() if k != "root"}
                _write_synced(root / f".{OP_FILE}.tmp", json.dumps(record).encode("utf-8"))
                os.replace(root / f".{OP_FILE}.tmp", root / OP_FILE)
                fsync_dir(root)
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)  # unfinished: never settled, never left behind
            raise
        return staged

    @classmethod
    def read(cls, root: Path) -> "StagedWrite | None":
        try:
            record = json.loads((root / OP_FILE).read_text(encoding="utf-8"))
            staged = cls(root, record["op"], record["doc"], record.get("sha256"))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if staged.op not in ("put", "delete") or (staged.op == "put" and not staged.staged_path.is_file()):
            return None
        return staged

    @property
    def staged_path(self) -> Path:
        return self.root / VIEW_DIR / self.doc

    def view(self, notes_dir: Path) -> Path:
        """The notes directory as it will be after this write, for the ingest to read."""
        view = self.root / VIEW_DIR
        notes_dir = Path(notes_dir)
        for path in scan(notes_dir) if notes_dir.is_dir() else []:
            rel = path.relative_to(notes_dir)
            if normalize_id(rel.as_posix()) == self.doc:  # the file this write replaces or removes
                continue
            link = view / rel
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(path.resolve())
        return view

    def published(self, live: dict[str, str]) -> bool:
        """Whether the live snapshot's documents (id -> hash) already include this write."""
        return live.get(self.doc) == self.sha256 if self.op == "put" else self.doc not in live

    def settle(self, notes_dir: Path, live: dict[str, str]) -> bool:
        """Finish the write if ``live`` has it, else drop it; the staging directory goes either
        way. True when the notes directory was brought in line with the write."""
        done = self.published(live)
        if done:
            # The file is replaced in place, even when named in another Unicode form (NFD).
            target = find_file(Path(notes_dir), self.doc) or Path(notes_dir) / self.doc
            if self.op == "put":
                write_atomic(target, self.staged_path.read_bytes())
            else:
                target.unlink(missing_ok=True)
        shutil.rmtree(self.root, ignore_errors=True)
        return done


def live_documents(index_dir: Path) -> dict[str, str]:
    """Document id -> hash of the snapshot CURRENT names ({} when there is none or it is unreadable)."""
    current = read_current(Path(index_dir))
    if current is None:
        return {}
    try:
        return dict(read_meta(snapshots_dir(Path(index_dir)) / current).get("documents", {}))
    except (RagError, OSError, ValueError):
        return {}


def recover(index_dir: Path, notes_dir: Path) -> list[dict[str, Any]]:
    """Settle every write a killed writer left staged; the caller holds the writer lock. Returns
    what was done, one ``{"doc", "op", "outcome": "completed" | "discarded"}`` per write."""
    root = Path(index_dir) / STAGING_DIR
    if not root.is_dir():
        return []
    live = live_documents(index_dir)
    done = []
    for path in sorted(p for p in root.iterdir() if p.is_dir()):
        staged = StagedWrite.read(path)
        if staged is None:
            shutil.rmtree(path, ignore_errors=True)  # staged only partly: it was never ingested
            continue
        outcome = "completed" if staged.settle(notes_dir, live) else "discarded"
        log.warning("a document write was interrupted: %s %s %s (its snapshot was %s)", staged.op, staged.doc,
                    outcome, "published" if outcome == "completed" else "not published")
        done.append({"doc": staged.doc, "op": staged.op, "outcome": outcome})
    return done


def write_atomic(path: Path, data: bytes) -> None:
    """Readers (and a crash) see the old file or the new one, never half of it. The temporary
    name is hidden, so an ingest scanning meanwhile skips it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        _write_synced(tmp, data)
        os.replace(tmp, path)
        fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def _write_synced(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
