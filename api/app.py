"""The app factory: ``create_app(settings)``; models load once, in the lifespan."""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator

from fastapi import FastAPI

from api import errors
from api.routers import health
from api.services import Services
from rag.errors import RagError
from rag.settings import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = Services.load(settings)
        try:
            services.live.get()  # load the snapshot and its embedder before the first request
        except RagError as exc:
            log.warning("starting without an index: %s", exc.message)
        app.state.services = services
        yield

    app = FastAPI(title="Study-notes Q&A", version="0.1.0", lifespan=lifespan,
                  description="Answers from Korean study notes with verified citations.")
    errors.install(app)
    app.include_router(health.router)
    return app


def app_from_env() -> FastAPI:
    """uvicorn factory: each worker builds its app from the environment."""
    return create_app(Settings())
