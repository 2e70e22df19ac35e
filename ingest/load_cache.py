"""Loaded documents and their chunk boundaries, cached by the file's content hash, so a write
parses and splits only what changed.

A 20,000-page PDF takes minutes to parse; without this cache every later write (an upload, a
delete, a re-index) parsed it again while holding the writer lock. The cache lives in the index
folder's ``cache.sqlite``: table ``loaded`` keyed by (loader fingerprint, SHA-256 of the file's
bytes, type), table ``split`` keyed by a hash of (fingerprint, file hash, boilerplate spans,
chunking parameters). The fingerprint covers the ingest package's source and the parsers'
versions, so a change to any loader or splitter recomputes once instead of serving stale text.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import sqlite3
import unicodedata
import zlib
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any


from rag.types import Chunk

from ingest.loaders import DEFAULT_CHUNK_CHARS, Heading, LoadedDocument, Page, doc_type, load_bytes, read_file

log = logging.getLogger(__name__)
PARSERS = ("pypdf", "beautifulsoup4", "charset-normalizer", "markdown-it-py", "python-docx", "python-pptx", "python-hwpx")
SCHEMA = ("CREATE TABLE IF NOT EXISTS loaded (fingerprint TEXT, hash TEXT, type TEXT, doc BLOB, PRIMARY KEY (fingerprint, hash, type));"
          "CREATE TABLE IF NOT EXISTS split (key TEXT PRIMARY KEY, hash TEXT, chunks BLOB)")


@lru_cache(maxsize=1)
def loader_fingerprint() -> str:
    """SHA-256 over the ingest package's sources and the parser libraries' versions."""
    h = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        h.update(path.relative_to(package).as_posix().encode())
        h.update(path.read_bytes())
    for name in PARSERS:
        try:
            h.update(f"{name}={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{name}=-".encode())
    return h.hexdigest()[:16]


def text_key(text: str) -> str:
    """SHA-256 of a document's text as loaded, NFC-normalised with all whitespace runs folded to
    one space: two files with this key hold the same note (line endings and spacing aside)."""
    folded = " ".join(unicodedata.normalize("NFC", text).split())
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


def _encode(doc: LoadedDocument) -> bytes:
    fields = {k: v for k, v in dataclasses.asdict(doc).items() if k not in ("doc_id", "hash", "size")}
    return zlib.compress(json.dumps(fields, ensure_ascii=False).encode("utf-8"), 1)


def _decode(blob: bytes, doc_id: str, digest: str, size: int) -> LoadedDocument:
    fields: dict[str, Any] = json.loads(zlib.decompress(blob))
    fields["pages"] = tuple(Page(**p) for p in fields["pages"])
    if fields.get("headings") is not None:
        fields["headings"] = tuple(Heading(**h) for h in fields["headings"])
    fields["structure"] = tuple(Heading(**h) for h in fields.get("structure", ()))
    for name in ("breaks", "warnings"):
        if name in fields:
            fields[name] = tuple(fields[name])
    return LoadedDocument(doc_id=doc_id, hash=digest, size=size, **fields)


class LoadCache:
    """``load(path, doc_id)``: a :class:`LoadedDocument`, parsed only when its bytes are new.

    Raises what :func:`ingest.loaders.load_bytes` raises (``BadDocument``, ``UnsupportedType``);
    failures are not cached, so a file that failed is tried again on the next write. A damaged
    or locked cache only costs parsing: it is then bypassed, never an ingest failure.
    """

    def __init__(self, path: Path, chunk_chars: int = DEFAULT_CHUNK_CHARS) -> None:
        self.path = path
        self.chunk_chars = chunk_chars  # the loader lays long Markdown tables out for this chunk size
        self.hits = self.misses = 0
        self.con: sqlite3.Connection | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.con = sqlite3.connect(path, timeout=30)
            self.con.executescript(SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            log.warning("document cache %s unusable (%s): parsing every file", path, exc)
            self.con = None

    def load(self, path: Path, doc_id: str) -> LoadedDocument:
        kind = doc_type(path)
        return self.load_bytes(doc_id, read_file(path), kind)

    def load_bytes(self, doc_id: str, data: bytes, kind: str) -> LoadedDocument:
        digest = hashlib.sha256(data).hexdigest()
        key = (loader_fingerprint(), digest, f"{kind}:{self.chunk_chars}")
        cached = self._get(key)
        if cached is not None:
            try:
                doc = _decode(cached, doc_id, digest, len(data))
                self.hits += 1
                return doc
            except Exception as exc:  # written by an older shape of LoadedDocument: parse again
                log.debug("cached %s unreadable (%s): parsing it", doc_id, exc)
        self.misses += 1
        doc = load_bytes(doc_id, data, kind, chunk_chars=self.chunk_chars)
        self._put(key, doc)
        return doc

    def _get(self, key: tuple[str, str, str]) -> bytes | None:
        if self.con is None:
            return None
        try:
            row = self.con.execute("SELECT doc FROM loaded WHERE fingerprint = ? AND hash = ? AND type = ?", key).fetchone()
        except sqlite3.Error as exc:
            log.warning("document cache read failed (%s): parsing", exc)
            return None
        return row[0] if row else None

    def _put(self, key: tuple[str, str, str], doc: LoadedDocument) -> None:
        if self.con is None:
            return
        try:
            with self.con:
                self.con.execute("INSERT OR REPLACE INTO loaded VALUES (?, ?, ?, ?)", (*key, _encode(doc)))
        except sqlite3.Error as exc:  # a full disk here only costs a re-parse next time
            log.warning("document cache write failed (%s)", exc)

    @staticmethod
    def split_key(doc: LoadedDocument, spans: list[tuple[int, int]], params: tuple[Any, ...]) -> str:
        """What a document's chunks depend on: its bytes, the loaders/splitter code, the
        boilerplate spans (which depend on the rest of the corpus) and the chunking parameters."""
        raw = json.dumps([loader_fingerprint(), doc.hash, doc.type, spans, list(params)])
        return hashlib.sha256(raw.encode()).hexdigest()

    def get_split(self, key: str, doc: LoadedDocument) -> list[Chunk] | None:
        """The cached chunks of ``doc`` under ``key`` (texts sliced from ``doc.text``), or None."""
        if self.con is None:
            return None
        try:
            row = self.con.execute("SELECT chunks FROM split WHERE key = ?", (key,)).fetchone()
            if row is None:
                return None
            return [Chunk(doc.doc_id, a, b, doc.text[a:b], section, page)
                    for a, b, section, page in json.loads(zlib.decompress(row[0]))]
        except (sqlite3.Error, ValueError, TypeError, zlib.error) as exc:
            log.debug("cached chunks of %s unreadable (%s): splitting it", doc.doc_id, exc)
            return None

    def put_split(self, key: str, doc: LoadedDocument, chunks: list[Chunk]) -> None:
        if self.con is None:
            return
        rows = [(c.start, c.end, c.section, c.page) for c in chunks]
        try:
            with self.con:
                self.con.execute("INSERT OR REPLACE INTO split VALUES (?, ?, ?)",
                                 (key, doc.hash, zlib.compress(json.dumps(rows, ensure_ascii=False).encode(), 1)))
        except sqlite3.Error as exc:
            log.warning("chunk cache write failed (%s)", exc)

    def prune(self, keep: set[str], used_splits: set[str] | None = None) -> None:
        """Forget documents of files whose hash is not in ``keep`` or of a stale fingerprint, and
        chunk lists whose key is not in ``used_splits`` (when given) or whose file is gone."""
        if self.con is None:
            return
        try:
            with self.con:
                rows = self.con.execute("SELECT fingerprint, hash FROM loaded").fetchall()
                stale = [(f, h) for f, h in rows if f != loader_fingerprint() or h not in keep]
                self.con.executemany("DELETE FROM loaded WHERE fingerprint = ? AND hash = ?", stale)
                gone = [(k,) for k, h in self.con.execute("SELECT key, hash FROM split")
                        if h not in keep or (used_splits is not None and k not in used_splits)]
                self.con.executemany("DELETE FROM split WHERE key = ?", gone)
        except sqlite3.Error as exc:
            log.warning("document cache prune failed (%s)", exc)

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
