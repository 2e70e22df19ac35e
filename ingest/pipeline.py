"""The ingest flow: load -> clean -> split -> embed (cached) -> snapshot -> publish."""
from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np
from tqdm import tqdm

from rag.dense_index import DenseIndex
from rag.embedders.base import Embedder
from rag.errors import RagError
from rag.lexical_index import LexicalIndex
from rag.settings import Settings
from rag.snapshot import read_current, snapshots_dir, verify_snapshot
from rag.types import Chunk

from ingest import cleaning, splitting
from ingest.cache import EmbeddingCache, text_hash
from ingest.embedder_choice import choose_embedder, embed_input
from ingest.loaders import SUPPORTED, LoadedDocument, load_document
from ingest.lock import writer_lock
from ingest.snapshot_writer import SnapshotWriter

log = logging.getLogger(__name__)
ANALYZER = "kiwi-content-sentences-v4"


@dataclass
class IngestSummary:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    chunks: int = 0
    embedded: int = 0
    snapshot: str | None = None
    published: bool = False
    embedder: str | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        state = f"published {self.snapshot}" if self.published else f"no new snapshot (live: {self.snapshot})"
        return (
            f"ingest: {self.added} added, {self.updated} updated, {self.removed} removed, {self.unchanged} unchanged, "
            f"{len(self.failed)} failed; {self.chunks} chunks, {self.embedded} embedded with {self.embedder}; "
            f"{state} in {self.seconds:.2f}s"
        )


def scan(directory: Path) -> list[Path]:
    """Every regular file below ``directory`` (hidden ones skipped), sorted for stable ids."""
    return sorted(
        p for p in directory.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(directory).parts)
    )


