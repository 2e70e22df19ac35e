"""One snapshot opened for queries: chunks, documents, the dense and lexical indexes (through
their registries), the embedder that built it and its sentence table."""
from __future__ import annotations

import bisect
import sqlite3
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Sequence

from rag.dense.base import DenseIndex
from rag.dense.registry import dense_class_for
from rag.embedders.base import Embedder
from rag.embedders.registry import load_snapshot_embedder
from rag.errors import RagError, SnapshotDamaged
from rag.lexical.base import LexicalIndex
from rag.lexical.registry import lexical_class_for
from rag.settings import Settings
from rag.snapshots.chunk_table import ChunkTable
from rag.snapshots.format import CHUNKS_DB, read_documents, read_meta
from rag.snapshots.sentence_vectors import OnDemandSentenceVectors, SentenceVectorSource, StoredSentenceVectors
from rag.snapshots.sections import SectionTable
from rag.snapshots.sentences import SentenceTable
from rag.snapshots.verify import check_files
from rag.types import Chunk


@dataclass
class Snapshot:
    """Everything a query needs; immutable once opened. Nothing per chunk is held in Python
    objects: the chunk and sentence tables are read from SQLite on demand, the index files and
    sentence vectors are memory-mapped (shared by the workers of one host)."""

    id: str
    path: Path
    meta: dict[str, Any]
    chunks: Sequence[Chunk]  # by id; read on demand from the chunk table (rag.snapshots.chunk_table)
    documents: list[dict[str, Any]]
    dense: DenseIndex
    lexical: LexicalIndex
    embedder: Embedder
    sentences: SentenceTable
    stats: dict[str, Any] = field(default_factory=dict)
    sentence_vectors: SentenceVectorSource | None = None  # None: embedded on demand (rag.snapshots.sentence_vectors)

    sections: SectionTable = field(default_factory=SectionTable)

    def __post_init__(self) -> None:
        if self.sentence_vectors is None:
            self.sentence_vectors = OnDemandSentenceVectors(self.embedder)
        # the heading table travels with the document rows (files and Milvus alike); it is
        # kept here, not in ``documents``, which /documents lists as they are
        if any("sections" in d for d in self.documents):
            self.sections = SectionTable.from_documents(self.documents)
            self.documents = [{k: v for k, v in d.items() if k != "sections"} for d in self.documents]

    def section_path(self, doc: str, offset: int) -> tuple[str, ...]:
        """Headings of the innermost section of ``doc`` holding character ``offset`` (an offset
        into the document as loaded, like ``Chunk.start``), outermost first: ``("보상 함수",
        "할인율")``; ``()`` before the first heading or for an unknown document."""
        return self.sections.path(doc, offset)

    def same_section(self, doc: str, offsets: list[int]) -> bool:
        """Whether the offsets of ``doc`` (e.g. ``chunk.start + sentence.start`` of sentences to be
        quoted together) all lie in one section."""
        return self.sections.same_section(doc, offsets)

    def section_starts(self, chunk: Chunk) -> tuple[int, ...]:
        """Offsets in ``chunk.text`` where a section starts (headings after its first character)."""
        d = self.sections.of(chunk.doc)
        lo, hi = bisect.bisect_right(d.starts, chunk.start), bisect.bisect_left(d.starts, chunk.end)
        return tuple(s - chunk.start for s in d.starts[lo:hi])

    def is_collection(self, doc: str) -> bool:
        """Whether ``doc`` is a collection of posts (citations then lead with the section)."""
        return self.sections.is_collection(doc)

    @cached_property
    def titles(self) -> dict[str, str | None]:
        """Document id -> title, as stored in the documents table."""
        return {d["doc"]: d.get("title") for d in self.documents}

    def title(self, doc: str) -> str | None:
        return self.titles.get(doc)

    @classmethod
    def open(cls, path: Path, embedder: Embedder | None = None, settings: Settings | None = None) -> "Snapshot":
        """Load a snapshot; any damage (a missing, truncated or garbled file) is SnapshotDamaged.
        ``embedder`` is reused when its id is the snapshot's (no second model load); otherwise
        the snapshot's own is loaded with ``settings`` (default: from the environment)."""
        try:
            return cls._open(path, embedder, settings)
        except RagError:
            raise
        except Exception as exc:  # whatever a garbled file makes a library raise
            raise SnapshotDamaged(f"snapshot {path.name} is unreadable ({type(exc).__name__}: {exc})") from exc

    @classmethod
    def _open(cls, path: Path, embedder: Embedder | None, settings: Settings | None) -> "Snapshot":
        meta = read_meta(path)
        check_files(path, meta)
        chunks, documents = ChunkTable(path / CHUNKS_DB), read_documents(path / CHUNKS_DB)
        dense = dense_class_for(meta).load(path)
        lexical = lexical_class_for(meta).load(path, len(chunks))
        if len(dense) != len(chunks) or int(meta.get("chunks", -1)) != len(chunks):
            raise SnapshotDamaged(
                f"snapshot {path.name}: {len(chunks)} chunks but {len(dense)} vectors, meta says {meta.get('chunks')}"
            )
        if embedder is None or embedder.id != meta["embedder"]["id"]:
            try:
                embedder = load_snapshot_embedder(meta, path, settings or Settings())
            except RagError:
                raise
            except Exception as exc:
                raise SnapshotDamaged(f"snapshot {path.name}: embedder is unreadable ({exc})") from exc
        if embedder.dim != dense.dim:
            raise SnapshotDamaged(f"snapshot {path.name}: index dim {dense.dim} != embedder dim {embedder.dim}")
        try:
            sentences = SentenceTable(path / CHUNKS_DB)
        except sqlite3.DatabaseError as exc:
            raise SnapshotDamaged(f"snapshot {path.name}: {CHUNKS_DB} has no sentence table ({exc})") from exc
        vectors = StoredSentenceVectors.load(path, len(chunks), embedder.dim)
        return cls(path.name, path, meta, chunks, documents, dense, lexical, embedder, sentences,
                   sentence_vectors=vectors)
