"""A real `milvus-lite server` (Milvus's gRPC API) on 127.0.0.1 for the Milvus backend's tests."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from rag.milvus.engine import GRPC_OPTIONS
from tests.server import free_port, run_process


@dataclass
class MilvusServer:
    uri: str
    data_dir: Path
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextmanager
def run_milvus(data_dir: Path | None = None, timeout: float = 120) -> Iterator[MilvusServer]:
    """Start ``milvus-lite server`` on a free loopback port; wait until a client can list its
    collections; stop it afterwards."""
    from pymilvus import MilvusClient

    own_dir = data_dir is None  # a folder of its own is deleted afterwards; a given one is the caller's
    data_dir = Path(data_dir or tempfile.mkdtemp(prefix="milvus-lite-"))
    uri = f"http://127.0.0.1:{free_port()}"
    cmd = [str(Path(sys.executable).with_name("milvus-lite")), "server", "--data-dir", str(data_dir),
           "--host", "127.0.0.1", "--port", uri.rsplit(":", 1)[1]]
    try:
        with run_process(cmd, "milvus-lite", lambda: MilvusClient(uri=uri, timeout=2, grpc_options=GRPC_OPTIONS)
                         .list_collections() is not None, timeout) as (proc, log):
            yield MilvusServer(uri, data_dir, proc, log)
    finally:
        if own_dir:
            shutil.rmtree(data_dir, ignore_errors=True)
