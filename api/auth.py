"""The admin bearer token, checked before a request body is read.

FastAPI reads and parses a route's body (spooling multipart uploads to temporary files) before
it resolves the route's dependencies, so a dependency alone would let anyone without a token
make the server write an upload to disk first. :class:`AdminGate`, an ASGI middleware, answers
401/403 for every route that depends on ``require_admin`` from the headers alone, without
reading a byte of the body, and closes the connection so the unread body is dropped. The
dependency stays too: it documents the scheme in OpenAPI and guards routes mounted elsewhere.
Both decide with :func:`denial`.
"""
from __future__ import annotations

import hmac
from typing import Any, Callable

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import HTTP_CODES, error_body

DOCUMENT_ROUTES_OFF = "document routes are off: set RAG_ADMIN_TOKEN to enable them"
WRONG_TOKEN = "missing or wrong bearer token"


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header; "" for anything else."""
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def denial(expected: str | None, given: str) -> HTTPException | None:
    """None when ``given`` is the admin token. Off (403) when no token is configured, so these
    routes are never open by default; compared in constant time; the tokens are never logged."""
    if not expected:
        return HTTPException(403, DOCUMENT_ROUTES_OFF)
    if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
        return HTTPException(401, WRONG_TOKEN, headers={"WWW-Authenticate": "Bearer"})
    return None


def _uses(dependant: Any, call: Callable[..., Any]) -> bool:
    return any(d.call is call or _uses(d, call) for d in dependant.dependencies)


class AdminGate:
    """Refuses requests to admin routes without the token before the route reads the body.

    ``guard`` is the dependency that marks admin routes; ``expected`` returns the configured
    token (read per request, so tests and settings reloads see the current one)."""

    def __init__(self, app: ASGIApp, routes: Callable[[], list[Any]], guard: Callable[..., Any],
                 expected: Callable[[], str | None]) -> None:
        self.app = app
        self.routes = routes
        self.guard = guard
        self.expected = expected
        self._admin: list[Any] | None = None

    def _admin_routes(self) -> list[Any]:
        if self._admin is None:
            self._admin = [r for r in self.routes() if hasattr(r, "dependant") and _uses(r.dependant, self.guard)]
        return self._admin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and any(r.matches(scope)[0] == Match.FULL for r in self._admin_routes()):
            headers = Headers(scope=scope)
            refused = denial(self.expected(), bearer_token(headers.get("authorization")))
            if refused is not None:
                extra = dict(refused.headers or {})
                if headers.get("content-length", "0") != "0" or "transfer-encoding" in headers:
                    extra["Connection"] = "close"  # the body stays unread: do not reuse the connection
                response = JSONResponse(error_body(HTTP_CODES[refused.status_code], str(refused.detail)),
                                        status_code=refused.status_code, headers=extra)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
