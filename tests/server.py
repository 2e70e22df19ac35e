"""A real uvicorn server on 127.0.0.1 for integration tests, over a private copy of the notes."""
from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx

from rag.settings import Settings

from tests.corpus import NO_BUILT_LLM, NOTES, ROOT  # noqa: E402 - the notes the tests were written for
ADMIN_TOKEN = "test-admin-token-123"


@dataclass
class Server:
    url: str
    notes_dir: Path
    index_dir: Path
    process: subprocess.Popen
    log: Path
    feedback_db: Path | None = None

    def client(self, **kw: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60, **kw)  # type: ignore[arg-type]

    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def settings_for(root: Path) -> Settings:
    return Settings(notes_dir=root / "notes", index_dir=root / "index", embedder="offline",  # type: ignore[call-arg]
                    feedback_db=root / "feedback.sqlite", _env_file=None)


@lru_cache(maxsize=1)
def _template() -> Path:
    """The real notes and their index, built once per test process (an ingest takes seconds)."""
    from ingest.pipeline import Ingestor

    root = Path(tempfile.mkdtemp(prefix="rag-api-template-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    shutil.copytree(NOTES, root / "notes")
    summary = Ingestor(settings_for(root), progress=False).sync()
    assert summary.published and not summary.failed, summary
    return root


def build_index(root: Path) -> Settings:
    """A private copy of the real notes and their index under ``root`` (tests may change it)."""
    template = _template()
    shutil.copytree(template / "notes", root / "notes")
    shutil.copytree(template / "index", root / "index", ignore=shutil.ignore_patterns(".ingest.lock"))
    return settings_for(root)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_command(port: int, workers: int, *, preload: bool = False, log_level: str = "warning",
                   access_log: bool = True) -> list[str]:
    """The command line of a server on 127.0.0.1:``port``: ``uvicorn api.app:app_from_env --factory
    --workers N``, or with ``preload`` ``rag serve --workers N --preload`` (gunicorn's forked workers)."""
    if preload:
        return [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                "--workers", str(workers), "--preload"]
    return [sys.executable, "-m", "uvicorn", "api.app:app_from_env", "--factory", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers), "--log-level", log_level,
            *([] if access_log else ["--no-access-log"]),
            # a worker loading Kiwi holds the GIL for seconds on a busy machine: uvicorn's 5 s health
            # check would kill and restart it again and again
            "--timeout-worker-healthcheck", "120"]


@contextmanager
def run_server(settings: Settings, *, admin_token: str | None = ADMIN_TOKEN, workers: int = 1,
               env: dict[str, str] | None = None, timeout: float = 240, log_level: str = "warning",
               preload: bool = False) -> Iterator[Server]:
    """Start ``uvicorn api.app:app_from_env --factory`` (with ``preload``: ``rag serve --preload``,
    uvicorn workers forked by gunicorn), wait for /health, stop it afterwards."""
    port = free_port()
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")} | NO_BUILT_LLM
    child_env.update({
        "RAG_NOTES_DIR": str(settings.notes_dir), "RAG_INDEX_DIR": str(settings.index_dir),
        "RAG_EMBEDDER": "offline", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
        "PYTHONPATH": str(ROOT),
        # beside the index, never the repository's data/feedback.sqlite
        "RAG_FEEDBACK_DB": str(Path(settings.index_dir).parent / "feedback.sqlite"),
    })
    if admin_token:
        child_env["RAG_ADMIN_TOKEN"] = admin_token
    child_env.update(env or {})
    cmd = server_command(port, workers, preload=preload, log_level=log_level)
    log = Path(tempfile.mkstemp(prefix="uvicorn-", suffix=".log")[1])
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=child_env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", Path(settings.notes_dir), Path(settings.index_dir), proc, log,
                    Path(child_env["RAG_FEEDBACK_DB"]))
    try:
        _wait_ready(server, timeout, workers)
        yield server
    finally:
        stop_process(proc)


def _wait_ready(server: Server, timeout: float, workers: int = 1) -> None:
    """Until ``workers`` distinct worker processes have answered /health (fresh connections: a
    worker still loading its models accepts none, so the first answer says nothing of the others)."""
    deadline = time.monotonic() + timeout
    seen: set[object] = set()
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {server.process.returncode}:\n{server.output()}")
        try:
            r = httpx.get(server.url + "/health", timeout=2, headers={"Connection": "close"})
            if r.status_code == 200:
                seen.add(r.json().get("worker"))
                if len(seen) >= workers:
                    return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.2 if not seen else 0.05)
    if seen:
        raise TimeoutError(f"only {len(seen)} of {workers} uvicorn workers answered /health within {timeout:.0f}s")
    raise TimeoutError(f"uvicorn did not answer /health within {timeout:.0f}s:\n{server.output()}")


def parse_sse(body: str) -> list[tuple[str, str]]:
    """(event, data) pairs of a text/event-stream body; asserts every frame is well formed."""
    assert body.endswith("\n\n"), "an SSE body ends with a blank line"
    events = []
    for frame in body.split("\n\n")[:-1]:
        event, data = "message", []
        for line in frame.split("\n"):
            if line.startswith(":"):
                continue  # keep-alive comment
            field, sep, value = line.partition(":")
            assert sep, f"malformed SSE line {line!r}"
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                event = value
            elif field == "data":
                data.append(value)
            else:
                raise AssertionError(f"unexpected SSE field {field!r}")
        if data:
            events.append((event, "\n".join(data)))
    return events


def assert_error(r: httpx.Response, status: int, code: str | None = None, mentions: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    if r.request.url.path.startswith("/v1/"):  # OpenAI's error shape on the OpenAI-compatible routes
        assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}, body
        assert body["error"]["type"] in ("invalid_request_error", "server_error", "not_found_error",
                                         "rate_limit_error", "authentication_error", "permission_error"), body
    else:
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    if code:
        assert body["error"]["code"] == code, body
    if mentions:
        assert mentions in body["error"]["message"], body
    return body["error"]


@contextmanager
def run_process(cmd: list[str], name: str, ready: Callable[[], bool], timeout: float,
                **popen: Any) -> Iterator[tuple[subprocess.Popen, Path]]:
    """(process, log) of ``cmd`` started with its output in a log file, once ``ready()`` is true
    (an exception from it counts as not yet); stopped, and its log deleted, afterwards. Raises
    RuntimeError with the log when the process exits first, TimeoutError after ``timeout`` s."""
    log = Path(tempfile.mkstemp(prefix=f"{name}-", suffix=".log")[1])
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, **popen)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
            try:
                if ready():
                    break
            except Exception:  # noqa: BLE001 - not listening yet, or not answering yet
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} did not answer within {timeout:.0f}s:\n{log.read_text(errors='replace')}")
            time.sleep(0.2)
        yield proc, log
    finally:
        stop_process(proc)
        log.unlink(missing_ok=True)


def stop_process(proc: subprocess.Popen) -> None:
    """Terminate a server process, killing it if it does not stop within 20 s."""
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def drafted_by(generator: str, debug: dict) -> str:
    """The generator that wrote an answer's text, or the draft the pipeline replaced by quoting
    the notes (``debug.drafted_by``, when no sentence of the draft was supported)."""
    return str(debug.get("drafted_by", generator))
