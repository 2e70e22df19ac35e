"""Shared fixtures: settings pointing at temporary dirs, and one index of the real notes."""
from __future__ import annotations

import inspect
import os
import shutil
from pathlib import Path
from typing import Callable

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a missing model fails fast instead of hanging
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# `make test` builds the packaged LLM into the model cache; `auto` would then answer every test with
# it. Tests name their generator (RAG_LLM_MODEL, RAG_GENERATOR) and get extractive answers otherwise.
os.environ.setdefault("RAG_LLM_PACKAGED", "false")

from rag.settings import Settings  # noqa: E402

from tests.corpus import NOTES, ROOT, TESTSET  # noqa: E402,F401 - the notes the tests were written for


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "notes_dir": tmp_path / "notes",
            "index_dir": tmp_path / "index",
            "embedder": "offline",
            "_env_file": None,
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    return make


@pytest.fixture
def notes_copy(tmp_path: Path) -> Path:
    """A private copy of the real notes that a test may change."""
    target = tmp_path / "notes"
    shutil.copytree(NOTES, target)
    return target


# The search, reader and answer suites run once per index backend: FAISS files in tests/unit/, and
# Milvus (a real `milvus-lite server` on 127.0.0.1, published to by the ingest as in production) in
# tests/integration/test_milvus_{answers,retrieval,reader}.py, which import the unit modules' tests
# and set INDEX_BACKEND = "milvus". Only the tests that use `notes_settings` (directly or through a
# fixture) are run again there; the others are left to their unit module.
BOTH_BACKENDS = {"test_answers", "test_retrieval", "test_reader"}


def _index_backend(module: object) -> str | None:
    """The backend a module's `notes_settings` tests run on: None when they are not parametrised."""
    backend = getattr(module, "INDEX_BACKEND", None)
    if backend is not None:
        return str(backend)
    return "faiss" if getattr(module, "__name__", "").rsplit(".", 1)[-1] in BOTH_BACKENDS else None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    backend = _index_backend(metafunc.module)
    if backend and "notes_settings" in metafunc.fixturenames:
        metafunc.parametrize("index_backend", [backend], indirect=True, scope="session")


def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> list | None:
    """A Milvus re-run module collects only the tests that search the notes index (see above):
    the others are its unit module's, collected there once."""
    if getattr(getattr(collector, "obj", None), "INDEX_BACKEND", None) is None or not inspect.isfunction(obj):
        return None  # pytest's own collection
    if not collector.funcnamefilter(name):  # type: ignore[attr-defined]
        return None
    info = collector.session._fixturemanager.getfixtureinfo(node=collector, func=obj, cls=None)  # type: ignore[arg-type]
    return None if "notes_settings" in info.names_closure else []


@pytest.fixture(scope="session")
def index_backend(request: pytest.FixtureRequest) -> str:
    return getattr(request, "param", "faiss")


@pytest.fixture(scope="session")
def milvus_server():  # noqa: ANN201 - tests.milvus_server.MilvusServer
    """One `milvus-lite server` on a free loopback port for the session (tests use their own prefixes)."""
    from tests.milvus_server import run_milvus

    with run_milvus() as server:
        yield server


@pytest.fixture(scope="session")
def notes_settings(tmp_path_factory: pytest.TempPathFactory, index_backend: str,
                   request: pytest.FixtureRequest) -> Settings:
    """Settings of one index of the real notes, built once per test session and backend (read-only)."""
    from ingest.pipeline import Ingestor

    index_dir = tmp_path_factory.mktemp(f"notes-index-{index_backend}")
    backend: dict[str, object] = {}
    if index_backend == "milvus":
        server = request.getfixturevalue("milvus_server")
        backend = {"index_backend": "milvus", "milvus_uri": server.uri, "milvus_prefix": "notes"}
    settings = Settings(notes_dir=NOTES, index_dir=index_dir, embedder="offline", _env_file=None,  # type: ignore[call-arg]
                        **backend)
    summary = Ingestor(settings, progress=False).sync()
    assert summary.published and not summary.failed
    return settings


@pytest.fixture(scope="session")
def notes_snapshot(notes_settings: Settings):  # noqa: ANN201
    from rag.snapshots.backends import snapshot_source

    return snapshot_source(notes_settings).open_live()


@pytest.fixture(scope="session")
def packaged_llm() -> Path:
    """The packaged Qwen2.5-Coder-1.5B-Instruct GGUF in the user's model cache, assembled from the
    `llm` extra's part packages once (as `make test` does before the tests); a missing extra
    fails here with the message that names it."""
    from rag.generators.packaged_llm import ensure_built
    from rag.settings import default_model_cache

    return ensure_built(default_model_cache()).path
