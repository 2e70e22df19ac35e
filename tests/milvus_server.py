"""A real `milvus-lite server` (Milvus's gRPC API) on 127.0.0.1 for the Milvus backend's tests."""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from rag.milvus.engine import GRPC_OPTIONS
from tests.server import free_port, stop_process


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

    data_dir = Path(data_dir or tempfile.mkdtemp(prefix="milvus-lite-"))
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="milvus-lite-", suffix=".log")[1])
    exe = Path(sys.executable).with_name("milvus-lite")
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(exe), "server", "--data-dir", str(data_dir), "--host", "127.0.0.1",
                                 "--port", str(port)], stdout=out, stderr=subprocess.STDOUT)
    server = MilvusServer(f"http://127.0.0.1:{port}", data_dir, proc, log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"milvus-lite server exited with {proc.returncode}:\n{server.output()}")
            try:
                MilvusClient(uri=server.uri, timeout=2, grpc_options=GRPC_OPTIONS).list_collections()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"milvus-lite server did not answer within {timeout:.0f}s:\n{server.output()}")
                time.sleep(0.2)
        yield server
    finally:
        stop_process(proc)
