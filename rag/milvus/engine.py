"""Connecting to Milvus, and how a snapshot is laid out in it (shared by the reader in `rag` and
the publisher in `ingest`).

    <prefix>_live                  alias -> the chunks collection of the live snapshot
    <prefix>_s<snapshot id>        chunks: id (= chunk id), dense, sparse, chunk fields, sentences
    <prefix>_s<snapshot id>_meta   blobs: the snapshot's meta.json, documents (each with its heading table), term statistics
                                   and the files of an embedder stored in the snapshot

Milvus requires a vector field in every collection, so the blob collection carries a 2-d one
that nothing searches. Blobs are zlib-compressed JSON (or file bytes) in base64, cut into parts
under Milvus's 65,535-byte VARCHAR limit.
"""
from __future__ import annotations

import base64
import json
import logging
import re
import zlib
from typing import TYPE_CHECKING, Any

from rag.errors import IndexUnavailable

if TYPE_CHECKING:
    from typing import Self

    from pymilvus import MilvusClient

    from rag.settings import Settings

META_SUFFIX = "_meta"
LIVE_SUFFIX = "_live"
PART_CHARS = 60_000  # base64 characters per blob row (ASCII: characters = bytes)
TEXT_MAX = 65_535  # Milvus's VARCHAR limit, in bytes
BLOB_DIM = 2
# pymilvus pings an idle channel every 10 s; a gRPC server with default settings (milvus-lite's)
# answers pings more frequent than every 5 minutes without calls with GOAWAY "too_many_pings",
# and the channel fails. Idle workers send no pings; busy ones ping at most every 5 minutes.
GRPC_OPTIONS = {"grpc.keepalive_time_ms": 300_000, "grpc.keepalive_permit_without_calls": False}



def is_server_uri(uri: str) -> bool:
    return bool(re.match(r"^(https?|tcp|grpc)://", uri))


def connect(settings: "Settings") -> "MilvusClient":
    """A client for ``settings.milvus_uri``. Raises IndexUnavailable (HTTP 503, a CLI message)
    when the server does not answer or a Milvus Lite file is already open in another process."""
    from pymilvus import MilvusClient
    from pymilvus.exceptions import MilvusException

    # pymilvus logs every failed call at ERROR with a traceback before raising it (its logging set-up
    # runs on import); we raise a clear error of our own instead, and a missing alias before the
    # first publish is no error at all.
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    uri = settings.milvus_uri
    try:
        client = MilvusClient(uri=uri, token=settings.milvus_token or "", timeout=settings.milvus_timeout_s,
                              grpc_options=GRPC_OPTIONS if is_server_uri(uri) else {})
        client.list_aliases()  # a cheap round trip: fail here, not in the middle of a request
        return client
    except MilvusException as exc:
        if not is_server_uri(uri):
            raise IndexUnavailable(
                f"RAG_MILVUS_URI={uri} is a Milvus Lite file, which only one process may open, and another "
                f"process has it open ({exc.message}). For several processes (API workers and `rag ingest`) "
                f"run `milvus-lite server --data-dir DIR --port 19530` and set RAG_MILVUS_URI=http://127.0.0.1:19530"
            ) from exc
        raise IndexUnavailable(f"Milvus at {uri} is not reachable or refused the connection ({exc.message})") from exc


class EngineClient:
    """Base of what talks to the engine for one index: its settings, its collection prefix and one
    client, connected on first use (``connect``'s errors are raised then, not at construction)."""

    def __init__(self, settings: "Settings") -> None:
        self.settings = settings
        self.prefix = settings.milvus_prefix
        self._client: "MilvusClient | None" = None

    @classmethod
    def from_settings(cls, settings: "Settings") -> "Self":
        return cls(settings)

    @property
    def client(self) -> "MilvusClient":
        if self._client is None:
            self._client = connect(self.settings)
        return self._client


def collection_name(prefix: str, snapshot_id: str) -> str:
    """Milvus names allow letters, digits and underscores: '-' in a snapshot id becomes '_'."""
    return f"{prefix}_s{snapshot_id.replace('-', '_')}"


def snapshot_id_of(prefix: str, name: str) -> str | None:
    """The snapshot id a chunks collection holds (None for any other collection)."""
    head = f"{prefix}_s"
    if not name.startswith(head) or name.endswith(META_SUFFIX):
        return None
    stem = name[len(head):]
    base, sep, tail = stem.rpartition("_")
    return f"{base}-{tail}" if sep else stem


def alias_name(prefix: str) -> str:
    return prefix + LIVE_SUFFIX


def encode_blob(data: bytes) -> list[str]:
    text = base64.b64encode(zlib.compress(data, 6)).decode("ascii")
    return [text[i:i + PART_CHARS] for i in range(0, len(text), PART_CHARS)] or [""]


def decode_blob(parts: list[str]) -> bytes:
    return zlib.decompress(base64.b64decode("".join(parts)))


def blob_rows(key: str, data: bytes) -> list[dict[str, Any]]:
    return [{"pk": f"{key}#{i:06d}", "key": key, "part": i, "value": part, "vector": [0.0] * BLOB_DIM}
            for i, part in enumerate(encode_blob(data))]


def json_rows(key: str, value: Any) -> list[dict[str, Any]]:
    return blob_rows(key, json.dumps(value, ensure_ascii=False).encode("utf-8"))


def read_blobs(client: "MilvusClient", collection: str, prefix: str) -> dict[str, bytes]:
    """Every blob whose key starts with ``prefix`` (a key, or 'embedder/' for a folder)."""
    expr = f'key like "{prefix}%"' if prefix.endswith("/") else f'key == "{prefix}"'
    rows: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = client.query(collection, filter=expr, output_fields=["key", "part", "value"],
                            limit=256, offset=offset)
        rows.extend(page)
        if len(page) < 256:
            break
        offset += len(page)
    by_key: dict[str, list[tuple[int, str]]] = {}
    for r in rows:
        by_key.setdefault(r["key"], []).append((int(r["part"]), r["value"]))
    return {k: decode_blob([v for _, v in sorted(parts)]) for k, parts in by_key.items()}


def read_json(client: "MilvusClient", collection: str, key: str) -> Any:
    blobs = read_blobs(client, collection, key)
    if key not in blobs:
        raise KeyError(key)
    return json.loads(blobs[key].decode("utf-8"))
