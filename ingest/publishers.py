"""Where a written snapshot is published besides the local CURRENT file: one entry per index
backend whose readers do not read the ingest host's files (``RAG_INDEX_BACKEND``).

The file backend ("faiss") has none: its readers follow CURRENT. Adding an engine is a module
with a publisher (``from_settings``, ``live_id``, ``publish(snapshot_dir)``, ``prune(keep)``)
and one line in PUBLISHERS.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol

from ingest.milvus_publisher import MilvusPublisher

if TYPE_CHECKING:
    from rag.settings import Settings


class Publisher(Protocol):
    name: str

    @classmethod
    def from_settings(cls, settings: "Settings") -> "Publisher": ...

    def live_id(self) -> str | None:
        """The snapshot the engine serves now (None before the first publish)."""
        ...

    def publish(self, snapshot_dir: Path, progress: Callable[[int], None] | None = None) -> None:
        """Copy a written snapshot into the engine and make it live there atomically."""
        ...

    def prune(self, keep: int) -> list[str]:
        """Remove all but the newest ``keep`` snapshots (never the live one)."""
        ...


PUBLISHERS: dict[str, type[Publisher]] = {
    MilvusPublisher.name: MilvusPublisher,
}


def index_publisher(settings: "Settings") -> Publisher | None:
    """The publisher of ``settings.index_backend``, or None when readers follow CURRENT."""
    cls = PUBLISHERS.get(settings.index_backend)
    return cls.from_settings(settings) if cls else None
