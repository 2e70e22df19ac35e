"""One writer at a time, across processes: an exclusive, non-blocking file lock."""
from __future__ import annotations

import fcntl
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from rag.errors import Conflict

LOCK_FILE = ".ingest.lock"
_held = threading.local()  # per thread: resolved index dirs whose lock this thread holds


@contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    """Held for a whole ingest; a second writer gets Conflict at once instead of waiting.

    Re-entrant within one thread, so a writer can hold it across an ingest and what must
    follow that ingest's publish (the document service moves staged files in under it); other
    threads and processes still get Conflict. The kernel drops the lock when its process dies,
    so a killed ingest never leaves it stuck.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    key = str(index_dir.resolve())
    held: set[str] = getattr(_held, "dirs", None) or set()
    _held.dirs = held
    if key in held:
        yield
        return
    fd = os.open(index_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Conflict("another ingest is running; try again when it has finished") from None
        held.add(key)
        try:
            yield
        finally:
            held.discard(key)
    finally:
        os.close(fd)
