"""Contract tests of the dense and lexical index registries: one test body per registry, run
over every registered implementation (as txtai runs one body over each ANN backend). A new
backend is added to a registry and must pass these unchanged."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rag.dense import registry as dense_registry
from rag.errors import SnapshotDamaged
from rag.lexical import registry as lexical_registry
from rag.settings import RetrieverName
from tests.conftest import ROOT

N, DIM = 60, 24
TOKENS = [["yolo", "객체", "탐지"], ["bert", "언어", "모델"], [], ["객체", "객체", "분할"], ["yolo", "버전"]]


def meta_for(n: int, dim: int, dense: str | None = None, lexical: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"id": "snap", "chunks": n, "embedder": {"dim": dim}}
    if dense:
        meta["dense"] = {"backend": dense}
    if lexical:
        meta["lexical"] = {"backend": lexical}
    return meta


def unit_vectors(n: int, dim: int, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def garble_each_file(directory: Path, check: Any) -> int:
    """Overwrite each index file in turn with garbage of its own size: ``check`` must raise
    SnapshotDamaged every time. Returns how many files were tried."""
    files = [p for p in sorted(directory.rglob("*")) if p.is_file()]
    for path in files:
        original = path.read_bytes()
        path.write_bytes(bytes(range(256)) * (len(original) // 256) + b"\xff" * (len(original) % 256))
        with pytest.raises(SnapshotDamaged):
            check()
        path.write_bytes(original)
    return len(files)


@pytest.mark.parametrize("name", list(dense_registry.BACKENDS))
def test_dense_index_contract(name: str, tmp_path: Path) -> None:
    cls = dense_registry.BACKENDS[name]
    assert cls.name == name
    vectors = unit_vectors(N, DIM)
    index = cls.build(vectors)
    assert len(index) == N and index.dim == DIM
    ids, scores = index.search(vectors[7], 5)
    assert ids.dtype == np.int64 and scores.dtype == np.float32 and len(ids) == len(scores) == 5
    assert ids[0] == 7 and scores[0] == pytest.approx(1.0, abs=max(1e-5, cls.score_error))
    assert list(scores) == sorted(scores, reverse=True)
    exact = np.argsort(-(vectors @ vectors[7]), kind="stable")[:5]
    assert list(ids) == list(exact)
    assert len(index.search(vectors[0], N + 10)[0]) == N and len(index.search(vectors[0], 0)[0]) == 0
    with pytest.raises(ValueError):
        cls.build(vectors[0])  # one vector is not a matrix

    index.save(tmp_path)
    meta = meta_for(N, DIM, dense=name)
    cls.verify(tmp_path, meta)
    loaded = cls.load(tmp_path)
    assert len(loaded) == N and loaded.dim == DIM
    for q in (vectors[3], unit_vectors(1, DIM, seed=9)[0]):
        assert [a.tolist() for a in loaded.search(q, 10)] == [a.tolist() for a in index.search(q, 10)]
    assert dense_registry.dense_class_for(meta) is cls

    with pytest.raises(SnapshotDamaged):  # a meta promising more vectors than the files hold
        cls.verify(tmp_path, meta_for(N * 100, DIM))
    assert garble_each_file(tmp_path, lambda: (cls.verify(tmp_path, meta), cls.load(tmp_path))) >= 1
    for path in [p for p in tmp_path.rglob("*") if p.is_file()]:
        path.unlink()
    with pytest.raises(SnapshotDamaged):
        cls.verify(tmp_path, meta)
    with pytest.raises(SnapshotDamaged):
        cls.load(tmp_path)


@pytest.mark.parametrize("name", list(lexical_registry.BACKENDS))
def test_lexical_index_contract(name: str, tmp_path: Path) -> None:
    cls = lexical_registry.BACKENDS[name]
    assert cls.name == name
    index = cls.build(TOKENS)
    assert len(index) == len(TOKENS)  # the empty chunk keeps its row
    ids, scores = index.search(["객체", "없는말"], 10)
    assert ids.dtype == np.int64 and scores.dtype == np.float32
    assert sorted(ids.tolist()) == [0, 3] and ids[0] == 3  # term frequency 2 ranks first
    assert list(scores) == sorted(scores, reverse=True) and all(scores > 0)
    assert len(index.search(["없는말"], 10)[0]) == 0 and len(index.search([], 10)[0]) == 0
    assert index.search(["yolo"], 1)[0].tolist() in ([0], [4])
    assert index.doc_freq("객체") == 2 and index.doc_freq("yolo") == 2 and index.doc_freq("없는말") == 0
    assert index.contains("bert", 1) and not index.contains("bert", 0) and not index.contains("없는말", 1)
    assert index.known(["모델", "없는말", "yolo"]) == ["모델", "yolo"]
    # the empty string is no term (bm25s keeps one as padding past its matrix)
    assert index.doc_freq("") == 0 and not index.contains("", 0) and index.known([""]) == []
    assert len(index.search([""], 10)[0]) == 0

    index.save(tmp_path)
    meta = meta_for(len(TOKENS), DIM, lexical=name)
    cls.verify(tmp_path, meta)
    loaded = cls.load(tmp_path, len(TOKENS))
    assert len(loaded) == len(TOKENS) and loaded.doc_freq("객체") == 2 and loaded.contains("버전", 4)
    assert [a.tolist() for a in loaded.search(["객체", "yolo"], 10)] == [a.tolist() for a in index.search(["객체", "yolo"], 10)]
    assert lexical_registry.lexical_class_for(meta) is cls

    assert garble_each_file(tmp_path, lambda: (cls.verify(tmp_path, meta), cls.load(tmp_path, len(TOKENS)))) >= 1
    for path in [p for p in tmp_path.rglob("*")]:
        if path.is_file():
            path.unlink()
    for path in sorted(tmp_path.rglob("*"), reverse=True):
        path.rmdir()
    with pytest.raises(SnapshotDamaged):
        cls.verify(tmp_path, meta)
    with pytest.raises(SnapshotDamaged):
        cls.load(tmp_path, len(TOKENS))


def test_a_snapshot_before_backends_were_recorded_reads_as_faiss_and_bm25() -> None:
    assert dense_registry.dense_class_for(meta_for(1, 1)).name == "faiss"
    assert lexical_registry.lexical_class_for(meta_for(1, 1)).name == "bm25"
    with pytest.raises(SnapshotDamaged, match="unknown dense index backend 'annoy'"):
        dense_registry.dense_class_for(meta_for(1, 1, dense="annoy"))
    with pytest.raises(SnapshotDamaged, match="unknown lexical index backend 'lucene'"):
        lexical_registry.lexical_class_for(meta_for(1, 1, lexical="lucene"))


def test_importing_the_faiss_backend_does_no_work_until_it_is_used() -> None:
    """FAISS's thread count is set on first use, not on import."""
    code = ("import faiss; before = faiss.omp_get_max_threads(); import rag.dense.faiss_index as f, numpy as np;"
            "imported = faiss.omp_get_max_threads(); f.FaissIndex.build(np.eye(4, dtype=np.float32));"
            "print(before, imported, faiss.omp_get_max_threads())")
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["2", "2", "1"]


