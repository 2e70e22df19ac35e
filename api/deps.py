"""Annotated dependency aliases: routers declare what they need, the lifespan provides it."""
from __future__ import annotations

import hmac
import unicodedata
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import invalid
from api.services import Services
from rag.settings import Settings
from rag.snapshot import Snapshot

DOCUMENT_ROUTES_OFF = "document routes are off: set RAG_ADMIN_TOKEN to enable them"

# auto_error=False: a missing header is our 401 (with our error shape), not FastAPI's 403.
_bearer = HTTPBearer(auto_error=False, description="RAG_ADMIN_TOKEN of the server")


def get_services(request: Request) -> Services:
    return request.app.state.services


def get_settings(request: Request) -> Settings:
    return request.app.state.services.settings


def get_snapshot(request: Request, response: Response) -> Snapshot:
    """The live snapshot, fetched once per request: the request finishes on it even if a
    publish happens meanwhile, and the next request sees the new one. ``X-Snapshot-Id`` says
    which snapshot answered."""
    snapshot = request.app.state.services.live.get()
    response.headers["X-Snapshot-Id"] = snapshot.id
    return snapshot


def require_admin(request: Request,
                  credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> None:
    """Bearer token check for routes that change documents. Off (403) when no token is set,
    so these routes are never open by default; compared in constant time; never logged."""
    expected = request.app.state.services.settings.admin_token
    if not expected:
        raise HTTPException(403, DOCUMENT_ROUTES_OFF)
    given = credentials.credentials if credentials is not None else ""
    if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
        raise HTTPException(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})


def _blank(text: str) -> bool:
    """Nothing a reader could see: whitespace, control and format characters (zero-width spaces)."""
    return all(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf") for ch in text)


def check_question(question: str, settings: Settings, field: str = "question") -> str:
    """Empty (or invisible) and over-long questions are 422s; the length limit is a setting, so
    it is checked here."""
    if _blank(question):
        raise invalid(field, "must not be empty", question)
    if len(question) > settings.max_question_chars:
        raise invalid(field, f"longer than {settings.max_question_chars} characters (RAG_MAX_QUESTION_CHARS)")
    return question


ServicesDep = Annotated[Services, Depends(get_services)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SnapshotDep = Annotated[Snapshot, Depends(get_snapshot)]
AdminDep = Annotated[None, Depends(require_admin)]
