"""GET /health: what this worker serves right now."""
from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter

from api.deps import ServicesDep
from api.schemas import HealthOut
from rag.errors import RagError

router = APIRouter(tags=["status"])


@router.get("/health", response_model=HealthOut,
            summary="Service status, live snapshot, models in use, and whether the notes directory matches the index")
def health(services: ServicesDep) -> dict[str, Any]:
    try:
        snap = services.live.get()
    except RagError as exc:
        return {"status": "no_index", "message": exc.message, "snapshot": None, "documents": 0, "chunks": 0,
                "embedder": None, "generator": services.generator_name, "index_backend": services.settings.index_backend,
                "damaged": services.live.damaged, "worker": os.getpid(),
                "notes": services.notes_drift(), "recovered": services.recovered}
    return {
        "status": "ok",
        "snapshot": snap.id,
        "documents": len(snap.documents),
        "chunks": len(snap.chunks),
        "embedder": snap.embedder.id,
        "generator": services.generator_name,
        "index_backend": services.settings.index_backend,
        "damaged": services.live.damaged,
        "worker": os.getpid(),
        "notes": services.notes_drift(),
        "recovered": services.recovered,
    }
