"""The Milvus index backend against a real `milvus-lite server` on 127.0.0.1: what publishing
puts in the engine equals the file snapshot (chunks, documents, term statistics, sentences), the
sparse BM25 vectors reproduce bm25s's scores, dense search reproduces FAISS, search quality is
the same on the test set, damaged or missing collections fall back or answer 503, and a Milvus
Lite file refuses a second process with a clear error."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from ingest.pipeline import Ingestor
from rag.errors import IndexUnavailable, NoIndex
from rag.language.glossary import load_glossary
from rag.live import LiveSnapshot
from rag.milvus import engine
from rag.milvus.source import MilvusSnapshotSource
from rag.language.query import analyze
from rag.search import Searcher
from rag.settings import Settings
from rag.snapshots.store import SnapshotStore
from tests.conftest import NOTES, TESTSET
from tests.server import ROOT

pytestmark = pytest.mark.slow


def _questions() -> list[dict]:
    import json

    return [json.loads(line) for line in TESTSET.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def published(milvus_server, tmp_path_factory):  # noqa: ANN001, ANN201
    """(settings, file snapshot, Milvus snapshot) of one ingest of the real notes with the Milvus backend."""
    index = tmp_path_factory.mktemp("milvus-index")
    settings = Settings(notes_dir=NOTES, index_dir=index, embedder="offline", index_backend="milvus",  # type: ignore[call-arg]
                        milvus_uri=milvus_server.uri, milvus_prefix="pub", _env_file=None)
    summary = Ingestor(settings, progress=False).sync()
    assert summary.published and not summary.failed
    assert summary.engine == "milvus" and "also published to milvus" in summary.line()
    return settings, SnapshotStore(index).open_live(), MilvusSnapshotSource(settings).open_live()


def test_publish_puts_the_whole_snapshot_in_the_engine(published) -> None:  # noqa: ANN001
    settings, files, milvus = published
    source = MilvusSnapshotSource(settings)
    assert source.current_id() == files.id == milvus.id  # the alias names the snapshot CURRENT names
    assert source.snapshot_ids() == [files.id]
    assert milvus.meta == files.meta and milvus.documents == files.documents
    # the heading table travels with the documents: a worker names quoted sentences by section too
    assert milvus.sections == files.sections and files.sections.docs["000_6894a9c6475e8976.txt"].starts
    c = files.chunks[3]
    assert milvus.section_path(c.doc, c.start) == files.section_path(c.doc, c.start) != ()
    assert milvus.is_collection("000_6894a9c6475e8976.txt") and files.is_collection("000_6894a9c6475e8976.txt")
    assert len(milvus.chunks) == len(files.chunks) and list(milvus.chunks) == list(files.chunks)
    assert milvus.chunks[7] == files.chunks[7] and milvus.chunks[-1] == files.chunks[-1]
    with pytest.raises(IndexError):
        milvus.chunks[len(files.chunks)]
    for cid in range(0, len(files.chunks), 5):
        assert milvus.sentences.spans(cid) == files.sentences.spans(cid)
        assert milvus.sentences.get(cid) == files.sentences.get(cid)
    assert milvus.lexical.vocab == files.lexical.vocab
    assert all(milvus.lexical.doc_freq(t) == files.lexical.doc_freq(t) for t in files.lexical.vocab if t)
    some = list(files.lexical.vocab)[:5] + ["없는낱말"]
    assert milvus.lexical.known(some) == files.lexical.known(some)
    token = next(iter(files.lexical.vocab))
    assert [milvus.lexical.contains(token, c) for c in range(20)] == [files.lexical.contains(token, c) for c in range(20)]
    # the fitted LSA embedder came back from the engine, not from the ingest host's files
    assert milvus.embedder.id == files.embedder.id and Path(milvus.path) != Path(files.path)
    q = "트랜스포머의 어텐션"
    assert np.allclose(milvus.embedder.embed_query(q), files.embedder.embed_query(q), atol=1e-6)


def test_sparse_vectors_reproduce_bm25_and_dense_reproduces_faiss(published) -> None:  # noqa: ANN001
    _, files, milvus = published
    glossary = load_glossary()
    for item in _questions():
        query = analyze(item["question"], glossary)
        f_ids, f_scores = files.lexical.search(query.tokens, 50)
        m_ids, m_scores = milvus.lexical.search(query.tokens, 50)
        assert len(m_ids) == len(f_ids), item["question"]
        # score by rank agrees, so the ranking is bm25s's up to exact ties ...
        assert np.allclose(m_scores, f_scores, rtol=1e-4, atol=1e-4), item["question"]
        # ... and every row the engine returned scores in bm25s what the engine says
        if len(m_ids):
            full = np.asarray(files.lexical.bm25.get_scores(files.lexical.known(query.tokens)), dtype=np.float32)
            assert np.allclose(full[m_ids], m_scores, rtol=1e-4, atol=1e-4)
        vector = files.embedder.embed_query(query.dense_text)
        f_ids, f_scores = files.dense.search(vector, 50)
        m_ids, m_scores = milvus.dense.search(vector, 50)
        assert np.allclose(m_scores, f_scores, atol=1e-5)
        assert set(m_ids[:10].tolist()) == set(f_ids[:10].tolist()) or np.any(np.isclose(np.diff(f_scores), 0))
    assert milvus.lexical.search(["없는낱말"], 5)[0].size == 0
    assert milvus.dense.search(files.embedder.embed_query("x"), 0)[0].size == 0


def test_search_quality_is_the_same_on_the_test_set(published) -> None:  # noqa: ANN001
    """hit@5 and MRR@10 over the test set's relevant documents, FAISS vs Milvus (within 0.01)."""
    settings, files, milvus = published
    metrics = {}
    for name, snap in (("faiss", files), ("milvus", milvus)):
        searcher = Searcher(settings, lambda s=snap: s)
        hits, rr = [], []
        for item in _questions():
            if item["type"] == "unanswerable" or not item.get("source"):
                continue
            docs = [p.chunk.doc for p in searcher.run(item["question"], k=10).passages]
            hits.append(item["source"] in docs[:5])
            rank = next((i for i, d in enumerate(docs, 1) if d == item["source"]), None)
            rr.append(1 / rank if rank else 0.0)
        metrics[name] = (sum(hits) / len(hits), sum(rr) / len(rr), len(hits))
    assert metrics["faiss"][2] > 20
    assert abs(metrics["faiss"][0] - metrics["milvus"][0]) <= 0.01, metrics
    assert abs(metrics["faiss"][1] - metrics["milvus"][1]) <= 0.01, metrics


