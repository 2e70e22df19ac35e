"""The live snapshot of a long-running process, switched without a restart.

Each request asks for the snapshot once and keeps that object to the end, so a request in
flight finishes on the snapshot it started with while new requests see a new publish. Every
process (each uvicorn worker) follows the CURRENT file on its own.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from rag.errors import NoIndex
from rag.snapshots.backends import SnapshotSource, snapshot_source
from rag.snapshots.snapshot import Snapshot

if TYPE_CHECKING:
    from rag.settings import Settings

log = logging.getLogger(__name__)

RETRY_SECONDS = 5.0  # with no usable snapshot, how often a request may try opening them again


class LiveSnapshot:
    """``get()`` -> the live Snapshot of ``store`` (any `SnapshotSource`: the file store, or
    another index backend), switched when its current id moves."""

    def __init__(self, store: SnapshotSource) -> None:
        self.store = store
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()
        # (CURRENT, snapshot ids, when, the error) of the last attempt that found nothing usable
        self._failed: tuple[str | None, list[str], float, NoIndex] | None = None

    @classmethod
    def from_settings(cls, settings: "Settings") -> "LiveSnapshot":
        """Following the index backend ``settings.index_backend`` names (RAG_INDEX_BACKEND)."""
        return cls(snapshot_source(settings))

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
            new = self._open(snap)
            if snap is None or new.id != snap.id:
                log.info("serving snapshot %s (%d chunks)", new.id, len(new.chunks))
            self._snapshot = new
            return new

    def _open(self, snap: Snapshot | None) -> Snapshot:
        """Open the live snapshot; when none is usable, say so again at once (no re-reading of
        every snapshot on every request) until CURRENT or the snapshots change, or a few seconds pass."""
        key = (self.store.current_id(), self.store.snapshot_ids())
        failed = self._failed
        if failed is not None and failed[:2] == key and time.monotonic() - failed[2] < RETRY_SECONDS:
            raise failed[3]
        try:
            new = self.store.open_live(reuse=snap)
        except NoIndex as exc:
            self._failed = (*key, time.monotonic(), exc)
            raise
        self._failed = None
        return new

    @property
    def damaged(self) -> dict[str, str]:
        """Snapshots that failed to open, with the reason, while they are still on disk (a
        pruned one is no longer a concern; a repaired index publishes under a new id)."""
        present = set(self.store.snapshot_ids())
        return {k: v for k, v in list(self.store.damaged.items()) if k in present}
