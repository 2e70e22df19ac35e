"""Maintainers' document service: list, upload, replace, delete, re-index.

Every write follows one rule: validate everything first (name, type, size, content), then
change the notes directory and re-sync the index while holding the ingest's writer lock, and
undo the file change when the sync fails, so the notes directory and the live snapshot never
disagree. One write at a time: a second one gets ``Conflict`` (409) at once, whether it comes
from this process (a thread lock) or another (the ingest's file lock).
"""
from __future__ import annotations

import logging
import os
import re
import threading
import unicodedata
import uuid
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Callable

from ingest.loaders import doc_type, find_file, load_bytes
from ingest.normalize import normalize_id
from ingest.pipeline import Ingestor, IngestSummary
from rag.errors import BadDocument, Conflict, InvalidInput, NotFound, TooLarge
from rag.live import LiveSnapshot
from rag.settings import Settings

log = logging.getLogger(__name__)

MAX_NAME_BYTES = 200
MAX_ID_BYTES = 1024
# Bidirectional overrides can make "evil.txt.exe" display as something else: no place in a name.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
READ_CHUNK = 1 << 20
BUSY = "another document change or ingest is running; try again when it has finished"
Undo = Callable[[], None]


def _has_controls(name: str) -> bool:
    """C0/C1 controls, DEL, lone surrogates (undecodable bytes) and bidirectional overrides."""
    return any(unicodedata.category(ch) in ("Cc", "Cs") or ch in BIDI_CONTROLS for ch in name)


def upload_name(filename: str | None) -> str:
    """The document id of an upload: its base name, refused when it could escape the notes dir.
    Unicode names are kept, in NFC, so a name typed on macOS (NFD) is the same document."""
    name = (filename or "").strip()
    if not name:
        raise InvalidInput("file: the upload has no file name")
    if _has_controls(name):
        raise InvalidInput("file: the file name contains control characters")
    name = unicodedata.normalize("NFC", name)
    parts = re.split(r"[\\/]", name)
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts:
        raise InvalidInput("file: the file name must not be an absolute path or contain '..'")
    base = parts[-1].strip()
    if not base or base.startswith("."):
        raise InvalidInput("file: the file name is empty or hidden (starts with '.')")
    if len(base.encode("utf-8")) > MAX_NAME_BYTES:
        raise InvalidInput(f"file: the file name is longer than {MAX_NAME_BYTES} bytes")
    return base


