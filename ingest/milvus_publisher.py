"""Publishing a written snapshot to Milvus: a new pair of collections per snapshot (see
`rag.milvus.engine`), filled, verified (row count, a probe query), then the live alias switched
in one call. A crash before the switch leaves the alias on the last good collection; the
unfinished collections are pruned later like old snapshots.

Rows come from the local snapshot directory the ingest service has just written (the writer
side keeps its files: the embedding cache, the next incremental ingest and a re-publish read
them), so Milvus holds a copy of exactly what the file store holds.
"""
from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
from scipy import sparse

from rag.dense.registry import dense_class_for
from rag.embedders.registry import EMBEDDER_DIR
from rag.errors import IndexUnavailable, SnapshotDamaged
from rag.lexical.registry import lexical_class_for
from rag.milvus import engine
from rag.snapshots.format import CHUNKS_DB, read_chunks, read_meta

if TYPE_CHECKING:
    from pymilvus import MilvusClient

log = logging.getLogger(__name__)
BATCH = 500  # rows per insert call (a few MB of request at most)


def chunk_schema(client: "MilvusClient", dim: int) -> Any:
    from pymilvus import DataType

    s = client.create_schema(auto_id=False, enable_dynamic_field=False)
    s.add_field("id", DataType.INT64, is_primary=True)
    s.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
    s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    s.add_field("doc", DataType.VARCHAR, max_length=engine.TEXT_MAX)
    s.add_field("title", DataType.VARCHAR, max_length=engine.TEXT_MAX, nullable=True)
    s.add_field("section", DataType.VARCHAR, max_length=engine.TEXT_MAX, nullable=True)
    s.add_field("page", DataType.INT64, nullable=True)
    s.add_field("start", DataType.INT64)
    s.add_field("end", DataType.INT64)
    s.add_field("text", DataType.VARCHAR, max_length=engine.TEXT_MAX)
    s.add_field("section_tokens", DataType.VARCHAR, max_length=engine.TEXT_MAX)
    s.add_field("sentences", DataType.VARCHAR, max_length=engine.TEXT_MAX)
    return s


def blob_schema(client: "MilvusClient") -> Any:
    from pymilvus import DataType

    s = client.create_schema(auto_id=False, enable_dynamic_field=False)
    s.add_field("pk", DataType.VARCHAR, is_primary=True, max_length=512)
    s.add_field("key", DataType.VARCHAR, max_length=512)
    s.add_field("part", DataType.INT64)
    s.add_field("value", DataType.VARCHAR, max_length=engine.TEXT_MAX)
    s.add_field("vector", DataType.FLOAT_VECTOR, dim=engine.BLOB_DIM)
    return s


