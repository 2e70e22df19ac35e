"""Document writes of an API worker that is not the ingest service: forwarded to it.

With several hosts (``RAG_INDEX_BACKEND=milvus``) only one process writes: the ingest service,
which owns the notes directory, the local snapshots, the embedding cache and the writer lock,
and publishes each snapshot to Milvus. A worker with ``RAG_INGEST_URL`` set keeps the same
routes, checks the admin token itself, and hands every write to that service with the same
token, returning its answer (status and body) unchanged. Reads (``GET /documents``) stay local:
they read the live snapshot from the engine.
"""
from __future__ import annotations

from typing import Any, BinaryIO
from urllib.parse import quote

import httpx

from rag import errors
from rag.live import LiveSnapshot
from rag.settings import Settings

WRITE_TIMEOUT_S = 600.0  # an upload is ingested and published before the ingest service answers


class RemoteError(errors.RagError):
    """An error the ingest service answered with; ``status`` is its HTTP status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class ForwardingDocuments:
    """The `api.documents.DocumentService` surface, writes sent to ``settings.ingest_url``."""

    def __init__(self, settings: Settings, live: LiveSnapshot) -> None:
        self.settings = settings
        self.live = live
        self.url = str(settings.ingest_url).rstrip("/")

    def list(self) -> dict[str, Any]:
        snap = self.live.get()
        docs = [{"id": d["doc"], **{k: v for k, v in d.items() if k != "doc"}} for d in snap.documents]
        return {"snapshot": snap.id, "documents": docs}

    def recover(self) -> list[dict[str, Any]]:
        return []  # staged writes are the ingest service's to settle

    def add(self, filename: str | None, stream: BinaryIO) -> dict[str, Any]:
        return self._send("POST", "/documents", files={"file": (filename or "", stream)})

    def replace(self, doc_id: str, stream: BinaryIO) -> dict[str, Any]:
        return self._send("PUT", f"/documents/{doc_id}", files={"file": (doc_id, stream)})

    def delete(self, doc_id: str) -> dict[str, Any]:
        return self._send("DELETE", f"/documents/{doc_id}")

    def reindex(self) -> dict[str, Any]:
        return self._send("POST", "/reindex")

    def _send(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.settings.admin_token}"}
        try:
            r = httpx.request(method, self.url + quote(path, safe="/"), headers=headers, timeout=WRITE_TIMEOUT_S, **kw)
        except httpx.HTTPError as exc:
            raise errors.IndexUnavailable(f"the ingest service at {self.url} (RAG_INGEST_URL) did not answer "
                                          f"({type(exc).__name__}: {exc}); nothing was changed here") from exc
        if r.status_code < 400:
            return r.json()
        try:
            error = r.json()["error"]
            raise RemoteError(r.status_code, str(error["code"]), str(error["message"]))
        except (ValueError, KeyError, TypeError):
            raise RemoteError(r.status_code, "ingest_error", f"the ingest service answered {r.status_code}") from None
