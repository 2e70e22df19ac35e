"""POST /feedback: a student marks an answer helpful or wrong (with an optional comment).

Stored in its own SQLite file (``RAG_FEEDBACK_DB``, created 0600), rate-limited per client
address with the ``limits`` library (a moving window of ``RAG_FEEDBACK_PER_MINUTE`` per worker
process); the address is the peer's unless ``RAG_TRUSTED_PROXIES`` names the proxy in front.
"""
from __future__ import annotations

import math
import time
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from api.deps import ServicesDep
from api.errors import responses
from rag.feedback import Feedback, FeedbackStore

router = APIRouter(tags=["feedback"])
MAX_SOURCES = 20


class FeedbackSource(BaseModel):
    model_config = ConfigDict(extra="ignore")  # a client may send the whole citation; only these are kept

    n: int = Field(..., ge=1, le=1000)
    doc: str = Field(..., max_length=500)
    title: str | None = Field(None, max_length=300)
    section: str | None = Field(None, max_length=300)
    page: int | None = Field(None, ge=0)
    start: int | None = Field(None, ge=0)
    end: int | None = Field(None, ge=0)


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "verdict": "wrong", "comment": "판별자에 대한 답이 아니에요", "question": "그럼 그 두 번째 것은 무슨 일을 해?",
        "understood_as": "그럼 Discriminator는 무슨 일을 해?", "answer": "객체 탐지는 ... [1]", "refused": False,
        "sources": [{"n": 1, "doc": "000_6894a9c6475e8976.txt", "section": "GAN"}],
        "snapshot": "20260101T120000000000-ab12cd"}]})

    verdict: Literal["helpful", "wrong"]
    comment: str | None = Field(None, max_length=1000, description="Optional, up to 1,000 characters")
    question: str = Field(..., min_length=1, max_length=4000, description="The question as asked")
    understood_as: str | None = Field(None, max_length=4000, description="The answer's debug.understood_as")
    answer: str = Field(..., max_length=20000, description="The answer text that was shown")
    refused: StrictBool = False
    sources: list[FeedbackSource] = Field(default_factory=list, max_length=MAX_SOURCES)
    snapshot: str | None = Field(None, max_length=64, pattern=r"^[\w.-]+$",
                                 description="The snapshot that answered (X-Snapshot-Id)")


class FeedbackOut(BaseModel):
    id: int
    created: str
    verdict: str


class RateLimit:
    """``hit(client)`` raises a 429 with Retry-After once a client is over its budget."""

    def __init__(self, per_minute: int) -> None:
        self.item = RateLimitItemPerMinute(per_minute)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, client: str) -> None:
        if not self.limiter.hit(self.item, client):
            reset = self.limiter.get_window_stats(self.item, client).reset_time
            wait = max(1, math.ceil(reset - time.time()))
            raise HTTPException(429, f"too much feedback from this address: try again in {wait} s",
                                headers={"Retry-After": str(wait)})


def _limit(request: Request) -> RateLimit:
    state = request.app.state
    if getattr(state, "feedback_limit", None) is None:
        state.feedback_limit = RateLimit(state.services.settings.feedback_per_minute)
    return state.feedback_limit


def client_key(request: Request, trusted_proxies: list[str]) -> str:
    """Whom the rate limit counts. The peer address, as the server saw it; with no trusted proxy
    configured (RAG_TRUSTED_PROXIES), a request carrying X-Forwarded-For counts against one
    shared budget, since a server started with uvicorn's defaults replaces the peer of a local
    connection with that header's claim, and rotating it would pass the limit."""
    if not trusted_proxies and "x-forwarded-for" in request.headers:
        return "x-forwarded-for (no RAG_TRUSTED_PROXIES)"
    return request.client.host if request.client else "unknown"


def _store(request: Request) -> FeedbackStore:
    state = request.app.state
    if getattr(state, "feedback_store", None) is None:
        state.feedback_store = FeedbackStore(state.services.settings.feedback_db)
    return state.feedback_store


@router.post("/feedback", response_model=FeedbackOut, status_code=201, responses=responses(400, 413, 422, 429, 507),
             summary="Mark an answer helpful or wrong; stored with its question, answer, sources and snapshot id")
def post_feedback(body: FeedbackIn, request: Request, services: ServicesDep) -> dict[str, Any]:
    _limit(request).hit(client_key(request, services.settings.trusted_proxies))
    saved = _store(request).add(Feedback(
        verdict=body.verdict, question=body.question, answer=body.answer, refused=body.refused,
        sources=[s.model_dump(exclude_none=True) for s in body.sources], snapshot=body.snapshot,
        understood_as=body.understood_as, comment=(body.comment or "").strip() or None))
    return {"id": saved.id, "created": saved.created, "verdict": saved.verdict}
