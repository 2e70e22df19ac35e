"""Integrity checks of a snapshot directory, without loading its indexes. The dense and lexical
backends check their own files (`verify`); this module knows none of their formats."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from rag.dense.registry import dense_class_for
from rag.embedders.registry import EMBEDDER_DIR, embedder_class, load_snapshot_embedder
from rag.errors import RagError, SnapshotDamaged
from rag.lexical.registry import lexical_class_for
from rag.settings import Settings
from rag.snapshots.format import CHUNKS_DB, META, read_chunks, read_meta


def check_files(path: Path, meta: dict[str, Any]) -> None:
    """Every file the meta lists is there with the size it was written with (older snapshots
    without the list are checked by the other means only)."""
    expected = meta.get("files")
    if not isinstance(expected, dict):
        return
    for rel, size in expected.items():
        try:
            actual = (path / rel).stat().st_size
        except OSError:
            raise SnapshotDamaged(f"snapshot {path.name}: {rel} is missing") from None
        if actual != size:
            raise SnapshotDamaged(f"snapshot {path.name}: {rel} is {actual} bytes but {size} were written "
                                  "(truncated or overwritten)")


def verify_snapshot(path: Path, settings: Settings | None = None) -> dict[str, Any]:
    """A quick integrity check: meta, file sizes, chunk table and index files agree, and the
    embedder the snapshot carries (a fitted one) loads (with ``settings``, default: from the
    environment). Returns the meta. Any damage is a SnapshotDamaged, so a writer treats the
    snapshot as absent and rebuilds."""
    meta = read_meta(path)
    check_files(path, meta)
    chunks, _ = read_chunks(path / CHUNKS_DB)
    try:
        n = int(meta.get("chunks", -1))
    except (TypeError, ValueError) as exc:
        raise SnapshotDamaged(f"snapshot {path.name}: {META} lacks the chunk count ({exc})") from exc
    if len(chunks) != n:
        raise SnapshotDamaged(f"snapshot {path.name}: {len(chunks)} chunks in the table, meta says {n}")
    dense_class_for(meta).verify(path, meta)
    lexical_class_for(meta).verify(path, meta)
    check_stored_embedder(path, meta, settings or Settings())
    return meta


def check_stored_embedder(path: Path, meta: dict[str, Any], settings: Settings) -> None:
    """An embedder stored in the snapshot (the fitted LSA) must load (a few ms): one that does not,
    garbled or of an older format, would leave readers with nothing to embed questions with, so
    it is damage that the next ingest repairs. A pretrained model is not part of the snapshot; it
    is checked when it loads. An unknown kind is damage too."""
    try:
        cls = embedder_class(meta["embedder"].get("kind"))
    except RagError as exc:
        raise SnapshotDamaged(f"snapshot {path.name}: {exc.message}") from exc
    if not cls.stored_in_snapshot:
        return
    try:
        load_snapshot_embedder(meta, path, settings)
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        raise SnapshotDamaged(f"snapshot {path.name}: {EMBEDDER_DIR}/ is unreadable ({reason})") from exc
