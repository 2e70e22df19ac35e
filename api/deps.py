"""Annotated dependency aliases: routers declare what they need, the lifespan provides it."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth import denial
from api.errors import invalid
from api.services import Services
from rag import validation
from rag.settings import Settings
from rag.snapshots.snapshot import Snapshot

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
    """Bearer token check for routes that change documents (see ``api.auth``: the same check
    runs before the body is read)."""
    refused = denial(request.app.state.services.settings.admin_token,
                     credentials.credentials if credentials is not None else "")
    if refused is not None:
        raise refused


def check_question(question: str, settings: Settings, field: str = "question") -> str:
    """The shared question rules (``rag.validation``) as a 422 naming ``field``; called before
    any response (or stream) starts."""
    try:
        return validation.check_question(question, settings.max_question_chars, field)
    except validation.InvalidQuestion as exc:
        raise invalid(exc.field, exc.reason) from None


def check_conversation(parts: list[tuple[str, str, bool]], settings: Settings) -> None:
    """Earlier turns sent with a question (``rag.validation.check_conversation``): a 422 naming
    the part, or a 413 when together they are over RAG_MAX_HISTORY_CHARS; before any analysis."""
    try:
        validation.check_conversation(parts, settings.max_question_chars, settings.max_history_chars)
    except validation.InvalidQuestion as exc:
        raise invalid(exc.field, exc.reason) from None


ServicesDep = Annotated[Services, Depends(get_services)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SnapshotDep = Annotated[Snapshot, Depends(get_snapshot)]
AdminDep = Annotated[None, Depends(require_admin)]
