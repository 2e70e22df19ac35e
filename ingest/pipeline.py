"""The ingest flow: load (cached) -> de-duplicate -> clean -> split -> embed (cached) -> snapshot -> publish.

Two writes: :meth:`Ingestor.sync` makes the index match a notes directory; :meth:`Ingestor.add`
adds one file and keeps every other document exactly as the live snapshot has it. Neither
publishes a document with no chunks, a second copy of a document, or an empty index over a
non-empty one.
"""
from __future__ import annotations

import logging
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from rag.errors import BadDocument, Conflict, DuplicateDocument, InvalidInput, RagError
from rag.settings import Settings
from rag.snapshots.format import CHUNKS_DB, read_chunks, read_current, snapshots_dir
from rag.snapshots.verify import verify_snapshot
from rag.types import Chunk

from ingest import cleaning, sections, splitting, titles
from ingest.build import ANALYZER, SnapshotBuilder, embed_input
from ingest.corpus import Corpus, load_directory, scan, set_aside_duplicates
from ingest.load_cache import LoadCache, text_key
from ingest.loaders import LoadedDocument, doc_type
from ingest.lock import writer_lock
from ingest.normalize import normalize_id
from ingest.progress import bar
from ingest.publishers import index_publisher

__all__ = ["ANALYZER", "IngestSummary", "Ingestor", "embed_input", "scan"]
log = logging.getLogger(__name__)
NO_CHUNKS = ("no indexable text: every line is site boilerplate or too short to be a passage "
             f"(under {splitting.MIN_CHUNK_CHARS} characters)")


