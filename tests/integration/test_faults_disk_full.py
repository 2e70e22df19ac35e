"""A full disk while an ingest publishes: a clear error (CLI: non-zero exit saying the disk is
full; API: 507 storage_full), the live snapshot unchanged, no partial snapshot left, the
embedding cache kept; once there is room, `rag ingest` publishes. The index lives on a small
tmpfs when this process may mount one (root); elsewhere the write fails with ENOSPC in-process."""
from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient

from ingest.cache import EmbeddingCache
from ingest.pipeline import Ingestor
from rag.errors import StorageFull
from rag.settings import Settings
from rag.snapshots.format import read_current, snapshots_dir
from rag.snapshots.store import SnapshotStore
from tests.server import NO_BUILT_LLM, ADMIN_TOKEN, ROOT, build_index

NOTE = "# 디스크 실험\n\n디스크가 가득 찬 상태에서 추가하려는 노트이다. 새 문장이 들어 있다.\n"


def used_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return (st.f_blocks - st.f_bfree) * st.f_frsize


@contextmanager
def small_disk(index: Path) -> Iterator[bool]:
    """Move ``index`` onto a tmpfs with 256 KB to spare (room for sqlite's journal, not for a
    snapshot); yields False, changing nothing, when mounting is not possible here."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        yield False
        return
    saved = index.with_name("index-saved")
    index.rename(saved)
    index.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512m", "tmpfs", str(index)], capture_output=True).returncode:
        index.rmdir()
        saved.rename(index)
        yield False
        return
    try:
        shutil.copytree(saved, index, dirs_exist_ok=True)
        size = used_bytes(index) + 256 * 1024
        subprocess.run(["mount", "-o", f"remount,size={size}", str(index)], check=True)
        yield True
    finally:
        subprocess.run(["umount", "-l", str(index)], check=False)


def cli_ingest(settings: Settings) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")} | NO_BUILT_LLM
    env.update(RAG_NOTES_DIR=str(settings.notes_dir), RAG_INDEX_DIR=str(settings.index_dir), RAG_EMBEDDER="offline",
               HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "api.cli", "ingest", "--json"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)


def unchanged(settings: Settings, live: str) -> None:
    index = settings.index_dir
    assert read_current(index) == live and SnapshotStore(index).open_live().id == live
    assert not list(snapshots_dir(index).glob(".tmp-*")) and not list(index.glob(".CURRENT.*"))
    con = sqlite3.connect(index / "cache.sqlite")  # the cache is kept, not reset
    assert con.execute("SELECT count(*) FROM embeddings").fetchone()[0] > 100
    con.close()


@pytest.mark.slow
def test_full_disk_while_publishing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = build_index(tmp_path).model_copy(update={"admin_token": ADMIN_TOKEN})
    live = str(read_current(settings.index_dir))
    with small_disk(settings.index_dir) as real:
        if not real:  # no tmpfs here: the first snapshot file fails as a full disk would
            from rag.lexical.bm25 import BM25Index

            def full(*_: object) -> None:
                raise OSError(errno.ENOSPC, "No space left on device")

            monkeypatch.setattr(BM25Index, "save", full)
        (settings.notes_dir / "disk.md").write_text(NOTE, encoding="utf-8")
        if real:
            out = cli_ingest(settings)
            assert out.returncode != 0 and "disk full" in out.stderr and "unchanged" in out.stderr, out.stderr
            print("\nCLI on a full disk:", out.returncode, out.stderr.strip().splitlines()[-1])
        else:
            with pytest.raises(StorageFull, match="disk full"):
                Ingestor(settings, progress=False).sync()
        unchanged(settings, live)
        (settings.notes_dir / "disk.md").unlink()

        with TestClient(create_app_for(settings)) as client:
            r = client.post("/documents", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                            files={"file": ("upload.md", NOTE.encode())})
            assert r.status_code == 507, r.text
            print("API on a full disk:", r.status_code, r.text)
            assert r.json()["error"]["code"] == "storage_full" and "disk full" in r.json()["error"]["message"]
            assert not (settings.notes_dir / "upload.md").exists()  # the change was undone
            assert client.get("/health").json()["snapshot"] == live
            assert client.post("/ask", json={"question": "YOLO는 무엇인가?"}).status_code == 200
        unchanged(settings, live)

        if real:  # room again: the next ingest publishes
            subprocess.run(["mount", "-o", "remount,size=512m", str(settings.index_dir)], check=True)
            (settings.notes_dir / "disk.md").write_text(NOTE, encoding="utf-8")
            out = cli_ingest(settings)
            assert out.returncode == 0, out.stderr
            assert json.loads(out.stdout)["published"] and read_current(settings.index_dir) != live


def create_app_for(settings: Settings):  # noqa: ANN201 - FastAPI
    from api.app import create_app

    return create_app(settings)


def test_a_full_cache_is_storage_full_not_damage(tmp_path: Path) -> None:
    """sqlite's own "database or disk is full" (here: its page limit) is reported, and the cache kept."""
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    cache.put_vectors("e", {"a": np.ones(4, np.float32)})
    pages = cache.con.execute("PRAGMA page_count").fetchone()[0]
    cache.con.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StorageFull, match="disk full"):
        cache.put_vectors("e", {f"h{i}": np.ones(512, np.float32) for i in range(200)})
    with pytest.raises(StorageFull, match="disk full"):
        cache.put_tokens("k", {f"t{i}": ["토큰"] * 200 for i in range(200)})
    assert set(cache.get_vectors("e", ["a", "h1"])) == {"a"}
    cache.close()


def test_full_disk_while_staging_an_upload(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The upload's bytes are staged before the ingest: a full disk there is the same 507, and
    no unfinished staging directory is left behind."""
    from ingest import staging

    settings = build_index(tmp_path).model_copy(update={"admin_token": ADMIN_TOKEN})
    live = str(read_current(settings.index_dir))

    def full(*_: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(staging, "_write_synced", full)
    with TestClient(create_app_for(settings)) as client:
        r = client.post("/documents", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                        files={"file": ("upload.md", NOTE.encode())})
        assert r.status_code == 507, r.text
        assert r.json()["error"]["code"] == "storage_full"
        assert client.get("/health").json()["snapshot"] == live
    assert not (settings.notes_dir / "upload.md").exists()
    assert not any((settings.index_dir / staging.STAGING_DIR).glob("*/*")), "a staging directory was left"
    unchanged(settings, live)
