"""llama-cpp-python's own OpenAI-compatible server (``python -m llama_cpp.server``) on
127.0.0.1 over the tests' tiny GGUF: the real remote server the remote generator talks to."""
from __future__ import annotations

import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import httpx

from tests.server import free_port, run_process

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
    url = f"http://127.0.0.1:{port}/v1"
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    with run_process(cmd, "llama_cpp.server", lambda: httpx.get(url + "/models", headers=headers, timeout=2).status_code == 200,
                     timeout) as (proc, log):
        yield LlamaServer(url, proc, log)
