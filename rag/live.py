"""The live snapshot of a long-running process, switched without a restart.

Each request asks for the snapshot once and keeps that object to the end, so a request in
flight finishes on the snapshot it started with while new requests see a new publish. Every
process (each uvicorn worker) follows the CURRENT file on its own.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path

from rag.snapshot import Snapshot, SnapshotStore

log = logging.getLogger(__name__)


class LiveSnapshot:
    def __init__(self, index_dir: Path) -> None:
        self.store = SnapshotStore(Path(index_dir))
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()

    def get(self) -> Snapshot:
        """The snapshot CURRENT names (or the newest good one); reloaded only when CURRENT moves."""
        snap = self._snapshot
        current = self.store.current_id()
        if snap is not None and (current == snap.id or (current in self.store.damaged)):
            return snap
        with self._lock:
            snap = self._snapshot
            if snap is not None and snap.id == self.store.current_id():
                return snap
            new = self.store.open_live(reuse=snap)
            if snap is None or new.id != snap.id:
                log.info("serving snapshot %s (%d chunks)", new.id, len(new.chunks))
            self._snapshot = new
            return new

    @property
    def damaged(self) -> dict[str, str]:
        return dict(self.store.damaged)
