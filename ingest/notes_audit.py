"""Does the notes directory match the live snapshot? What differs, by document id.

A difference means someone changed the notes directory by hand, or a writer that predates
staged writes died half-way; ``rag ingest`` brings the index in line with the directory. The
service checks at start-up and whenever the live snapshot changes, and reports it in
``/health`` (``notes``) and the log. Files are hashed once per (size, mtime), so a check after
a publish costs a directory scan.
"""
from __future__ import annotations

import hashlib
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ingest.loaders import SUPPORTED
from ingest.pipeline import scan

FIX = "run `rag ingest` to re-sync the index with the notes directory"


@dataclass
class NotesDrift:
    not_indexed: list[str] = field(default_factory=list)  # a file the live snapshot does not have
    changed: list[str] = field(default_factory=list)  # a file whose bytes differ from the indexed version
    missing: list[str] = field(default_factory=list)  # indexed, but no file any more

    @property
    def in_sync(self) -> bool:
        return not (self.not_indexed or self.changed or self.missing)

    def to_dict(self) -> dict[str, Any]:
        return {"in_sync": self.in_sync, **asdict(self), "fix": None if self.in_sync else FIX}

    def line(self) -> str:
        parts = [f"{len(v)} {k.replace('_', ' ')} ({', '.join(v[:5])}{', ...' if len(v) > 5 else ''})"
                 for k, v in asdict(self).items() if v]
        return "notes directory and live snapshot differ: " + "; ".join(parts) + f"; {FIX}"


class NotesAudit:
    def __init__(self, notes_dir: Path) -> None:
        self.notes_dir = Path(notes_dir)
        self._hashes: dict[str, tuple[int, int, str]] = {}  # doc id -> (size, mtime_ns, sha256)
        self._lock = threading.Lock()

    def _hash(self, doc: str, path: Path) -> str | None:
        try:
            st = path.stat()
            cached = self._hashes.get(doc)
            if cached and cached[:2] == (st.st_size, st.st_mtime_ns):
                return cached[2]
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            return None
        self._hashes[doc] = (st.st_size, st.st_mtime_ns, digest)
        return digest

    def check(self, live: dict[str, str]) -> NotesDrift:
        """Compare the supported files of the notes directory with ``live`` (id -> SHA-256)."""
        with self._lock:
            drift = NotesDrift()
            files = {}
            if self.notes_dir.is_dir():
                files = {p.relative_to(self.notes_dir).as_posix(): p for p in scan(self.notes_dir)
                         if p.suffix.lower() in SUPPORTED}
            for doc, path in files.items():
                if doc not in live:
                    drift.not_indexed.append(doc)
                elif self._hash(doc, path) != live[doc]:
                    drift.changed.append(doc)
            drift.missing = sorted(set(live) - set(files))
            self._hashes = {k: v for k, v in self._hashes.items() if k in files}
            return drift