class Ingestor:
    def __init__(self, settings: Settings, progress: bool | None = None) -> None:
        self.settings = settings
        self.index_dir = Path(settings.index_dir)
        self.progress = progress  # None: tqdm decides (a bar on a terminal only)

    def config(self) -> dict[str, Any]:
        s = self.settings
        return {"chunk_size": s.chunk_size, "chunk_overlap": s.chunk_overlap, "cleaner": cleaning.VERSION,
                "splitter": splitting.VERSION, "analyzer": ANALYZER, "embedder": s.embedder,
                "st_model": None if s.embedder == "offline" else s.st_model,
                "offline_dim": None if s.embedder == "st" else s.offline_dim}

    def sync(self, directory: Path | None = None, *, refit_embedder: bool = False,
             on_stage: Callable[[str], None] | None = None, prepare: Callable[[], None] | None = None) -> IngestSummary:
        """Sync the index with ``directory``. ``prepare`` runs under the writer lock before
        anything is read: the place to change files so that no other writer interleaves."""
        started = time.perf_counter()
        directory = Path(directory or self.settings.notes_dir)
        summary = IngestSummary()
        with writer_lock(self.index_dir):
            if prepare is not None:
                prepare()
            self._sync(directory, summary, refit_embedder, on_stage or (lambda _s: None))
        summary.seconds = round(time.perf_counter() - started, 3)
        log.info(summary.line())
        return summary

    def _sync(self, directory: Path, summary: IngestSummary, refit: bool, stage: Callable[[str], None]) -> None:
        stage("load")
        docs = self._load_all(directory, summary)
        live = self._live_meta()
        old = live.get("documents", {}) if live else {}
        new = {d.doc_id: d.hash for d in docs}
        summary.added = sum(1 for k in new if k not in old)
        summary.updated = sum(1 for k in new if k in old and old[k] != new[k])
        summary.unchanged = sum(1 for k in new if old.get(k) == new[k])
        summary.removed = sum(1 for k in old if k not in new)
        summary.snapshot = live.get("id") if live else None
        if live:
            summary.chunks = int(live.get("chunks", 0))
            summary.embedder = live["embedder"]["id"]
        if not docs:
            log.warning("nothing valid to index in %s: no snapshot published", directory)
            return
        if live and new == old and live.get("config") == self.config() and not refit:
            return  # nothing changed: keep the live snapshot
        stage("split")
        chunks = self._split(docs)
        stage("embed")
        cache = EmbeddingCache(self.index_dir / "cache.sqlite")
        try:
            inputs = [embed_input(c) for c in chunks]
            hashes = [text_hash(t) for t in inputs]
            sentences = self._tokens(cache, inputs, hashes)  # first: the embedder reuses the analysis
            embedder = choose_embedder(self.settings, self.index_dir, chunks, refit=refit)
            vectors, summary.embedded = self._embed(cache, embedder, inputs, hashes)
        finally:
            cache.close()
        stage("write")
        dense = DenseIndex.build(vectors)
        lexical = LexicalIndex.build([[t for sent in chunk for t in sent] for chunk in sentences])
        counts: dict[str, int] = {}
        for c in chunks:
            counts[c.doc] = counts.get(c.doc, 0) + 1
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        previous = {d["doc"]: d for d in (self._live_documents() if live else [])}
        documents = [
            {"doc": d.doc_id, "title": d.title, "type": d.type, "pages": len(d.pages) if d.type == "pdf" else None,
             "chunks": counts.get(d.doc_id, 0), "hash": d.hash, "size": d.size,
             "updated": previous[d.doc_id]["updated"] if d.doc_id in previous and previous[d.doc_id]["hash"] == d.hash else now}
            for d in docs
        ]
        writer = SnapshotWriter(self.index_dir, keep=self.settings.keep_snapshots)
        snap_id = writer.write(chunks, documents, dense, lexical, embedder, {"config": self.config()}, sentences)
        stage("publish")
        writer.publish(snap_id)
        writer.prune()
        summary.snapshot, summary.published = snap_id, True
        summary.chunks, summary.embedder = len(chunks), embedder.id

    def _load_all(self, directory: Path, summary: IngestSummary) -> list[LoadedDocument]:
        if not directory.exists():
            summary.failed.append({"path": str(directory), "error": "path does not exist"})
            return []
        paths = [directory] if directory.is_file() else scan(directory)
        base = directory.parent if directory.is_file() else directory
        docs: list[LoadedDocument] = []
        for path in paths:
            rel = path.relative_to(base).as_posix()
            if path.suffix.lower() not in SUPPORTED:
                summary.failed.append({"path": rel, "error": f"unknown extension {path.suffix or '(none)'!r}"})
                continue
            try:
                docs.append(load_document(path, rel))
            except RagError as exc:
                summary.failed.append({"path": rel, "error": exc.message})
            except Exception as exc:  # one unreadable file must not stop the others
                summary.failed.append({"path": rel, "error": f"{type(exc).__name__}: {exc}"})
        return docs

    def _split(self, docs: list[LoadedDocument]) -> list[Chunk]:
        repeated = cleaning.repeated_lines(d.text for d in docs)
        chunker = splitting.Chunker(self.settings.chunk_size, self.settings.chunk_overlap)
        chunks: list[Chunk] = []
        for d in docs:
            chunks.extend(chunker.split(d, cleaning.boilerplate_spans(d.text, repeated)))
        return [Chunk(c.doc, c.start, c.end, c.text, c.section, c.page, i) for i, c in enumerate(chunks)]

    def _embed(self, cache: EmbeddingCache, embedder: Embedder, inputs: list[str], hashes: list[str]) -> tuple[np.ndarray, int]:
        found = cache.get_vectors(embedder.id, hashes)
        missing = [i for i, h in enumerate(hashes) if h not in found or found[h].shape[0] != embedder.dim]
        missing = list({hashes[i]: i for i in missing}.values())
        batch = self.settings.embed_batch_size
        with tqdm(total=len(missing), desc="embedding", unit="chunk", disable=None if self.progress is None else not self.progress) as bar:
            for s in range(0, len(missing), batch):
                idx = missing[s : s + batch]
                vecs = embedder.embed_documents([inputs[i] for i in idx])
                new = {hashes[i]: v for i, v in zip(idx, vecs)}
                cache.put_vectors(embedder.id, new)
                found.update(new)
                bar.update(len(idx))
        vectors = np.stack([found[h] for h in hashes]) if hashes else np.zeros((0, embedder.dim), np.float32)
        return vectors.astype(np.float32), len(missing)

    def _tokens(self, cache: EmbeddingCache, inputs: list[str], hashes: list[str]) -> list[list[list[str]]]:
        """Content morphemes per sentence of each chunk (cached); BM25 indexes their concatenation,
        the query side uses the sentences to reward passages where the question's terms meet."""
        from rag.korean import content_tokens_batch, quick_sentences

        found = cache.get_tokens(ANALYZER, hashes)
        missing = list({h: i for i, h in enumerate(hashes) if h not in found}.values())
        if missing:
            pieces = [quick_sentences(inputs[i]) for i in missing]
            flat = content_tokens_batch([s for p in pieces for s in p])
            new, pos = {}, 0
            for i, p in zip(missing, pieces):
                new[hashes[i]] = flat[pos : pos + len(p)]
                pos += len(p)
            cache.put_tokens(ANALYZER, new)
            found.update(new)
        return [found[h] for h in hashes]

    def _live_meta(self) -> dict[str, Any] | None:
        """Meta of the live snapshot if it passes a quick check; a damaged one counts as absent,
        so the next ingest rebuilds and publishes a good snapshot (repair)."""
        current = read_current(self.index_dir)
        if current is None:
            return None
        try:
            return verify_snapshot(snapshots_dir(self.index_dir) / current)
        except RagError as exc:
            log.warning("live snapshot %s is damaged, rebuilding: %s", current, exc)
            return None

    def _live_documents(self) -> list[dict[str, Any]]:
        from rag.snapshot import CHUNKS_DB, read_chunks

        current = read_current(self.index_dir)
        try:
            return read_chunks(snapshots_dir(self.index_dir) / str(current) / CHUNKS_DB)[1]
        except RagError:
            return []