def test_damaged_or_missing_collections_fall_back_then_503(milvus_server, tmp_path, notes_copy) -> None:  # noqa: ANN001
    settings = Settings(notes_dir=notes_copy, index_dir=tmp_path / "index", embedder="offline",  # type: ignore[call-arg]
                        index_backend="milvus", milvus_uri=milvus_server.uri, milvus_prefix="dmg", _env_file=None)
    first = Ingestor(settings, progress=False).sync()
    (notes_copy / "added-note.md").write_text("# 추가 노트\n\n하이퍼파라미터 탐색은 학습률과 배치 크기를 함께 조정한다.\n",
                                              encoding="utf-8")
    second = Ingestor(settings, progress=False).sync()
    assert second.published and second.snapshot != first.snapshot
    live = LiveSnapshot.from_settings(settings)
    assert live.get().id == second.snapshot
    source = live.store
    client = source.client
    name = engine.collection_name("dmg", second.snapshot)
    for coll in (name, name + engine.META_SUFFIX):  # as a restarted engine has them: released
        client.release_collection(coll)
    assert LiveSnapshot.from_settings(settings).get().id == second.snapshot
    client.drop_collection(name + engine.META_SUFFIX)  # the live snapshot loses its meta and term statistics
    fresh = LiveSnapshot.from_settings(settings)
    assert fresh.get().id == first.snapshot  # the previous alias target serves
    assert second.snapshot in fresh.damaged and "missing" in fresh.damaged[second.snapshot]
    for coll in client.list_collections():
        if coll.startswith("dmg_"):
            client.drop_collection(coll)
    with pytest.raises(NoIndex, match="run `rag ingest`"):
        LiveSnapshot.from_settings(settings).get()
    # the next ingest repairs: everything is published again under a new alias target
    (notes_copy / "added-note.md").unlink()
    repaired = Ingestor(settings, progress=False).sync()
    assert repaired.published and LiveSnapshot.from_settings(settings).get().id == repaired.snapshot


