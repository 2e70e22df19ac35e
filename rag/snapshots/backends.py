"""The index-backend seam: where a long-running process finds its snapshots.

``RAG_INDEX_BACKEND`` picks an entry of INDEX_BACKENDS; `rag.live.LiveSnapshot` follows the
source it builds. Adding a backend is a module with a `SnapshotSource` class and one line here.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from rag.errors import InvalidInput
from rag.snapshots.snapshot import Snapshot
from rag.snapshots.store import SnapshotStore
from rag.milvus.source import MilvusSnapshotSource

if TYPE_CHECKING:
    from rag.settings import Settings


class SnapshotSource(Protocol):
    """What `LiveSnapshot` needs of a backend: which snapshot is live, which exist, opening the
    live one, and the ones that failed to open (id -> reason)."""

    damaged: dict[str, str]

    @classmethod
    def from_settings(cls, settings: "Settings") -> "SnapshotSource": ...

    def current_id(self) -> str | None:
        """The id of the published snapshot, or None before the first publish."""
        ...

    def snapshot_ids(self) -> list[str]:
        """Ids of the complete snapshots, oldest first."""
        ...

    def open_live(self, reuse: Snapshot | None = None) -> Snapshot:
        """The live snapshot (or the newest good one); ``reuse`` when it is still the one. Raises NoIndex."""
        ...


INDEX_BACKENDS: dict[str, type[SnapshotSource]] = {
    "faiss": SnapshotStore,
    "milvus": MilvusSnapshotSource,
}


def snapshot_source(settings: "Settings") -> SnapshotSource:
    """The source ``settings.index_backend`` names; an unknown name is InvalidInput."""
    try:
        cls = INDEX_BACKENDS[settings.index_backend]
    except KeyError:
        raise InvalidInput(f"unknown RAG_INDEX_BACKEND {settings.index_backend!r} "
                           f"(known: {', '.join(INDEX_BACKENDS)})") from None
    return cls.from_settings(settings)