@dataclass
class IngestSummary:
    """What a write did. When ``aborted`` names a reason nothing was published, the counts are
    zero and ``would_have`` holds the counts the run would have published."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    duplicates: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)  # parts of a document left out
    chunks: int = 0
    embedded: int = 0
    snapshot: str | None = None
    published: bool = False
    embedder: str | None = None
    seconds: float = 0.0
    aborted: str | None = None
    would_have: dict[str, int] | None = None
    parsed: int = 0  # files parsed this run (the others came from the document cache)
    engine: str | None = None  # the index engine this run published the live snapshot to (RAG_INDEX_BACKEND)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        if self.aborted:
            w = self.would_have or {}
            plan = ", ".join(f"{w.get(k, 0)} {k}" for k in ("added", "updated", "removed", "unchanged"))
            live = f"the live snapshot ({self.snapshot}) is unchanged" if self.snapshot else "there is still no index"
            return (f"ingest: nothing published: {self.aborted}; this run would have: {plan}; "
                    f"{len(self.failed)} failed; {live}")
        state = f"published {self.snapshot}" if self.published else f"no new snapshot (live: {self.snapshot})"
        if self.engine:
            state += f", {'also ' if self.published else 'but '}published to {self.engine}, which now serves it"
        dups = f", {len(self.duplicates)} duplicate(s) skipped" if self.duplicates else ""
        return (
            f"ingest: {self.added} added, {self.updated} updated, {self.removed} removed, {self.unchanged} unchanged, "
            f"{len(self.failed)} failed{dups}; {self.chunks} chunks, {self.embedded} embedded with {self.embedder}; "
            f"{state} in {self.seconds:.2f}s"
        )


def boilerplate_of(doc: LoadedDocument, chrome: frozenset[str]) -> list[tuple[int, int]]:
    """What cleaning drops from ``doc``: blog chrome and repeated lines, and a PDF's running
    headers, footers and page numbers (a per-page rule)."""
    spans = cleaning.boilerplate_spans(doc.text, chrome)
    if doc.type == "pdf":
        spans += cleaning.running_lines_spans(doc.text, [(p.start, p.end) for p in doc.pages])
    return spans


def _document_row(d: LoadedDocument, chunks: int, updated: str, chrome: frozenset[str]) -> dict[str, Any]:
    """The documents-table row of ``d``, with its heading table (``ingest.sections``)."""
    return {"doc": d.doc_id, "title": titles.document_title(d, chrome), "type": d.type,
            "pages": len(d.pages) if d.pages and d.pages[0].number is not None else None,  # PDF pages, slides
            "chunks": chunks, "hash": d.hash, "size": d.size, "updated": updated,
            **sections.document_sections(d, boilerplate_of(d, chrome))}


class Ingestor:
    def __init__(self, settings: Settings, progress: bool | None = None) -> None:
        self.settings = settings
        self.index_dir = Path(settings.index_dir)
        self.progress = progress  # None: bars only when stdout and stderr are terminals

    def config(self) -> dict[str, Any]:
        s = self.settings
        return {"chunk_size": s.chunk_size, "chunk_overlap": s.chunk_overlap, "cleaner": cleaning.VERSION,
                "splitter": splitting.VERSION, "titles": titles.VERSION, "analyzer": ANALYZER, "embedder": s.embedder,
                "st_model": None if s.embedder == "offline" else s.st_model,
                # switching e5's runtime re-embeds: the two backends are two embedders (rag.embedders.e5_onnx)
                "e5_backend": s.e5_backend if s.embedder in ("auto", "e5") else None,
                "offline_dim": None if s.embedder == "st" else s.offline_dim}

    # ---- sync a directory ----------------------------------------------------------------
    def sync(self, directory: Path | None = None, *, refit_embedder: bool = False,
             on_stage: Callable[[str], None] | None = None, prepare: Callable[[], None] | None = None,
             target: str | None = None) -> IngestSummary:
        """Sync the index with ``directory`` (default: the notes dir). ``prepare`` runs under the
        writer lock before anything is read: the place to change files so that no other writer
        interleaves. With ``target`` (a document id just written), that document's own failure
        is raised instead of reported: ``DuplicateDocument`` (409) when it repeats another
        document's text, ``BadDocument`` (400) when it cannot be read or leaves no chunk."""
        started = time.perf_counter()
        directory = Path(directory or self.settings.notes_dir)
        summary = IngestSummary()
        with writer_lock(self.index_dir):
            if prepare is not None:
                prepare()
            self._sync(directory, summary, refit_embedder, on_stage or (lambda _s: None), target)
        summary.seconds = round(time.perf_counter() - started, 3)
        log.info(summary.line())
        return summary

    def _sync(self, directory: Path, summary: IngestSummary, refit: bool, stage: Callable[[str], None],
              target: str | None) -> None:
        stage("load")
        live = self._live_meta()
        old: dict[str, str] = live.get("documents", {}) if live else {}
        if live:
            summary.snapshot, summary.chunks = live.get("id"), int(live.get("chunks", 0))
            summary.embedder = live["embedder"]["id"]
        if not directory.is_dir():
            error = "path does not exist" if not directory.exists() else "not a directory"
            summary.failed.append({"path": str(directory), "error": error})
            self._abort(summary, old, {}, f"{directory}: {error}")
            return
        cache = LoadCache(self.index_dir / "cache.sqlite", self.settings.chunk_size)
        try:
            corpus = self._load(directory, cache)
            set_aside_duplicates(corpus, old)
            stage("split")  # chrome lines depend on the whole corpus: every document is split (or its cached split reused)
            chunks, empty, used = self._split(corpus.docs, cache)
            cache.prune({d.hash for d in corpus.docs}, used)
        finally:
            cache.close()
        summary.parsed = corpus.parsed
        for doc_id in empty:
            corpus.failed.append({"path": doc_id, "error": NO_CHUNKS})
        docs = [d for d in corpus.docs if d.doc_id not in empty]
        summary.failed.extend(corpus.failed)
        summary.duplicates = corpus.duplicates
        summary.warnings = corpus.warnings
        self._raise_for(target, summary)
        new = {d.doc_id: d.hash for d in docs}
        if not docs:
            reason = f"no document in {directory} could be indexed"
            self._abort(summary, old, new, reason + (f", and publishing would remove all {len(old)} indexed "
                                                     f"documents" if old else ""))
            return
        self._count(summary, old, new)
        if live and new == old and live.get("config") == self.config() and not refit:
            self._republish(str(live["id"]), summary, stage)
            return  # nothing changed: keep the live snapshot
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        previous = {d["doc"]: d for d in (self._live_chunks()[1] if live else [])}
        counts: dict[str, int] = {}
        for c in chunks:
            counts[c.doc] = counts.get(c.doc, 0) + 1
        chrome = cleaning.chrome_lines([d.text for d in docs])
        documents = [_document_row(d, counts[d.doc_id], previous[d.doc_id]["updated"]
                                   if d.doc_id in previous and previous[d.doc_id]["hash"] == d.hash else now, chrome)
                     for d in docs]
        self._publish(chunks, documents, summary, refit, stage)

    def _load(self, directory: Path, cache: LoadCache) -> Corpus:
        with bar(self.progress, len(scan(directory)), "loading", "file") as b:
            return load_directory(directory, cache, lambda: b.update(1))

    @staticmethod
    def _raise_for(target: str | None, summary: IngestSummary) -> None:
        if target is None:
            return
        for dup in summary.duplicates:
            if dup["path"] == target:
                raise DuplicateDocument(target, dup["duplicate_of"])
        for failure in summary.failed:
            if failure["path"] == target:
                raise BadDocument(f"{target}: {failure['error']}")

    @staticmethod
    def _count(summary: IngestSummary, old: dict[str, str], new: dict[str, str]) -> None:
        summary.added = sum(1 for k in new if k not in old)
        summary.updated = sum(1 for k in new if k in old and old[k] != new[k])
        summary.unchanged = sum(1 for k in new if old.get(k) == new[k])
        summary.removed = sum(1 for k in old if k not in new)

    def _abort(self, summary: IngestSummary, old: dict[str, str], new: dict[str, str], reason: str) -> None:
        plan = IngestSummary()
        self._count(plan, old, new)
        summary.would_have = {"added": plan.added, "updated": plan.updated, "removed": plan.removed,
                              "unchanged": plan.unchanged}
        summary.aborted = reason
        log.error("nothing published: %s", reason)

    def _split(self, docs: list[LoadedDocument], cache: LoadCache) -> tuple[list[Chunk], set[str], set[str]]:
        """Chunks of every document (ids in order), the ids of documents left with none, and the
        chunk-cache keys used (a document's split is reused while its bytes, its boilerplate
        spans and the chunking parameters stay the same)."""
        chrome = cleaning.chrome_lines([d.text for d in docs])
        chunks: list[Chunk] = []
        empty: set[str] = set()
        used: set[str] = set()
        with bar(self.progress, len(docs), "splitting", "doc") as b:
            for d in docs:
                mine = self._split_one(d, chrome, cache, used)
                if not mine:
                    empty.add(d.doc_id)
                chunks.extend(mine)
                b.update(1)
        return _numbered(chunks), empty, used

    def _split_one(self, doc: LoadedDocument, chrome: frozenset[str], cache: LoadCache, used: set[str]) -> list[Chunk]:
        s = self.settings
        spans = boilerplate_of(doc, chrome)
        key = cache.split_key(doc, spans, (s.chunk_size, s.chunk_overlap, cleaning.VERSION, splitting.VERSION))
        used.add(key)
        mine = cache.get_split(key, doc)
        if mine is None:
            mine = splitting.Chunker(s.chunk_size, s.chunk_overlap).split(doc, spans)
            cache.put_split(key, doc, mine)
        return mine

    # ---- add one file --------------------------------------------------------------------
    def add(self, source: Path, on_stage: Callable[[str], None] | None = None) -> IngestSummary:
        """Add one file to the notes dir (copied there, unless it already lies in it) and to the
        index, every other document kept exactly as the live snapshot has it (its chunks are
        reused, not re-read from the notes dir).

        Raises ``InvalidInput`` (not a file), ``UnsupportedType``, ``BadDocument`` (unreadable,
        or no chunk after cleaning), ``Conflict`` (the name is taken, or the index was built
        with other settings), ``DuplicateDocument`` (same text as an indexed document).
        """
        started = time.perf_counter()
        stage = on_stage or (lambda _s: None)
        source = Path(source)
        if not source.is_file():
            raise InvalidInput(f"{source}: not a file" if source.exists() else f"{source}: no such file")
        doc_type(source)
        notes = Path(self.settings.notes_dir)
        inside = source.resolve().is_relative_to(notes.resolve())  # already in the notes dir: index it there
        doc_id = normalize_id(source.resolve().relative_to(notes.resolve()).as_posix() if inside else source.name)
        if any(part.startswith(".") for part in Path(doc_id).parts):
            raise InvalidInput(f"{source}: hidden files are not documents")
        dest = notes / doc_id
        summary = IngestSummary()
        with writer_lock(self.index_dir):
            stage("load")
            live = self._live_meta()
            old: dict[str, str] = live.get("documents", {}) if live else {}
            if doc_id in old or (dest.exists() and not inside):
                raise Conflict(f"{doc_id!r} already exists in {notes}; to replace it, change the file there "
                               f"and run `rag ingest`")
            if live and live.get("config") != self.config():
                raise Conflict("the index was built with other settings; run `rag ingest` first to rebuild it")
            cache = LoadCache(self.index_dir / "cache.sqlite", self.settings.chunk_size)
            try:
                corpus = self._load(notes, cache) if notes.is_dir() else Corpus()
                doc = cache.load(source, doc_id)
                indexed = [d for d in corpus.docs if old.get(d.doc_id) == d.hash]
                same = next((d for d in indexed if text_key(d.text) == text_key(doc.text)), None)
                if same is not None:
                    raise DuplicateDocument(doc_id, same.doc_id)
                stage("split")
                chrome = cleaning.chrome_lines([d.text for d in indexed] + [doc.text])
                mine = self._split_one(doc, chrome, cache, set())
            finally:
                cache.close()
            if not mine:
                raise BadDocument(f"{doc_id}: {NO_CHUNKS}")
            current = snapshots_dir(self.index_dir) / str(live["id"]) if live else None
            kept, rows = read_chunks(current / CHUNKS_DB) if current else ([], [])  # damage raises
            now = datetime.now(timezone.utc).isoformat(timespec="seconds")
            documents = [*rows, _document_row(doc, len(mine), now, chrome)]
            if not inside:
                _copy_atomic(source, dest)
            try:
                self._publish(_numbered([*kept, *mine]), documents, summary, False, stage)
            except BaseException:
                if not inside:
                    dest.unlink(missing_ok=True)
                raise
            summary.added, summary.unchanged = 1, len(rows)
        summary.seconds = round(time.perf_counter() - started, 3)
        log.info(summary.line())
        return summary

    def _publish(self, chunks: list[Chunk], documents: list[dict[str, Any]], summary: IngestSummary, refit: bool,
                 stage: Callable[[str], None]) -> None:
        built = SnapshotBuilder(self.settings, self.progress).publish(chunks, documents, self.config(), refit, stage)
        summary.snapshot, summary.published = built.snapshot, True
        summary.engine = self.settings.index_backend if index_publisher(self.settings) is not None else None
        summary.chunks, summary.embedder, summary.embedded = built.chunks, built.embedder, built.embedded

    def _republish(self, snap_id: str, summary: IngestSummary, stage: Callable[[str], None]) -> None:
        """Publish the live snapshot to the index engine when the engine serves another one (the
        engine was just configured, was emptied, or an ingest died between the two switches)."""
        publisher = index_publisher(self.settings)
        if publisher is not None and publisher.live_id() != snap_id:
            stage("publish")
            publisher.publish(snapshots_dir(self.index_dir) / snap_id)
            publisher.prune(self.settings.keep_snapshots)
            summary.engine = publisher.name

    def _live_meta(self) -> dict[str, Any] | None:
        """Meta of the live snapshot if it passes a quick check; a damaged one counts as absent,
        so the next ingest rebuilds and publishes a good snapshot (repair)."""
        current = read_current(self.index_dir)
        if current is None:
            return None
        try:
            return verify_snapshot(snapshots_dir(self.index_dir) / current, self.settings)
        except RagError as exc:
            log.warning("live snapshot %s is damaged, rebuilding: %s", current, exc)
            return None

    def _live_chunks(self) -> tuple[list[Chunk], list[dict[str, Any]]]:
        current = read_current(self.index_dir)
        try:
            return read_chunks(snapshots_dir(self.index_dir) / str(current) / CHUNKS_DB)
        except RagError:
            return [], []


def _numbered(chunks: list[Chunk]) -> list[Chunk]:
    return [Chunk(c.doc, c.start, c.end, c.text, c.section, c.page, i) for i, c in enumerate(chunks)]


def _copy_atomic(source: Path, dest: Path) -> None:
    """Copy under a hidden temporary name (an ingest scanning meanwhile skips it), then rename."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.parent / f".{dest.name}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        shutil.copyfile(source, tmp)
        tmp.replace(dest)
    finally:
        tmp.unlink(missing_ok=True)
