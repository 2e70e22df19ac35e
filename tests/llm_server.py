"""llama-cpp-python's own OpenAI-compatible server (``python -m llama_cpp.server``) on
127.0.0.1 over the tests' tiny GGUF: the real remote server the remote generator talks to."""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import httpx

from tests.server import free_port, stop_process

API_KEY = "test-llm-key-456"


@dataclass
class LlamaServer:
    url: str  # the base URL, ending in /v1 (what RAG_LLM_URL takes)
    process: subprocess.Popen
    log: Path


@contextmanager
def run_llama_server(gguf: Path, *, api_key: str | None = API_KEY, n_ctx: int = 2048, port: int | None = None,
                     timeout: float = 120) -> Iterator[LlamaServer]:
    port = port or free_port()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1", "--port", str(port),
           "--n_ctx", str(n_ctx), "--n_threads", "1", "--verbose", "False"]
    if api_key:
        cmd += ["--api_key", api_key]
    log = Path(tempfile.mkstemp(prefix="llama-server-", suffix=".log")[1])
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    server = LlamaServer(f"http://127.0.0.1:{port}/v1", proc, log)
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
            try:
                if httpx.get(server.url + "/models", headers=headers, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"llama_cpp.server did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.2)
        yield server
    finally:
        stop_process(proc)
        log.unlink(missing_ok=True)