class MilvusPublisher(engine.EngineClient):
    """``publish(snapshot_dir)`` then ``prune(keep)``; ``live_id()`` says what the alias names."""

    name = "milvus"

    def live_id(self) -> str | None:
        from pymilvus.exceptions import MilvusException

        try:
            name = self.client.describe_alias(engine.alias_name(self.prefix))["collection_name"]
        except MilvusException:
            return None
        return engine.snapshot_id_of(self.prefix, str(name))

    def publish(self, snapshot_dir: Path, progress: Callable[[int], None] | None = None) -> None:
        """Copy the snapshot in ``snapshot_dir`` into new collections, verify them and switch the
        alias. Raises IndexUnavailable when the engine fails (nothing switched)."""
        from pymilvus.exceptions import MilvusException

        try:
            self._publish(Path(snapshot_dir), progress or (lambda _n: None))
        except MilvusException as exc:
            raise IndexUnavailable(f"publishing to Milvus at {self.settings.milvus_uri} failed; the live "
                                   f"alias is unchanged ({exc.message})") from exc

    def _publish(self, path: Path, progress: Callable[[int], None]) -> None:
        meta = read_meta(path)
        snap_id = str(meta["id"])
        chunks, documents = read_chunks(path / CHUNKS_DB)
        dense = dense_class_for(meta).load(path)
        lexical = lexical_class_for(meta).load(path, len(chunks))
        vectors = dense.index.reconstruct_n(0, len(dense)) if len(dense) else np.zeros((0, dense.dim), np.float32)
        weights, tokens, doc_freqs = bm25_weights(lexical)
        sentences = _sentence_rows(path / CHUNKS_DB)
        titles = {d["doc"]: d.get("title") for d in documents}
        name = engine.collection_name(self.prefix, snap_id)
        blobs = name + engine.META_SUFFIX
        client = self.client
        for existing in (name, blobs):  # a half-written pair of an earlier try of this same snapshot
            if client.has_collection(existing):
                client.drop_collection(existing)
        index = client.prepare_index_params()
        index.add_index("dense", index_type="FLAT", metric_type="IP")
        index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
        # Strong: a worker that follows the alias right after the switch reads every row (the
        # default, Bounded, may serve a search before the newest rows are visible to it)
        client.create_collection(name, schema=chunk_schema(client, dense.dim), index_params=index,
                                 consistency_level="Strong")
        for start in range(0, len(chunks), BATCH):
            rows = []
            for c in chunks[start:start + BATCH]:
                cols = weights.indices[weights.indptr[c.id]:weights.indptr[c.id + 1]]
                vals = weights.data[weights.indptr[c.id]:weights.indptr[c.id + 1]]
                section_tokens, sents = sentences.get(c.id, ("[]", "[]"))
                rows.append({"id": c.id, "dense": vectors[c.id].tolist(),
                             "sparse": {int(j): float(v) for j, v in zip(cols, vals) if v > 0},
                             "doc": c.doc, "title": titles.get(c.doc), "section": c.section, "page": c.page,
                             "start": c.start, "end": c.end, "text": c.text,
                             "section_tokens": section_tokens, "sentences": sents})
            client.insert(name, rows)
            progress(len(rows))
        client.flush(name)
        blob_index = client.prepare_index_params()
        blob_index.add_index("vector", index_type="FLAT", metric_type="L2")
        client.create_collection(blobs, schema=blob_schema(client), index_params=blob_index,
                                 consistency_level="Strong")
        # each document row carries its heading table ("sections"), so workers name quoted sentences by section
        rows = [*engine.json_rows("documents", documents), *engine.json_rows("terms", {"tokens": tokens, "df": doc_freqs})]
        stored = path / EMBEDDER_DIR
        if stored.is_dir():
            for f in sorted(p for p in stored.rglob("*") if p.is_file()):
                rows += engine.blob_rows(f.relative_to(path).as_posix(), f.read_bytes())
        for start in range(0, len(rows), 64):
            client.insert(blobs, rows[start:start + 64])
        client.insert(blobs, engine.json_rows("meta", meta))  # last: a snapshot without it is unfinished
        client.flush(blobs)
        self._verify(name, snap_id, len(chunks), vectors)
        self.before_switch()
        self._switch(name)
        log.info("published snapshot %s to Milvus (%d chunks, alias %s)", snap_id, len(chunks),
                 engine.alias_name(self.prefix))

    def _verify(self, name: str, snap_id: str, n: int, vectors: np.ndarray) -> None:
        """Row count, and a probe: the first chunk's own vector finds a row scoring as high."""
        rows = int(self.client.query(name, filter="", output_fields=["count(*)"])[0]["count(*)"])
        if rows != n:
            raise SnapshotDamaged(f"snapshot {snap_id}: {rows} rows reached Milvus, {n} were written; "
                                  "the live alias is unchanged")
        if n:
            hits = self.client.search(name, data=[vectors[0].tolist()], anns_field="dense", limit=1,
                                      search_params={"metric_type": "IP"}, output_fields=["doc"])
            own = float(np.dot(vectors[0], vectors[0]))
            if not hits or not hits[0] or float(hits[0][0]["distance"]) < own - 1e-3:
                raise SnapshotDamaged(f"snapshot {snap_id}: the probe query found nothing in {name}; "
                                      "the live alias is unchanged")

    def before_switch(self) -> None:
        """Called once the collections are complete and verified, before the alias moves (a
        point for fault-injection tests to stop the process at)."""

    def _switch(self, name: str) -> None:
        from pymilvus.exceptions import MilvusException

        alias = engine.alias_name(self.prefix)
        try:
            self.client.describe_alias(alias)
        except MilvusException:
            self.client.create_alias(name, alias)
            return
        self.client.alter_alias(name, alias)

    def prune(self, keep: int) -> list[str]:
        """Drop all but the newest ``keep`` snapshots' collections, never the alias's; also blob
        collections whose chunks collection is gone. Returns the dropped snapshot ids."""
        live = self.live_id()
        names = set(self.client.list_collections())
        ids = sorted(i for i in (engine.snapshot_id_of(self.prefix, n) for n in names) if i)
        dropped = [i for i in ids[: max(0, len(ids) - keep)] if i != live]
        for snap_id in dropped:
            name = engine.collection_name(self.prefix, snap_id)
            for coll in (name, name + engine.META_SUFFIX):
                if coll in names:
                    self.client.drop_collection(coll)
        kept = {engine.collection_name(self.prefix, i) for i in ids if i not in dropped}
        for coll in names:
            if coll.startswith(f"{self.prefix}_s") and coll.endswith(engine.META_SUFFIX) \
                    and coll[: -len(engine.META_SUFFIX)] not in kept:
                self.client.drop_collection(coll)
        return dropped


def bm25_weights(lexical: Any) -> tuple[sparse.csr_matrix, list[str], list[int]]:
    """Each row's BM25 term weights (chunks x terms, CSR), the terms by id and their document
    frequencies, from a bm25s index: bm25s stores the precomputed score of every (term, chunk)
    pair as a term-major CSC matrix, and a query's score is the sum over its tokens."""
    scores = lexical.bm25.scores
    vocab: dict[str, int] = lexical.vocab
    n_terms = len(scores["indptr"]) - 1
    matrix = sparse.csc_matrix((scores["data"], scores["indices"], scores["indptr"]),
                               shape=(int(scores["num_docs"]), n_terms)).tocsr()
    tokens = [""] * max(n_terms, max(vocab.values(), default=-1) + 1)  # bm25s adds "" past the matrix's terms
    for token, j in vocab.items():
        tokens[j] = token
    doc_freqs = np.diff(scores["indptr"]).astype(int).tolist()
    return matrix, tokens, doc_freqs + [0] * (len(tokens) - len(doc_freqs))


def _sentence_rows(db: Path) -> dict[int, tuple[str, str]]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {int(r[0]): (r[1], r[2]) for r in con.execute("SELECT chunk_id, section_tokens, sentences FROM sentences")}
    finally:
        con.close()
