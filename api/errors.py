"""Domain errors mapped to HTTP once, with one JSON shape: {"error": {"code", "message"}}."""
from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag import errors

log = logging.getLogger(__name__)

STATUS: dict[type[errors.RagError], int] = {
    errors.InvalidInput: 422,
    errors.NotFound: 404,
    errors.UnsupportedType: 415,
    errors.BadDocument: 400,
    errors.TooLarge: 413,
    errors.Conflict: 409,
    errors.NoIndex: 503,
    errors.SnapshotDamaged: 503,
    errors.ModelUnavailable: 503,
    errors.StorageFull: 507,
    errors.GenerationTimeout: 504,
    errors.GenerationCancelled: 499,  # nginx's "client closed request": nobody reads it, logs and metrics do
}
HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_type",
              429: "rate_limited", 504: "generation_timeout", 507: "storage_full"}
_LOCATIONS = {"body", "query", "path", "header", "cookie"}

JSON_BODY_LIMIT = 1 << 20  # questions and chat requests; uploads get RAG_MAX_UPLOAD_MB

# Declared on routes (``responses=``) so /docs shows the error shape next to each status.
ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorOut"}


# OpenAI's error ``type`` for each status, used on the OpenAI-compatible routes (``/v1``), whose
# clients read ``error.type``/``error.param``/``error.code`` (https://platform.openai.com/docs/guides/error-codes).
OPENAI_PREFIX = "/v1/"
OPENAI_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                404: "invalid_request_error", 405: "invalid_request_error", 409: "invalid_request_error",
                413: "invalid_request_error", 415: "invalid_request_error", 422: "invalid_request_error",
                429: "rate_limit_error", 503: "server_error", 507: "server_error"}


def error_body(code: str, message: str, path: str = "", status: int = 400,
               param: str | None = None) -> dict[str, dict[str, Any]]:
    """``{"error": {"code", "message"}}``; on ``/v1`` routes OpenAI's shape
    ``{"error": {"message", "type", "param", "code"}}`` so OpenAI clients can read it."""
    if path.startswith(OPENAI_PREFIX):
        return {"error": {"message": message, "type": OPENAI_TYPES.get(status, "server_error"), "param": param,
                          "code": code}}
    return {"error": {"code": code, "message": message}}


def status_of(exc: errors.RagError) -> int:
    remote = getattr(exc, "status", None)  # an error the ingest service answered (api.forwarding)
    if isinstance(remote, int):
        return remote
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def invalid(field: str, reason: str, value: Any = None) -> RequestValidationError:
    """A 422 for a check that needs settings (so cannot live in a schema), same shape as the rest."""
    return RequestValidationError([{"type": "value_error", "loc": ("body", field), "msg": reason, "input": value}])


def validation_param(exc: RequestValidationError) -> str | None:
    """The field of the first error as a dotted path (``messages.0.content``), or None."""
    first = exc.errors()[0] if exc.errors() else {}
    if first.get("type") == "json_invalid":
        return None  # its loc is a character position, not a field
    loc = [str(p) for p in first.get("loc", ())]
    if loc and loc[0] in _LOCATIONS:
        loc = loc[1:]
    # pydantic names the union branch it tried (``str``, ``list[...]``, ``function-after[...]``): not a field
    loc = [p for p in loc if not ("[" in p or p in ("str", "int", "bool", "float", "list", "dict"))]
    return ".".join(loc) or None


def validation_message(exc: RequestValidationError) -> str:
    """``field: reason`` of the first error, e.g. ``question: must not be empty``."""
    first = exc.errors()[0] if exc.errors() else {}
    param = validation_param(exc)
    reason = str(first.get("msg", "invalid request")).removeprefix("Value error, ")
    if first.get("type") == "json_invalid":
        at = first.get("loc", ("body", "?"))[-1]
        return f"the request body is not valid JSON ({reason} at character {at}); send a JSON object"
    return f"{param}: {reason}" if param else reason


def responses(*codes: int, stream: bool = False) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for the error codes a route can return. Errors are JSON
    even on a streaming route (``stream=True``), whose own media type FastAPI would give them."""
    from api.schemas import ErrorOut

    if stream:
        return {code: {"description": HTTP_CODES.get(code, "error"),
                       "content": {"application/json": {"schema": ERROR_SCHEMA}}} for code in codes}
    return {code: {"model": ErrorOut, "description": HTTP_CODES.get(code, "error")} for code in codes}


def too_large_message(path: str, max_upload_bytes: int) -> str:
    if path.startswith("/documents"):
        return f"upload larger than {max_upload_bytes / 2**20:g} MB (RAG_MAX_UPLOAD_MB)"
    return f"request body larger than {JSON_BODY_LIMIT / 2**20:g} MB"


def install(app: FastAPI, max_upload_bytes: int) -> None:
    @app.exception_handler(errors.RagError)
    async def _rag_error(request: Request, exc: errors.RagError) -> JSONResponse:
        status = status_of(exc)
        return JSONResponse(error_body(exc.code, exc.message, request.url.path, status, getattr(exc, "param", None)),
                            status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body("validation_error", validation_message(exc), request.url.path, 422,
                                       validation_param(exc)), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "http_error")
        message = str(exc.detail)
        if exc.status_code == 413:  # raised by the request-body limit while the body streams in
            message = too_large_message(request.url.path, max_upload_bytes)
        return JSONResponse(error_body(code, message, request.url.path, exc.status_code), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body("internal_error", f"internal error: {type(exc).__name__}", request.url.path, 500),
                            status_code=500)
