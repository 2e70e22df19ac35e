"""The offline (LSA) embedder is refitted when the corpus it was fitted on is gone: a refit made
for a large note that is deleted again is recomputed, not kept silently."""
from __future__ import annotations

import logging
from pathlib import Path

from ingest.pipeline import Ingestor


def big_note(lines: int = 2500) -> str:
    topics = ["양자 컴퓨터", "광합성", "로마 제국", "화산 활동", "재즈 화성학", "해양 생물", "고대 천문학", "철도 역사"]
    return "\n".join(f"{topics[i % len(topics)]} 기록 {i}번: 이 문장은 노트와 상관없는 주제 {i * 7 % 113}에 대한 설명이다."
                     for i in range(lines))


def test_refit_for_a_deleted_note_is_recomputed(make_settings, notes_copy: Path, caplog) -> None:  # noqa: ANN001
    settings = make_settings()
    first = Ingestor(settings, progress=False).sync()
    (notes_copy / "huge.txt").write_text(big_note(), encoding="utf-8")
    grown = Ingestor(settings, progress=False).sync()
    assert grown.embedder != first.embedder  # refitted on the larger corpus
    (notes_copy / "huge.txt").unlink()
    with caplog.at_level(logging.INFO, logger="ingest.embedder_choice"):
        shrunk = Ingestor(settings, progress=False).sync()
    assert shrunk.published and shrunk.embedder == first.embedder  # the same fit as before the note came
    assert any("refitting the offline embedder: only" in r.getMessage() for r in caplog.records)
    # an unchanged corpus keeps its fit
    (notes_copy / "small.txt").write_text("작은 노트 하나를 더한다. 새 주제는 없다.\n", encoding="utf-8")
    assert Ingestor(settings, progress=False).sync().embedder == first.embedder


def test_a_saved_fit_is_copied_unless_its_file_changed(tmp_path: Path) -> None:
    import numpy as np

    from rag.embedders.offline import MODEL_FILE, OfflineEmbedder

    texts = [line for line in big_note(60).splitlines()]
    fitted = OfflineEmbedder.fit(texts, dim=16)
    fitted.save(tmp_path / "a")
    fitted.save(tmp_path / "b")  # a copy of a's file
    assert (tmp_path / "b" / MODEL_FILE).read_bytes() == (tmp_path / "a" / MODEL_FILE).read_bytes()
    other = OfflineEmbedder.fit(texts[:30], dim=8)
    other.save(tmp_path / "other")
    (tmp_path / "a" / MODEL_FILE).write_bytes((tmp_path / "other" / MODEL_FILE).read_bytes())  # a's file replaced
    fitted.save(tmp_path / "c")  # pickled anew, not copied from the changed file
    loaded = OfflineEmbedder.load(tmp_path / "c")
    assert loaded.dim == fitted.dim == 16
    assert np.allclose(loaded.embed_batch(texts[:3], "passage"), fitted.embed_batch(texts[:3], "passage"))
