"""Issue 12, case 7: a write parses only the files that changed.

Before: every write re-parsed every document (after one 20,000-page PDF, each later write took
37-58 s under the writer lock). The parsed text is now cached by the file's content hash in the
index folder. The speed itself is measured by ``python -m bench.write_bench``; here we count
parses, through the real loaders, on a real PDF.
"""
from __future__ import annotations

from pathlib import Path

import pytest

import ingest.load_cache as load_cache
from ingest.load_cache import LoadCache, text_key
from ingest.pipeline import Ingestor
from ingest.splitting import Chunker
from rag.snapshots.store import SnapshotStore
from tests.pdfs import write_text_pdf


@pytest.fixture
def splits(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every document the real splitter splits, by id."""
    seen: list[str] = []
    real = Chunker.split

    def counting(self: Chunker, doc, boilerplate):  # noqa: ANN001, ANN202
        seen.append(doc.doc_id)
        return real(self, doc, boilerplate)

    monkeypatch.setattr(Chunker, "split", counting)
    return seen


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every document the real loader parses, by id."""
    seen: list[str] = []
    real = load_cache.load_bytes

    def counting(doc_id: str, data: bytes, kind: str, **options):  # noqa: ANN202, ANN003
        seen.append(doc_id)
        return real(doc_id, data, kind, **options)

    monkeypatch.setattr(load_cache, "load_bytes", counting)
    return seen


def _spans(settings) -> list[tuple]:
    return [(c.doc, c.start, c.end, c.section, c.page, c.text)
            for c in SnapshotStore(settings.index_dir).open_live().chunks]


def test_later_writes_parse_only_what_changed(make_settings, notes_copy: Path, parses: list[str],
                                              splits: list[str], tmp_path: Path) -> None:
    words = ["gradient", "momentum", "dropout", "attention", "embedding", "tokenizer", "encoder", "decoder"]
    pages = [[f"Lecture {i}: the {words[i % 8]} and the {words[(i * 3) % 8]} of section {chr(65 + i % 26)}."]
             for i in range(1, 41)]  # pages that differ: no running header, no scan needing OCR
    write_text_pdf(notes_copy / "book.pdf", pages)
    settings = make_settings()
    first = Ingestor(settings, progress=False).sync()
    assert first.published and first.parsed == 6 and parses.count("book.pdf") == 1

    (notes_copy / "new.md").write_text("# 새 노트\n\n학습률 스케줄러는 학습 도중 학습률을 바꾼다.\n", encoding="utf-8")
    second = Ingestor(settings, progress=False).sync()
    assert second.published and second.added == 1 and second.parsed == 1
    assert parses.count("book.pdf") == 1 and parses.count("new.md") == 1
    assert splits.count("book.pdf") == 1 and splits.count("new.md") == 1  # the PDF's chunks were reused
    # the cached text is the text: same chunks as a parse would give
    chunks = [c for c in SnapshotStore(settings.index_dir).open_live().chunks if c.doc == "book.pdf"]
    assert {c.page for c in chunks} == set(range(1, 41)) and "Lecture 17:" in " ".join(c.text for c in chunks)

    write_text_pdf(notes_copy / "book.pdf", pages[:10])  # the PDF itself changed: parsed again, once
    third = Ingestor(settings, progress=False).sync()
    assert third.updated == 1 and third.parsed == 1 and parses.count("book.pdf") == 2

    fresh = make_settings(index_dir=tmp_path / "fresh-index")  # no cache: everything parsed and split
    Ingestor(fresh, progress=False).sync()
    assert _spans(fresh) == _spans(settings)  # the cached text and chunks are what parsing gives


def test_failures_are_not_cached_and_a_damaged_cache_only_costs_parsing(tmp_path: Path, parses: list[str]) -> None:
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4 nope")
    cache_file = tmp_path / "cache.sqlite"
    for _ in range(2):
        cache = LoadCache(cache_file)
        with pytest.raises(Exception, match="PDF"):
            cache.load(bad, "bad.pdf")
        cache.close()
    assert parses == ["bad.pdf", "bad.pdf"]

    cache_file.write_bytes(b"not a database at all" * 100)
    good = tmp_path / "good.txt"
    good.write_text("캐시가 망가져도 문서는 읽힌다.\n", encoding="utf-8")
    cache = LoadCache(cache_file)
    assert cache.load(good, "good.txt").text.startswith("캐시가")
    cache.close()


def test_text_key_ignores_line_endings_and_spacing_only() -> None:
    assert text_key("가나다\n라마 바\n") == text_key("가나다  \r\n라마\t바")
    assert text_key("가나다\n라마바\n") != text_key("가나다\n라마바\n사\n")
    assert text_key("\u1100\u1161") == text_key("\uac00")  # NFD and NFC Hangul are one text