def test_the_size_threshold_chooses_the_approximate_index_and_its_snapshot_reads_back(make_settings,
                                                                                       tmp_path: Path) -> None:
    """Above RAG_DENSE_APPROXIMATE_ABOVE the ingest builds the IVF index; the snapshot's meta names
    it, the store opens it with its vectors memory-mapped, and a search goes through it."""
    from ingest.pipeline import Ingestor
    from rag.dense.ivf_index import IvfIndex
    from rag.search import Searcher
    from rag.snapshots.store import SnapshotStore

    assert dense_registry.dense_class_for_size(10, 10).name == "faiss"
    assert dense_registry.dense_class_for_size(11, 10) is IvfIndex
    notes = tmp_path / "notes"
    notes.mkdir()
    sentences = ["YOLO는 한 번의 추론으로 객체를 탐지한다.", "BERT는 양방향 언어 모델이다.", "경사 하강법은 손실을 줄인다.",
                 "드롭아웃은 과적합을 막는다.", "합성곱 신경망은 이미지를 다룬다."]
    for i in range(4):
        (notes / f"n{i}.md").write_text("\n\n".join(f"# 주제 {i}-{j}\n\n" + " ".join(sentences[(i + j) % 5:] * 3)
                                                    for j in range(6)), encoding="utf-8")
    settings = make_settings(dense_approximate_above=5)
    built = Ingestor(settings, progress=False).sync()
    assert built.chunks > 5
    snap = SnapshotStore(settings.index_dir, settings).open_live()
    assert snap.meta["dense"] == {"backend": "faiss-ivf"} and isinstance(snap.dense, IvfIndex)
    assert len(snap.dense) == len(snap.chunks) == built.chunks
    passages = Searcher(settings, lambda: snap).retrieve("BERT 언어 모델", retriever=RetrieverName.DENSE)[1]
    assert passages and all(0 <= p.chunk.id < len(snap.chunks) for p in passages)

    exact = make_settings(index_dir=tmp_path / "exact", dense_approximate_above=10_000)
    Ingestor(exact, progress=False).sync()
    assert SnapshotStore(exact.index_dir, exact).open_live().meta["dense"] == {"backend": "faiss"}


def test_the_ivf_index_finds_the_exact_neighbours_of_clustered_vectors_with_several_cells(tmp_path: Path) -> None:
    """Enough vectors for several IVF cells (so the search is approximate): recall@10 against exact
    search stays high on clustered data, and a loaded index answers as the built one did."""
    from rag.dense.ivf_index import IvfIndex, nlist_for

    rng = np.random.default_rng(1)
    centres = unit_vectors(40, DIM, seed=2)
    vectors = centres[rng.integers(0, 40, 20000)] + 0.15 * rng.normal(size=(20000, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = IvfIndex.build(vectors)
    assert nlist_for(20000) == 512 and index.index.nlist == 512 and index.index.nprobe == 16
    queries = vectors[rng.integers(0, 20000, 50)] + 0.05 * rng.normal(size=(50, DIM)).astype(np.float32)
    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    found = [index.search(q, 10)[0] for q in queries]
    recall = np.mean([len(set(f.tolist()) & set(e.tolist())) / 10 for f, e in zip(found, exact)])
    assert recall >= 0.9, recall
    index.save(tmp_path)
    loaded = IvfIndex.load(tmp_path)
    assert [loaded.search(q, 10)[0].tolist() for q in queries[:5]] == [f.tolist() for f in found[:5]]
