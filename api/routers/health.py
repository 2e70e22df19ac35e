from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import ServicesDep
from rag.errors import RagError

router = APIRouter(tags=["status"])


@router.get("/health", summary="Service status, live snapshot and models in use")
def health(services: ServicesDep) -> dict[str, Any]:
    try:
        snap = services.live.get()
    except RagError as exc:
        return {"status": "no_index", "message": exc.message, "snapshot": None, "documents": 0, "chunks": 0,
                "embedder": None, "generator": None, "damaged": services.live.damaged}
    return {
        "status": "ok",
        "snapshot": snap.id,
        "documents": len(snap.documents),
        "chunks": len(snap.chunks),
        "embedder": snap.embedder.id,
        "generator": None,
        "damaged": services.live.damaged,
    }
