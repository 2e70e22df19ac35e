"""Cleaning and splitting on the real notes: offsets exact, boilerplate never indexed."""
from __future__ import annotations

import re

from ingest import cleaning
from ingest.loaders import load_document
from ingest.splitting import Chunker, find_headings
from tests.conftest import NOTES

BOILERPLATE = [
    re.compile(r"^반응형$", re.M),
    re.compile(r"카테고리의 다른 글"),
    re.compile(r"Recent posts"),
    re.compile(r"\(0\)\s*2023\.04\.0\d"),
    re.compile(r"\(\d+\) \| 2024\.06\.\d\d \|"),  # the same post list written as a table
    re.compile(r"^[\w.-]+\.tistory\.com$", re.M),
]


def _docs():
    return [load_document(p, p.name) for p in sorted(NOTES.iterdir())]


def test_every_chunk_is_an_exact_span_of_its_document() -> None:
    docs = _docs()
    repeated = cleaning.chrome_lines([d.text for d in docs])
    chunker = Chunker(500, 80)
    total = 0
    for doc in docs:
        chunks = chunker.split(doc, cleaning.boilerplate_spans(doc.text, repeated))
        assert chunks, doc.doc_id
        for c in chunks:
            assert c.text == doc.text[c.start : c.end]
            assert len(c.text) <= 500
            assert c.doc == doc.doc_id
        total += len(chunks)
    assert total > 50


def test_no_chunk_holds_boilerplate() -> None:
    docs = _docs()
    repeated = cleaning.chrome_lines([d.text for d in docs])
    for doc in docs:
        for c in Chunker(500, 80).split(doc, cleaning.boilerplate_spans(doc.text, repeated)):
            for pattern in BOILERPLATE:
                assert not pattern.search(c.text), (doc.doc_id, pattern.pattern, c.text[:80])


def test_cleaning_keeps_content_lines() -> None:
    doc = next(d for d in _docs() if d.doc_id.startswith("000"))
    spans = cleaning.boilerplate_spans(doc.text)
    dropped = "".join(doc.text[a:b] for a, b in spans)
    assert "반응형" in dropped and "카테고리의 다른 글" in dropped
    assert "YOLO의 특징은 다음과 같다." not in dropped
    assert "BERT는 2018년 구글이 공개한 사전 학습된 모델이다." not in dropped


def test_lines_repeated_across_most_documents_are_chrome() -> None:
    posts = [f"글 {i} 본문은 서로 다르다.\n내용 {i}번째 문장이다.\n스터디 블로그 홈 | 목록\n" for i in range(4)]
    assert cleaning.chrome_lines([*posts, "장점\n"]) == {"스터디 블로그 홈 | 목록"}
    assert cleaning.chrome_lines(posts[:2]) == frozenset()  # one other document sharing a line is not enough


def test_headings_are_found_in_the_notes() -> None:
    doc = next(d for d in _docs() if d.doc_id.startswith("000"))
    titles = [h.title for h in find_headings(doc.text)]
    assert "YOLO란" in titles and "BERT" in titles
    weekly = next(d for d in _docs() if d.doc_id.startswith("002"))
    assert any(t.startswith("2주 차") for t in (h.title for h in find_headings(weekly.text)))
