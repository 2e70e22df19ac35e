"""Embedding and token cache keyed by (embedder id, text hash): re-ingests embed only new text."""
from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Sequence

import numpy as np

from rag.errors import StorageFull


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _full(exc: sqlite3.Error, path: Path) -> StorageFull | None:
    """sqlite says "database or disk is full" (SQLITE_FULL); the ingest reports it as StorageFull."""
    if "full" not in str(exc).lower():
        return None
    return StorageFull(f"disk full while writing the embedding cache {path}: nothing was published, the live "
                       f"snapshot is unchanged; free some space and run `rag ingest` again")


class EmbeddingCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.con = sqlite3.connect(path, timeout=30)
        try:
            self._init()
        except sqlite3.DatabaseError as exc:
            full = _full(exc, path)
            if full is not None:  # a full disk is no damage: keep the cache, report the disk
                self.con.close()
                raise full from exc
            if "locked" in str(exc).lower():  # another writer holds it: not damage either
                self.con.close()
                raise
            # A damaged cache only costs re-embedding: start it afresh rather than fail ingest.
            self.con.close()
            path.unlink(missing_ok=True)
            self.con = sqlite3.connect(path, timeout=30)
            self._init()

    def _init(self) -> None:
        self.con.execute("PRAGMA journal_mode=WAL")
        # A cache: a commit need not reach the disk before the next batch (in WAL mode NORMAL keeps
        # the file consistent and may lose the last commits on power loss, which costs only their
        # re-embedding); FULL's sync per batch was 1.6 s of a 6,000-paragraph .docx publish.
        self.con.execute("PRAGMA synchronous=NORMAL")
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS embeddings (embedder TEXT, hash TEXT, dim INTEGER, vector BLOB,"
            " PRIMARY KEY (embedder, hash))"
        )
        self.con.execute("CREATE TABLE IF NOT EXISTS tokens (analyzer TEXT, hash TEXT, tokens TEXT, PRIMARY KEY (analyzer, hash))")
        self.con.execute("SELECT count(*) FROM embeddings").fetchone()

    def get_vectors(self, embedder: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for batch in _batches(list(dict.fromkeys(hashes)), 500):
            marks = ",".join("?" * len(batch))
            rows = self.con.execute(
                f"SELECT hash, vector FROM embeddings WHERE embedder = ? AND hash IN ({marks})", [embedder, *batch]
            )
            out.update({h: np.frombuffer(v, dtype=np.float32) for h, v in rows})
        return out

    def put_vectors(self, embedder: str, items: dict[str, np.ndarray]) -> None:
        self._write("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?)",
                    [(embedder, h, int(v.shape[0]), np.asarray(v, dtype=np.float32).tobytes()) for h, v in items.items()])

    def get_tokens(self, analyzer: str, hashes: Sequence[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for batch in _batches(list(dict.fromkeys(hashes)), 500):
            marks = ",".join("?" * len(batch))
            rows = self.con.execute(
                f"SELECT hash, tokens FROM tokens WHERE analyzer = ? AND hash IN ({marks})", [analyzer, *batch]
            )
            out.update({h: json.loads(t) for h, t in rows})
        return out

    def put_tokens(self, analyzer: str, items: dict[str, list[str]]) -> None:
        self._write("INSERT OR REPLACE INTO tokens VALUES (?, ?, ?)",
                    [(analyzer, h, json.dumps(t, ensure_ascii=False)) for h, t in items.items()])

    def _write(self, sql: str, rows: list[tuple]) -> None:
        try:
            with self.con:
                self.con.executemany(sql, rows)
        except sqlite3.OperationalError as exc:
            full = _full(exc, self.path)
            if full is None:
                raise
            raise full from exc

    def close(self) -> None:
        self.con.close()


def _batches(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
