"""The embedder registry: a snapshot's ``embedder.kind`` names the class that brings it back.

Adding an embedder is a module with an `Embedder` subclass and one line in KINDS.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from rag.embedders.base import Embedder
from rag.embedders.e5 import BuiltE5Embedder
from rag.embedders.e5_onnx import OnnxE5Embedder
from rag.embedders.offline import OfflineEmbedder
from rag.embedders.sentence_transformer import SentenceTransformerEmbedder
from rag.errors import ModelUnavailable
from rag.settings import Settings

KINDS: dict[str, type[Embedder]] = {
    OfflineEmbedder.kind: OfflineEmbedder,
    SentenceTransformerEmbedder.kind: SentenceTransformerEmbedder,
    BuiltE5Embedder.kind: BuiltE5Embedder,
    OnnxE5Embedder.kind: OnnxE5Embedder,
}
EMBEDDER_DIR = "embedder"


def embedder_class(kind: object) -> type[Embedder]:
    try:
        return KINDS[str(kind)]
    except KeyError:
        raise ModelUnavailable(f"unknown embedder kind {kind!r} (known: {', '.join(KINDS)})") from None


def load_snapshot_embedder(meta: dict[str, Any], snapshot_dir: Path, settings: Settings) -> Embedder:
    """The embedder that built a snapshot, and no other: same kind, same id, same dimension.
    Raises ModelUnavailable (re-ingest to re-embed with what is available)."""
    info = meta["embedder"]
    cls = embedder_class(info.get("kind"))
    embedder = cls.from_snapshot(info, snapshot_dir / EMBEDDER_DIR, settings)
    if embedder.id != info["id"] or embedder.dim != int(info["dim"]):
        raise ModelUnavailable(
            f"snapshot was built with {info['id']} (dim {info['dim']}) but {embedder.id} "
            f"(dim {embedder.dim}) loaded; re-run `rag ingest` to re-embed"
        )
    return embedder
