"""The file-based index backend: snapshot directories under ``index_dir`` and the CURRENT file
that names the live one (written by `ingest`)."""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from rag.errors import NoIndex, SnapshotDamaged
from rag.snapshots.format import list_snapshot_ids, read_current, snapshots_dir
from rag.snapshots.snapshot import Snapshot

if TYPE_CHECKING:
    from rag.settings import Settings

log = logging.getLogger(__name__)


class SnapshotStore:
    """Finds the live snapshot, falling back to the newest good one when it is damaged."""

    def __init__(self, index_dir: Path, settings: "Settings | None" = None) -> None:
        self.index_dir = Path(index_dir)
        self.settings = settings  # what a snapshot's embedder loads with (None: the environment's)
        self._lock = threading.Lock()
        self.damaged: dict[str, str] = {}

    @classmethod
    def from_settings(cls, settings: "Settings") -> "SnapshotStore":
        return cls(settings.index_dir, settings)

    def current_id(self) -> str | None:
        return read_current(self.index_dir)

    def snapshot_ids(self) -> list[str]:
        """Complete snapshots on disk, oldest first."""
        return list_snapshot_ids(self.index_dir)

    def open_live(self, reuse: Snapshot | None = None) -> Snapshot:
        """Open CURRENT, or the newest snapshot that opens, recording the damaged ones. ``reuse``
        is returned as is when it is the one chosen, and lends its embedder otherwise. Raises
        NoIndex when there is no snapshot or none opens."""
        with self._lock:
            current = self.current_id()
            candidates = [current] if current else []
            candidates += [i for i in reversed(self.snapshot_ids()) if i != current]
            if not candidates:
                raise NoIndex(f"no snapshot in {self.index_dir}: run `rag ingest` first")
            for snap_id in candidates:
                if reuse is not None and reuse.id == snap_id:
                    return reuse
                try:
                    snap = Snapshot.open(snapshots_dir(self.index_dir) / snap_id, reuse.embedder if reuse else None,
                                         self.settings)
                except (SnapshotDamaged, FileNotFoundError) as exc:
                    self.damaged[snap_id] = str(exc)
                    log.error("snapshot %s is damaged, trying an older one: %s", snap_id, exc)
                    continue
                self.damaged.pop(snap_id, None)
                return snap
            raise NoIndex(f"every snapshot in {self.index_dir} is damaged: {self.damaged}; run `rag ingest` to repair")
