"""The ingest flow end to end on real files: counts, incrementality, bad input, snapshots."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from ingest.pipeline import Ingestor
from rag.snapshots.format import CHUNKS_DB, list_snapshot_ids, read_current, snapshots_dir
from rag.snapshots.store import SnapshotStore
from tests.pdfs import write_text_pdf


def _ingest(settings, directory: Path | None = None):
    return Ingestor(settings, progress=False).sync(directory)


def test_full_then_unchanged_then_one_file_changed(make_settings, notes_copy: Path) -> None:
    settings = make_settings()
    first = _ingest(settings)
    assert (first.added, first.updated, first.removed, first.unchanged) == (5, 0, 0, 0)
    assert first.published and first.chunks > 50 and 0.9 * first.chunks <= first.embedded <= first.chunks
    assert first.embedder.startswith("offline-lsa")

    second = _ingest(settings)
    assert second.embedded == 0 and not second.published
    assert second.unchanged == 5 and second.snapshot == first.snapshot

    target = notes_copy / "004_e1aae2a8d735c15c.txt"
    target.write_text(target.read_text(encoding="utf-8") + "\n\n새로 추가한 문단: 실험 기록은 다음 실험을 위한 자산이다.\n", encoding="utf-8")
    third = _ingest(settings)
    assert (third.added, third.updated, third.unchanged) == (0, 1, 4)
    assert third.published and third.snapshot != first.snapshot
    assert 1 <= third.embedded <= 3  # only the changed file's new chunks


def test_removed_and_renamed_files(make_settings, notes_copy: Path) -> None:
    settings = make_settings()
    _ingest(settings)
    (notes_copy / "001_ad38356643d53f32.txt").unlink()
    removed = _ingest(settings)
    assert removed.removed == 1 and removed.published
    snap = SnapshotStore(settings.index_dir).open_live()
    assert all(c.doc != "001_ad38356643d53f32.txt" for c in snap.chunks)

    (notes_copy / "002_94189a8f86b677c1.txt").rename(notes_copy / "renamed.txt")
    renamed = _ingest(settings)
    assert renamed.added == 1 and renamed.removed == 1 and renamed.embedded == 0
    snap = SnapshotStore(settings.index_dir).open_live()
    assert any(c.doc == "renamed.txt" for c in snap.chunks)


def test_bad_files_are_reported_and_the_rest_ingested(make_settings, notes_copy: Path) -> None:
    settings = make_settings()
    _ingest(settings)
    live_before = read_current(settings.index_dir)
    (notes_copy / "broken.pdf").write_bytes(b"%PDF-1.7\ngarbage")
    (notes_copy / "binary.txt").write_bytes(b"\x00\x01\x02\xff" * 100)
    (notes_copy / "empty.md").write_bytes(b"")
    (notes_copy / "slides.pptx").write_bytes(b"PK\x03\x04")  # a truncated ZIP
    (notes_copy / "sheet.xlsx").write_bytes(b"PK\x03\x04")
    write_text_pdf(notes_copy / "good.pdf", [["Page one mentions Whisper speech recognition."], ["Page two."]])
    summary = _ingest(settings)
    failed = {f["path"]: f["error"] for f in summary.failed}
    assert set(failed) == {"broken.pdf", "binary.txt", "empty.md", "slides.pptx", "sheet.xlsx"}
    assert "PDF" in failed["broken.pdf"] and "binary" in failed["binary.txt"]
    assert "empty" in failed["empty.md"] and "extension" in failed["sheet.xlsx"]
    assert "PowerPoint" in failed["slides.pptx"] and "truncated ZIP" in failed["slides.pptx"]
    assert summary.added == 1 and summary.published and summary.snapshot != live_before
    snap = SnapshotStore(settings.index_dir).open_live()
    pages = {c.page for c in snap.chunks if c.doc == "good.pdf"}
    assert pages == {1}  # page two is too short to be a chunk


def test_nothing_valid_publishes_nothing(make_settings, tmp_path: Path) -> None:
    settings = make_settings()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.txt").write_bytes(b"")
    summary = _ingest(settings, bad)
    assert summary.failed and not summary.published and summary.snapshot is None
    assert not (settings.index_dir / "CURRENT").exists()
    missing = _ingest(settings, tmp_path / "does-not-exist")
    assert missing.failed[0]["error"] == "path does not exist" and not missing.published


def test_snapshot_contents_and_pruning(make_settings, notes_copy: Path) -> None:
    settings = make_settings(keep_snapshots=2)
    for i in range(4):
        (notes_copy / "extra.md").write_text(f"# 추가 노트 {i}\n\n반복 실험 {i}번째 기록이다. 모델 성능을 비교했다.\n", encoding="utf-8")
        _ingest(settings)
    ids = list_snapshot_ids(settings.index_dir)
    assert len(ids) == 2 and read_current(settings.index_dir) == ids[-1]
    path = snapshots_dir(settings.index_dir) / ids[-1]
    meta = json.loads((path / "meta.json").read_text())
    assert meta["embedder"]["kind"] == "offline" and meta["embedder"]["dim"] > 16
    con = sqlite3.connect(path / CHUNKS_DB)
    (n,) = con.execute("select count(*) from chunks").fetchone()
    docs = {row[0]: row for row in con.execute("select doc, title, type, pages, chunks from documents")}
    assert n == meta["chunks"] and docs["extra.md"][2] == "md" and docs["extra.md"][1] == "추가 노트 3"
    assert not list((settings.index_dir / "snapshots").glob(".tmp-*"))