def test_an_unreachable_server_and_a_busy_lite_file_are_clear_errors(tmp_path, make_settings) -> None:  # noqa: ANN001
    from tests.server import free_port

    down = make_settings(index_backend="milvus", milvus_uri=f"http://127.0.0.1:{free_port()}", milvus_timeout_s=2)
    with pytest.raises(IndexUnavailable, match="not reachable"):
        LiveSnapshot.from_settings(down).get()
    db = tmp_path / "lite.db"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from pymilvus import MilvusClient
        c = MilvusClient({str(db)!r}); c.list_collections(); print("open", flush=True); time.sleep(120)
        """)], stdout=subprocess.PIPE, cwd=ROOT, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        busy = make_settings(index_backend="milvus", milvus_uri=str(db))
        with pytest.raises(IndexUnavailable, match="only one process"):
            LiveSnapshot.from_settings(busy).get()
    finally:
        holder.kill()
        holder.wait()


def test_milvus_indexes_meet_the_search_contract(milvus_server) -> None:  # noqa: ANN001
    """The query half of the dense and lexical contracts (tests/contract/test_contract_indexes.py) over
    the Milvus implementations, beside the registered ones they stand in for: the engine's
    collections are built by the publisher, not by ``build``/``save``/``load``."""
    from ingest.milvus_publisher import bm25_weights, chunk_schema
    from rag.dense.faiss_index import FaissIndex
    from rag.lexical.bm25 import BM25Index
    from rag.milvus.indexes import MilvusDenseIndex, MilvusLexicalIndex, RowCache
    from tests.contract.test_contract_indexes import DIM, N, TOKENS, unit_vectors

    settings = Settings(milvus_uri=milvus_server.uri, _env_file=None)  # type: ignore[call-arg]
    client = engine.connect(settings)
    vectors = unit_vectors(N, DIM)
    token_lists = [TOKENS[i % len(TOKENS)] + [f"w{i % 7}"] for i in range(N)]
    bm25 = BM25Index.build(token_lists)
    weights, tokens, dfs = bm25_weights(bm25)
    name = "contract_s1"
    if client.has_collection(name):
        client.drop_collection(name)
    index = client.prepare_index_params()
    index.add_index("dense", index_type="FLAT", metric_type="IP")
    index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
    client.create_collection(name, schema=chunk_schema(client, DIM), index_params=index)
    client.insert(name, [{"id": i, "dense": vectors[i].tolist(),
                          "sparse": dict(zip(map(int, weights[i].indices), map(float, weights[i].data))),
                          "doc": "d", "title": None, "section": None, "page": None, "start": 0, "end": 1,
                          "text": "t", "section_tokens": "[]", "sentences": "[]"} for i in range(N)])
    client.flush(name)
    cache = RowCache(client, name)
    dense, faiss_index = MilvusDenseIndex(cache, DIM, N), FaissIndex.build(vectors)
    assert len(dense) == N and dense.dim == DIM
    ids, scores = dense.search(vectors[7], 5)
    assert ids.dtype == np.int64 and scores.dtype == np.float32 and len(ids) == len(scores) == 5
    assert ids[0] == 7 and scores[0] == pytest.approx(1.0, abs=1e-5)
    assert list(ids) == list(np.argsort(-(vectors @ vectors[7]), kind="stable")[:5])
    assert list(ids) == list(faiss_index.search(vectors[7], 5)[0])
    assert len(dense.search(vectors[0], N + 10)[0]) == N and len(dense.search(vectors[0], 0)[0]) == 0
    lexical = MilvusLexicalIndex(cache, tokens, dfs, N)
    assert len(lexical) == N
    for query in (["yolo"], ["객체", "탐지"], ["bert", "w3", "w3"], ["없음"], []):
        m_ids, m_scores = lexical.search(query, 10)
        b_ids, b_scores = bm25.search(query, 10)
        assert m_ids.dtype == np.int64 and m_scores.dtype == np.float32
        assert np.allclose(m_scores, b_scores, rtol=1e-5) and bool(np.all(m_scores > 0))
        full = np.asarray(bm25.bm25.get_scores(bm25.known(query)), dtype=np.float32) if bm25.known(query) else None
        assert full is None or np.allclose(full[m_ids], m_scores, rtol=1e-5)
    for token in ("yolo", "객체", "w0", "없음"):
        assert lexical.doc_freq(token) == bm25.doc_freq(token)
        assert [lexical.contains(token, i) for i in range(8)] == [bm25.contains(token, i) for i in range(8)]
    assert lexical.known(["yolo", "없음", "bert"]) == bm25.known(["yolo", "없음", "bert"]) == ["yolo", "bert"]
    client.drop_collection(name)
