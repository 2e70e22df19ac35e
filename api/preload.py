"""Several workers that share their models: load before fork (``rag serve --workers N --preload``).

uvicorn's ``--workers`` starts each worker with ``spawn``, so every worker loads Kiwi's model
(about 480 MB once used), the libraries and the query embedder on its own. Here gunicorn's
master loads them once (``preload_app``) and forks uvicorn workers (the ``uvicorn-worker``
package's ``UvicornWorker``) that share those pages copy-on-write, as long as nobody writes
to them: ``gc.freeze()`` keeps the collector's bookkeeping off them (the recipe of Python's
``gc.freeze`` documentation).

What is loaded before the fork is only what is safe to share: Kiwi's model (constructed,
not yet used: see ``preload_models``) and a query embedder cached per process (e5 or sentence-transformers; nothing
is run on it before the fork, so no thread pool exists yet). The snapshot is not: it holds a
SQLite connection (never to be used across a fork, https://sqlite.org/howtocorrupt.html §2.6)
and, with the Milvus backend, a gRPC channel; each worker opens it in its lifespan as without
``--preload``. Linux and macOS only (gunicorn forks).
"""
from __future__ import annotations

import gc
import logging
from typing import Any

from fastapi import FastAPI

from rag.settings import Settings

log = logging.getLogger(__name__)
WORKER_CLASS = "uvicorn_worker.UvicornWorker"


def preload_models(settings: Settings) -> list[str]:
    """Load the process-wide models the workers will share; returns their names, e.g.
    ``["kiwi", "e5"]``. Nothing raised here stops the server: a model that does not load is
    loaded (or reported) by each worker as without preloading."""
    from rag.language.korean import kiwi

    loaded = []
    # Constructed, never used: Kiwi's first analysis starts its thread pool, and a forked worker
    # would inherit the pool without its threads and wait for them for ever. Measured: about
    # 230 of Kiwi's 290 MB stay shared; what its first analysis loads is each worker's own.
    kiwi()
    loaded.append("kiwi")
    try:
        name = _preload_embedder(settings)
        if name:
            loaded.append(name)
    except Exception as exc:  # noqa: BLE001 - each worker loads (and reports) its embedder with the snapshot
        log.warning("preload: the query embedder did not load (%s); each worker loads its own", exc)
    return loaded


def _preload_embedder(settings: Settings) -> str | None:
    """Load the live snapshot's embedder when it is a model cached per process (not a fitted
    LSA, which belongs to its snapshot). FAISS backend: read from the snapshot's meta file (no
    SQLite before the fork). Milvus backend: reading the meta would open a gRPC channel before
    the fork, so only an explicit ``RAG_EMBEDDER=e5`` is preloaded."""
    from rag.embedders.e5_onnx import load_e5
    from rag.embedders.registry import embedder_class, load_snapshot_embedder
    from rag.snapshots.format import read_current, read_meta, snapshots_dir

    if settings.index_backend != "faiss":
        if settings.embedder == "e5":
            return load_e5(settings).id
        return None
    current = read_current(settings.index_dir)
    if not current:
        return None
    path = snapshots_dir(settings.index_dir) / current
    meta = read_meta(path)
    if embedder_class(meta["embedder"].get("kind")).stored_in_snapshot:
        return None
    return load_snapshot_embedder(meta, path, settings).id


def serve_preloaded(app: FastAPI, settings: Settings, host: str, port: int, workers: int,
                    log_level: str = "info") -> None:
    """Run ``app`` under gunicorn with ``workers`` forked uvicorn workers; blocks until stopped
    (SIGTERM or SIGINT: graceful, in-flight requests finish within 30 s)."""
    from gunicorn.app.base import BaseApplication

    gc.disable()  # Python's recipe (gc.freeze): no collection between loading and forking,
    loaded = preload_models(settings)
    gc.freeze()  # then everything loaded so far is out of the collector's reach; workers re-enable it
    log.info("preloaded before forking %d workers: %s", workers, ", ".join(loaded))

    class Preforked(BaseApplication):  # gunicorn's documented embedding API ("Custom Application")
        def load_config(self) -> None:
            for key, value in {"bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
                               "workers": workers, "worker_class": WORKER_CLASS, "preload_app": True,
                               # a worker opening a large snapshot is silent for a while; the lifespan
                               # runs before it answers gunicorn's heartbeat
                               "timeout": 300, "graceful_timeout": 30, "loglevel": log_level,
                               "accesslog": "-", "post_fork": _after_fork,
                               # one control socket path per user: two servers would fight over it,
                               # and nothing here uses gunicornc
                               "control_socket_disable": True}.items():
                if key in self.cfg.settings:  # control_socket_disable exists from gunicorn 25.1
                    self.cfg.set(key, value)

        def load(self) -> FastAPI:
            return app

    Preforked().run()


def _after_fork(server: Any, worker: Any) -> None:
    """gunicorn hook, in each new worker: collect as usual again (the frozen objects stay frozen)."""
    gc.enable()
