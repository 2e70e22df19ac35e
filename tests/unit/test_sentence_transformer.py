"""A tiny sentence-transformers model, built here, through the real ST path into FAISS and back."""
from __future__ import annotations

import json
from pathlib import Path

from ingest.pipeline import Ingestor
from rag.snapshots.store import SnapshotStore
from tests.conftest import NOTES
from tests.tinymodels import build_tiny_sentence_transformer


def test_tiny_st_model_builds_searches_and_guards_its_snapshot(make_settings, notes_copy: Path, tmp_path: Path) -> None:
    texts = [p.read_text(encoding="utf-8") for p in sorted(NOTES.iterdir())]
    model = build_tiny_sentence_transformer(tmp_path / "tiny-st", texts, dim=32)
    settings = make_settings(embedder="st", st_model=str(model))
    summary = Ingestor(settings, progress=False).sync()
    assert summary.published and summary.embedder == f"st:{model}"
    snap = SnapshotStore(settings.index_dir).open_live()
    meta = json.loads((snap.path / "meta.json").read_text())
    assert meta["embedder"] == {"id": f"st:{model}", "kind": "sentence-transformers", "dim": 32, "model": str(model),
                                "note": "RAG_EMBEDDER=st: st answered"}
    assert snap.dense.dim == 32 and len(snap.dense) == len(snap.chunks)
    # a chunk's own text comes back first from the FAISS index
    target = snap.chunks[len(snap.chunks) // 2]
    from ingest.pipeline import embed_input

    vector = snap.embedder.embed_documents([embed_input(target)])[0]
    ids, scores = snap.dense.search(vector, 3)
    assert ids[0] == target.id and scores[0] > 0.999
    # the cache spares re-embedding; switching embedders re-embeds instead of mixing vectors
    again = Ingestor(settings, progress=False).sync()
    assert again.embedded == 0 and not again.published
    offline = Ingestor(settings.model_copy(update={"embedder": "offline"}), progress=False).sync()
    assert offline.published and offline.embedder.startswith("offline") and offline.embedded > 0


def test_auto_falls_back_to_offline_quickly_without_the_models(make_settings, notes_copy: Path, tmp_path: Path) -> None:
    import time

    settings = make_settings(embedder="auto", st_model="no-such-org/no-such-model", e5_weights=tmp_path / "none.bin")
    started = time.perf_counter()
    summary = Ingestor(settings, progress=False).sync()
    assert summary.embedder.startswith("offline-lsa") and summary.published
    assert time.perf_counter() - started < 60
    note = SnapshotStore(settings.index_dir).open_live().meta["embedder"]["note"]
    assert note.startswith("RAG_EMBEDDER=auto: offline answered after st:") and "none.bin" in note
