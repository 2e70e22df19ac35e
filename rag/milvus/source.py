"""`SnapshotSource` for Milvus: follows the ``<prefix>_live`` alias and opens the collection it
names as a `Snapshot` whose indexes, chunks and sentences are read from the engine, so an API
worker on any host needs no local index files. A damaged or missing collection falls back to
the newest older one that opens (as the file store falls back to an older snapshot), else NoIndex
(HTTP 503 with the reason)."""
from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
import uuid
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.embedders.base import Embedder
from rag.embedders.registry import EMBEDDER_DIR, embedder_class, load_snapshot_embedder
from rag.errors import IndexUnavailable, NoIndex, RagError, SnapshotDamaged
from rag.milvus import engine
from rag.milvus.indexes import MilvusChunks, MilvusDenseIndex, MilvusLexicalIndex, MilvusSentenceTable, RowCache
from rag.snapshots.format import FORMAT_VERSION
from rag.snapshots.snapshot import Snapshot

if TYPE_CHECKING:
    from pymilvus import MilvusClient

    from rag.settings import Settings

log = logging.getLogger(__name__)

ALIAS_TTL_SECONDS = 1.0  # how long a worker trusts its last look at the alias (one round trip saved per request)


def open_collection(client: "MilvusClient", collection: str, snapshot_id: str,
                    embedder: Embedder | None = None, settings: "Settings | None" = None) -> Snapshot:
    """The snapshot a chunks collection holds. Raises SnapshotDamaged when a part is missing,
    unreadable or disagrees with the meta (row count, dimension, format)."""
    from pymilvus.exceptions import MilvusException

    try:
        return _open(client, collection, snapshot_id, embedder, settings)
    except RagError:
        raise
    except (MilvusException, KeyError, ValueError, TypeError) as exc:
        reason = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        raise SnapshotDamaged(f"snapshot {snapshot_id} (collection {collection}) is unreadable ({reason})") from exc


def _open(client: "MilvusClient", collection: str, snapshot_id: str, embedder: Embedder | None,
          settings: "Settings | None") -> Snapshot:
    blobs = collection + engine.META_SUFFIX
    for name in (collection, blobs):
        if not client.has_collection(name):
            raise SnapshotDamaged(f"snapshot {snapshot_id}: collection {name} is missing")
        client.load_collection(name)  # a restarted engine has them released; a no-op when loaded
    try:
        meta: dict[str, Any] = engine.read_json(client, blobs, "meta")
    except KeyError:
        raise SnapshotDamaged(f"snapshot {snapshot_id}: its meta was never written (an unfinished publish)") from None
    if meta.get("format") != FORMAT_VERSION:
        raise SnapshotDamaged(f"snapshot {snapshot_id}: format {meta.get('format')} is not {FORMAT_VERSION} "
                              "(built by another version: run `rag ingest` to rebuild)")
    n, dim = int(meta["chunks"]), int(meta["embedder"]["dim"])
    rows = int(client.query(collection, filter="", output_fields=["count(*)"])[0]["count(*)"])
    if rows != n:
        raise SnapshotDamaged(f"snapshot {snapshot_id}: {rows} rows in {collection}, its meta says {n}")
    documents = engine.read_json(client, blobs, "documents")
    terms = engine.read_json(client, blobs, "terms")
    # where a fitted embedder's files are unpacked; created only for one (an e5 or
    # sentence-transformers snapshot leaves nothing on the worker's disk)
    path = Path(tempfile.gettempdir()) / f"rag-milvus-{snapshot_id}-{uuid.uuid4().hex[:8]}"
    try:
        embedder = _embedder(client, blobs, meta, path, embedder, settings)
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise
    if embedder.dim != dim:
        raise SnapshotDamaged(f"snapshot {snapshot_id}: index dim {dim} != embedder dim {embedder.dim}")
    cache = RowCache(client, collection)
    snap = Snapshot(snapshot_id, path, meta, MilvusChunks(cache, n), documents,  # type: ignore[arg-type]
                    MilvusDenseIndex(cache, dim, n), MilvusLexicalIndex(cache, terms["tokens"], terms["df"], n),
                    embedder, MilvusSentenceTable(cache))  # type: ignore[arg-type]
    weakref.finalize(snap, shutil.rmtree, path, True)
    return snap


