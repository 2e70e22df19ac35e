"""The app factory: ``create_app(settings)``; models and the snapshot load once, in the lifespan.

Routers are thin and call the same services as the CLI. Hot reload needs no restart: each
request asks ``LiveSnapshot`` once for the snapshot CURRENT names, so after a publish new
requests use the new snapshot while requests in flight finish on theirs, in every worker.
"""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from api import access_log, errors
from api.auth import AdminGate
from api.deps import require_admin
from api.errors import JSON_BODY_LIMIT
from api.limits import DeclaredLengthLimit
from api.metrics import Metrics, MetricsMiddleware
from api.routers import ask, documents, feedback, health, metrics, openai_compat, search, web
from api.services import Services
from rag.errors import RagError
from rag.settings import Settings

log = logging.getLogger(__name__)

MULTIPART_OVERHEAD = 1 << 16


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    access_log.install()  # paths only: no query strings (questions, pasted tokens) in the log
    upload_limit = int(settings.max_upload_mb * 2**20)
    app_metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = Services.load(settings)
        services.reconcile()  # staged writes of a killed server, then notes dir vs live snapshot
        try:
            snapshot = services.live.get()  # load the snapshot and its embedder before the first request
            services.searcher.run("warm-up 준비", snapshot=snapshot)  # loads the Korean analyser (~2 s)
        except RagError as exc:
            log.warning("starting without an index: %s", exc.message)
        app.state.services = services
        app_metrics.follow(lambda: _live_or_none(services))
        yield

    # FastAPIOffline: /docs and /redoc load Swagger UI / ReDoc from the package's own files, not a CDN.
    app = FastAPIOffline(
        title="Study-notes Q&A", version="0.1.0", lifespan=lifespan, favicon_url="/favicon.ico",
        description="Answers from Korean study notes with verified citations `[n]`, each resolving to a document, "
                    "section, page and quoted passage; refuses when the notes do not cover a question. "
                    "Document routes need `Authorization: Bearer <RAG_ADMIN_TOKEN>` and are off when no token "
                    "is configured. Every error is `{\"error\": {\"code\", \"message\"}}`; on the OpenAI-compatible `/v1` "
                    "routes it is OpenAI's `{\"error\": {\"message\", \"type\", \"param\", \"code\"}}`.",
    )
    app.state.metrics = app_metrics
    errors.install(app, upload_limit)

    def body_limit(path: str) -> int:
        return upload_limit + MULTIPART_OVERHEAD if path.startswith("/documents") else JSON_BODY_LIMIT

    app.add_middleware(DeclaredLengthLimit, limit_for=body_limit,
                       message=lambda path: errors.too_large_message(path, upload_limit))
    # Outside the body limits and the routes: an admin route without the token is refused from
    # its headers, before any of the body is read (see api.auth).
    # Routers are included without a prefix, so their routes' paths are the app's paths.
    json_routers = (ask.router, search.router, feedback.router, health.router, metrics.router, openai_compat.router,
                    web.router)
    app.add_middleware(AdminGate, routes=lambda: [r for rt in (documents.router, *json_routers) for r in rt.routes],
                       guard=require_admin,
                       expected=lambda: settings.admin_token)
    app.add_middleware(MetricsMiddleware, metrics=app_metrics)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["*"],
                           allow_headers=["*"])
    # Per-router limits only (an app-wide one would answer 413 in plain text, see api.limits).
    app.include_router(documents.router, max_body_size=body_limit("/documents"))
    for router in json_routers:
        app.include_router(router, max_body_size=JSON_BODY_LIMIT)
    app.mount("/static", StaticFiles(directory=web.STATIC_DIR), name="static")
    return app


def _live_or_none(services: Services):  # noqa: ANN202 - Snapshot | None
    try:
        return services.live.get()
    except RagError:
        return None


def app_from_env() -> FastAPI:
    """uvicorn factory: each worker builds its app from the environment."""
    return create_app(Settings())
