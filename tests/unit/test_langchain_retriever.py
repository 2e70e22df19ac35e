"""Our search as a LangChain retriever over a real index of the notes, and the example
chain of docs/extending.md, run as written."""
from __future__ import annotations

import re

import pytest
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from rag.langchain_retriever import StudyNotesRetriever
from rag.settings import RetrieverName, Settings
from rag.snapshots.snapshot import Snapshot
from tests.conftest import ROOT

QUESTION = "YOLO는 객체를 어떻게 탐지해?"


def test_the_retriever_returns_our_passages_as_documents_with_citation_fields(
        notes_settings: Settings, notes_snapshot: Snapshot) -> None:
    retriever = StudyNotesRetriever.from_settings(notes_settings, k=4)
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke(QUESTION)
    expected = retriever.searcher.run(QUESTION, 4)
    assert [d.metadata["chunk_id"] for d in docs] == [p.chunk.id for p in expected.passages] and len(docs) == 4
    for d in docs:
        assert isinstance(d, Document)
        chunk = notes_snapshot.chunks[d.metadata["chunk_id"]]
        assert d.page_content == chunk.text and d.metadata["doc"] == chunk.doc
        assert (d.metadata["start"], d.metadata["end"], d.metadata["section"], d.metadata["page"]) == (
            chunk.start, chunk.end, chunk.section, chunk.page)
        assert d.metadata["title"] == notes_snapshot.title(chunk.doc) and d.metadata["snapshot"] == notes_snapshot.id
        assert d.id == f"{notes_snapshot.id}:{chunk.id}" and d.metadata["refused"] is False
        assert set(d.metadata["ranks"]) <= {"dense", "bm25"} and d.metadata["score"] > 0
    assert "YOLO" in docs[0].page_content


def test_the_retriever_takes_a_retriever_name_and_reports_the_gate(notes_settings: Settings) -> None:
    bm25 = StudyNotesRetriever.from_settings(notes_settings, k=3, retriever=RetrieverName.BM25).invoke(QUESTION)
    assert bm25 and all(set(d.metadata["ranks"]) == {"bm25"} for d in bm25)
    with pytest.raises(ValueError):  # pydantic validates the name
        StudyNotesRetriever.from_settings(notes_settings, retriever="magic")
    off_topic = StudyNotesRetriever.from_settings(notes_settings, k=3).invoke("화성의 토끼는 몇 마리인가?")
    assert off_topic and all(d.metadata["refused"] for d in off_topic)


def test_the_docs_example_chain_runs(notes_settings: Settings, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    page = (ROOT / "docs" / "extending.md").read_text(encoding="utf-8")
    code = re.search(r"<!-- langchain-example -->\n```python\n(.*?)```", page, re.S)
    assert code, "the LangChain example of docs/extending.md is missing"
    monkeypatch.setenv("RAG_INDEX_DIR", str(notes_settings.index_dir))
    monkeypatch.setenv("RAG_EMBEDDER", "offline")
    exec(compile(code.group(1), "docs/extending.md", "exec"), {})
    out = capsys.readouterr().out
    assert out.startswith("[1] Object Detection") and "[3] " in out and "[4] " not in out
    assert out.rstrip().endswith(f"Question: {QUESTION}")