def _embedder(client: "MilvusClient", blobs: str, meta: dict[str, Any], path: Path, embedder: Embedder | None,
              settings: "Settings | None") -> Embedder:
    """The snapshot's embedder: ``embedder`` when it is the same one, else loaded (a fitted one
    from the files stored with the snapshot, unpacked under ``path``)."""
    if embedder is not None and embedder.id == meta["embedder"]["id"]:
        return embedder
    try:
        if embedder_class(meta["embedder"].get("kind")).stored_in_snapshot:
            path.mkdir(mode=0o700)
            for key, data in engine.read_blobs(client, blobs, EMBEDDER_DIR + "/").items():
                target = path / key
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        return load_snapshot_embedder(meta, path, settings)
    except RagError:
        raise
    except Exception as exc:
        raise SnapshotDamaged(f"snapshot {meta.get('id')}: embedder is unreadable ({type(exc).__name__}: {exc})") from exc


class MilvusSnapshotSource(engine.EngineClient):
    """The live snapshot is the collection ``<prefix>_live`` names (see `rag.milvus.engine`)."""

    def __init__(self, settings: "Settings") -> None:
        super().__init__(settings)
        self.damaged: dict[str, str] = {}
        self._lock = threading.Lock()
        self._alias: tuple[float, str | None] | None = None

    def current_id(self) -> str | None:
        """The snapshot the alias names (None before the first publish); looked up at most once
        a second. Raises IndexUnavailable when the engine does not answer."""
        seen = self._alias
        if seen is not None and time.monotonic() - seen[0] < ALIAS_TTL_SECONDS:
            return seen[1]
        current = self._current_collection()
        snap_id = engine.snapshot_id_of(self.prefix, current) if current else None
        self._alias = (time.monotonic(), snap_id)
        return snap_id

    def _current_collection(self) -> str | None:
        from pymilvus.exceptions import MilvusException

        try:
            return str(self.client.describe_alias(engine.alias_name(self.prefix))["collection_name"])
        except MilvusException as exc:
            if "does not exist" in exc.message or "not found" in exc.message:
                return None
            self._client = None  # reconnect next time
            raise IndexUnavailable(f"Milvus at {self.settings.milvus_uri} did not answer ({exc.message})") from exc

    def snapshot_ids(self) -> list[str]:
        """Snapshots with a chunks collection, oldest first (ids sort by creation time)."""
        names = self.client.list_collections()
        return sorted(i for i in (engine.snapshot_id_of(self.prefix, n) for n in names) if i)

    def open_live(self, reuse: Snapshot | None = None) -> Snapshot:
        """The alias's snapshot, or the newest older one that opens, recording damaged ones."""
        with self._lock:
            self._alias = None
            current = self.current_id()
            ids = self.snapshot_ids()
            older = [i for i in reversed(ids) if current is None or i < current]
            candidates = ([current] if current else []) + older
            if not candidates:
                raise NoIndex(f"no snapshot in Milvus at {self.settings.milvus_uri} (alias "
                              f"{engine.alias_name(self.prefix)}): run `rag ingest` first")
            for snap_id in candidates:
                if reuse is not None and reuse.id == snap_id:
                    return reuse
                try:
                    snap = open_collection(self.client, engine.collection_name(self.prefix, snap_id), snap_id,
                                           reuse.embedder if reuse else None, self.settings)
                except SnapshotDamaged as exc:
                    self.damaged[snap_id] = str(exc)
                    log.error("snapshot %s is damaged, trying an older one: %s", snap_id, exc)
                    continue
                self.damaged.pop(snap_id, None)
                return snap
            raise NoIndex(f"every snapshot in Milvus at {self.settings.milvus_uri} is damaged: {self.damaged}; "
                          "run `rag ingest` to repair")