class DocumentService:
    def __init__(self, settings: Settings, live: LiveSnapshot) -> None:
        self.settings = settings
        self.live = live
        self.notes_dir = Path(settings.notes_dir)
        self.max_bytes = int(settings.max_upload_mb * 2**20)
        self._lock = threading.Lock()  # one write per process; the ingest's flock covers processes

    # ---- reading -------------------------------------------------------------------------
    def list(self) -> dict[str, Any]:
        snap = self.live.get()
        docs = [{"id": d["doc"], **{k: v for k, v in d.items() if k != "doc"}} for d in snap.documents]
        return {"snapshot": snap.id, "documents": docs}

    def read_upload(self, stream: BinaryIO) -> bytes:
        """The upload's bytes, stopping as soon as it passes the limit (never reads it all first)."""
        parts: list[bytes] = []
        total = 0
        while chunk := stream.read(READ_CHUNK):
            total += len(chunk)
            if total > self.max_bytes:
                raise TooLarge(f"upload larger than {self.settings.max_upload_mb:g} MB (RAG_MAX_UPLOAD_MB)")
            parts.append(chunk)
        return b"".join(parts)

    # ---- writing -------------------------------------------------------------------------
    def add(self, filename: str | None, stream: BinaryIO) -> dict[str, Any]:
        doc_id = normalize_id(upload_name(filename))
        data = self._validated(doc_id, stream)
        path = self.notes_dir / doc_id

        def change() -> Undo:
            if path.exists() or find_file(self.notes_dir, doc_id) or doc_id in self._indexed():
                raise Conflict(f"document {doc_id!r} already exists; use PUT /documents/{doc_id} to replace it")
            _write_atomic(path, data)
            return lambda: path.unlink(missing_ok=True)

        return self._apply(doc_id, change)

    def replace(self, doc_id: str, stream: BinaryIO) -> dict[str, Any]:
        doc_id = normalize_id(doc_id)
        path = self._path_of(doc_id)
        if not path.is_file() and doc_id not in self._indexed():
            raise NotFound(f"unknown document {doc_id!r}; use POST /documents to add it")
        data = self._validated(doc_id, stream)

        def change() -> Undo:
            old = path.read_bytes() if path.is_file() else None
            _write_atomic(path, data)
            return (lambda: _write_atomic(path, old)) if old is not None else (lambda: path.unlink(missing_ok=True))

        return self._apply(doc_id, change)

    def delete(self, doc_id: str) -> dict[str, Any]:
        doc_id = normalize_id(doc_id)
        path = self._path_of(doc_id)
        indexed = self._indexed()
        if not path.is_file() and doc_id not in indexed:
            raise NotFound(f"unknown document {doc_id!r}")
        if indexed == {doc_id}:
            raise Conflict("cannot delete the last document: the index would be empty")

        def change() -> Undo:
            old = path.read_bytes() if path.is_file() else None
            path.unlink(missing_ok=True)
            return (lambda: _write_atomic(path, old)) if old is not None else (lambda: None)

        return self._apply(doc_id, change)

    def reindex(self) -> dict[str, Any]:
        return self._apply(None, lambda: (lambda: None))

    # ---- helpers -------------------------------------------------------------------------
    def _validated(self, doc_id: str, stream: BinaryIO) -> bytes:
        kind = doc_type(Path(doc_id))  # UnsupportedType -> 415 before reading anything
        data = self.read_upload(stream)
        try:
            load_bytes(doc_id, data, kind)  # BadDocument -> 400; nothing written yet
        except BadDocument:
            raise
        except Exception as exc:  # a loader crash on hostile input is still the upload's fault
            raise BadDocument(f"unreadable {kind} file: {type(exc).__name__}: {exc}") from exc
        return data

    def _indexed(self) -> set[str]:
        try:
            return {d["doc"] for d in self.live.get().documents}
        except Exception:  # no index yet: nothing is indexed
            return set()

    def _path_of(self, doc_id: str) -> Path:
        """The file of a document id, refusing ids that could leave the notes directory."""
        pure = PurePosixPath(doc_id)
        if (not doc_id or _has_controls(doc_id) or "\\" in doc_id or pure.is_absolute()
                or len(doc_id.encode("utf-8")) > MAX_ID_BYTES
                or any(p in ("..", ".") or p.startswith(".") or len(p.encode("utf-8")) > 255 for p in pure.parts)):
            raise InvalidInput(f"id: {doc_id[:100]!r} is not a document id")
        path = self.notes_dir / pure
        if not path.resolve().is_relative_to(self.notes_dir.resolve()):
            raise InvalidInput(f"id: {doc_id!r} is not a document id")
        return find_file(self.notes_dir, doc_id) or path  # the file may be named in NFD (macOS)

    def _apply(self, doc_id: str | None, change: Callable[[], Undo]) -> dict[str, Any]:
        """Apply ``change`` under the ingest's writer lock, then sync; undo it on failure."""
        if not self._lock.acquire(blocking=False):
            raise Conflict(BUSY)
        undo: Undo | None = None

        def prepare() -> None:
            nonlocal undo
            undo = change()

        try:
            try:
                summary = Ingestor(self.settings, progress=False).sync(prepare=prepare, target=doc_id)
            except BaseException:
                if undo is not None:
                    log.warning("re-index failed; undoing the change to %s", doc_id)
                    undo()
                raise
        finally:
            self._lock.release()
        return _summary(summary, doc_id)


def _summary(summary: IngestSummary, doc_id: str | None) -> dict[str, Any]:
    return {**summary.to_dict(), "document": doc_id}


def _write_atomic(path: Path, data: bytes) -> None:
    """Readers (and a crash) see the old file or the new one, never half of it. The temporary
    name is hidden, so an ingest scanning meanwhile skips it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
