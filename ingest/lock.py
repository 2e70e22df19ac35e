"""One writer at a time, across processes: an exclusive, non-blocking file lock."""
from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from rag.errors import Conflict

LOCK_FILE = ".ingest.lock"


@contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    """Held for a whole ingest; a second writer gets Conflict at once instead of waiting.

    The kernel drops the lock when its process dies, so a killed ingest never leaves it stuck.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(index_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Conflict("another ingest is running; try again when it has finished") from None
        yield
    finally:
        os.close(fd)
