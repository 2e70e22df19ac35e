"""Maintainers' document service: list, upload, replace, delete, re-index.

Every write follows one rule: validate everything first (name, type, size, content), then,
holding the ingest's writer lock, stage the change outside the notes directory, ingest the
notes directory as it will be, and move the change in only once the snapshot that contains it
is published (``ingest.staging``). The notes directory and the live snapshot agree after a
failure, and after a crash once the next start-up (or write) has settled what was staged.
One write at a time: a second one gets ``Conflict`` (409) at once, whether it comes from this
process (a thread lock) or another (the ingest's file lock).
"""
from __future__ import annotations

import logging
import re
import threading
import unicodedata
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Callable, Iterator

from ingest import staging
from ingest.loaders import doc_type, find_file, load_bytes
from ingest.lock import writer_lock
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
        self.index_dir = Path(settings.index_dir)
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

        def check(live: dict[str, str]) -> None:
            if path.exists() or find_file(self.notes_dir, doc_id) or doc_id in live:
                raise Conflict(f"document {doc_id!r} already exists; use PUT /documents/{doc_id} to replace it")

        return self._write("put", doc_id, data, check)

    def replace(self, doc_id: str, stream: BinaryIO) -> dict[str, Any]:
        doc_id = normalize_id(doc_id)
        path = self._path_of(doc_id)
        if not path.is_file() and doc_id not in self._indexed():
            raise NotFound(f"unknown document {doc_id!r}; use POST /documents to add it")
        data = self._validated(doc_id, stream)

        def check(live: dict[str, str]) -> None:
            if not path.is_file() and doc_id not in live:
                raise NotFound(f"unknown document {doc_id!r}; use POST /documents to add it")

        return self._write("put", doc_id, data, check)

    def delete(self, doc_id: str) -> dict[str, Any]:
        doc_id = normalize_id(doc_id)
        path = self._path_of(doc_id)

        def check(live: dict[str, str]) -> None:
            if not path.is_file() and doc_id not in live:
                raise NotFound(f"unknown document {doc_id!r}")
            if set(live) == {doc_id}:
                raise Conflict("cannot delete the last document: the index would be empty")

        check(self._indexed_hashes())
        return self._write("delete", doc_id, None, check)

    def reindex(self) -> dict[str, Any]:
        with self._writing():
            summary = Ingestor(self.settings, progress=False).sync(self.notes_dir)
        return _summary(summary, None)

    def recover(self) -> list[dict[str, Any]]:
        """Settle the writes a killed server left staged (see ``ingest.staging``): finished when
        their snapshot was published, dropped otherwise. Skipped while another writer runs."""
        try:
            with writer_lock(self.index_dir):
                return staging.recover(self.index_dir, self.notes_dir)
        except Conflict:
            log.info("another writer is running: staged writes are left to it")
            return []

    # ---- the write protocol ----------------------------------------------------------------
    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One write per process (thread lock) and across processes (the ingest's writer lock,
        held to the end, so nobody ingests between our publish and our moving the files in);
        first, whatever a killed writer left is settled."""
        if not self._lock.acquire(blocking=False):
            raise Conflict(BUSY)
        try:
            with writer_lock(self.index_dir):
                staging.recover(self.index_dir, self.notes_dir)
                yield
        finally:
            self._lock.release()

    def _write(self, op: staging.Op, doc_id: str, data: bytes | None,
               check: Callable[[dict[str, str]], None]) -> dict[str, Any]:
        """Stage the change outside the notes dir, ingest the notes dir as it will be, and move
        the change in only once the snapshot with it is live. A failure (or a crash) before
        that leaves the notes dir and the live snapshot as they were."""
        with self._writing():
            check(staging.live_documents(self.index_dir))
            staged = staging.StagedWrite.stage(self.index_dir, op, doc_id, data)
            try:
                # ``target``: the written document's own failure (a duplicate: 409, no chunk: 400) is
                # raised before anything is published.
                summary = Ingestor(self.settings, progress=False).sync(staged.view(self.notes_dir),
                                                                      target=doc_id if op == "put" else None)
                failure = next((f for f in summary.failed if f.get("path") == doc_id), None)
                if failure is not None:
                    if summary.published:  # published without the document: put the old state back
                        log.warning("%s failed in the ingest (%s); re-publishing the notes dir", doc_id, failure["error"])
                        Ingestor(self.settings, progress=False).sync(self.notes_dir)
                    raise BadDocument(f"{doc_id}: {failure['error']}")
            finally:
                staged.settle(self.notes_dir, staging.live_documents(self.index_dir))
        return _summary(summary, doc_id)

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
        return set(self._indexed_hashes())

    def _indexed_hashes(self) -> dict[str, str]:
        return staging.live_documents(self.index_dir)

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


def _summary(summary: IngestSummary, doc_id: str | None) -> dict[str, Any]:
    return {**summary.to_dict(), "document": doc_id}
