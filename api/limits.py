"""Request-body limits that answer 413 in the one error shape.

FastAPI's ``max_body_size`` stops a body while it streams in (chunked uploads included), but
when the declared Content-Length is already over the limit it replaces the response with a
plain-text 413. This outer middleware answers those up front, in our JSON shape, without
reading a byte of the body; FastAPI's limit still guards bodies that lie or have no length.
"""
from __future__ import annotations

from typing import Callable

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import error_body


class DeclaredLengthLimit:
    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int], message: Callable[[str], str]) -> None:
        self.app = app
        self.limit_for = limit_for
        self.message = message

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            declared = Headers(scope=scope).get("content-length")
            path = scope.get("path", "")
            if declared is not None and declared.isdigit() and int(declared) > self.limit_for(path):
                response = JSONResponse(error_body("too_large", self.message(path), path, 413), status_code=413,
                                        headers={"Connection": "close"})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
