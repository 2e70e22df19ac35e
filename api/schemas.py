"""Request and response schemas: they validate input and give /docs its shapes and examples.

The core returns plain dataclasses (``Answer.to_dict()``, ``SearchResult.to_dict()``,
``IngestSummary.to_dict()``); these models mirror them so the OpenAPI document is exact.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ingest.loader_registry import type_names
from rag.conversation import Turn
from rag.settings import RETRIEVER_CHOICES, RetrieverName

CITATION_EXAMPLE = {
    "n": 1, "doc": "000_6894a9c6475e8976.txt", "title": "Object Detection (객체 탐지)", "section": "YOLO란", "page": None, "start": 5, "end": 368,
    "quote": "CNN 기반 대표적인 단일 단계 방식의 객체 탐지 알고리즘이다.", "supported": True,
    "section_path": ["YOLO란"], "where": "YOLO란 — Object Detection (객체 탐지)",
    "spans": [{"start": 80, "end": 121, "section_path": ["YOLO란"], "section": "YOLO란"}],
}
ANSWER_EXAMPLE = {
    "answer": "YOLO는 CNN 기반 대표적인 단일 단계 방식의 객체 탐지 알고리즘이다. [1]",
    "refused": False,
    "generator": "extractive",
    "citations": [CITATION_EXAMPLE],
    "sentences": [{"text": "YOLO는 CNN 기반 대표적인 단일 단계 방식의 객체 탐지 알고리즘이다. [1]", "citations": [1],
                   "unsupported": False}],
    "timings_ms": {"retrieval": 15.2, "generation": 31.0, "total": 46.2},
    "lang": "ko",
    "debug": {"evidence": 1.0},
    "short_answer": {"text": "단일 단계", "doc": "000_6894a9c6475e8976.txt", "start": 91, "end": 96, "citation": 1,
                     "probability": 0.81},
}
SUMMARY_EXAMPLE = {
    "added": 1, "updated": 0, "removed": 0, "unchanged": 5, "failed": [], "chunks": 140, "embedded": 9,
    "snapshot": "20260101T120000000000-ab12cd", "published": True, "embedder": "offline-lsa-256-a58f66ae8552",
    "seconds": 1.8, "document": "yolo-notes.md",
}


MAX_HISTORY_TURNS = 20
MAX_TURN_CHARS = 20000


class HistoryTurn(BaseModel):
    """An earlier exchange of the conversation, oldest first."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(..., max_length=MAX_TURN_CHARS, description="The question as asked")
    answer: str = Field("", max_length=MAX_TURN_CHARS, description="The answer given (with its [n] marks)")
    understood_as: str | None = Field(None, max_length=MAX_TURN_CHARS,
                                      description="How that question was understood (the answer's debug.understood_as)")


class AskRequest(BaseModel):
    """A question; its maximum length is the ``RAG_MAX_QUESTION_CHARS`` setting (checked per app)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"question": "YOLO는 객체 탐지를 몇 단계로 처리하는 알고리즘이야?"},
        {"question": "What is BERT?", "k": 3, "retriever": "hybrid"},
        {"question": "How was it pre-trained?",
         "history": [{"question": "What is BERT?", "answer": "BERT는 2018년 구글이 공개한 ... [1]"}]},
    ]})

    question: str = Field(..., description="The question, in Korean or English")
    k: int | None = Field(None, ge=1, le=50, description="Passages to retrieve (default RAG_TOP_K)")
    retriever: RetrieverName | None = Field(None, description=f"{RETRIEVER_CHOICES} (default RAG_RETRIEVER)")
    history: list[HistoryTurn] = Field(
        default_factory=list, max_length=MAX_HISTORY_TURNS,
        description="Earlier turns of the conversation, oldest first: a follow-up ('How was it pre-trained?') is "
                    "rewritten as a standalone question before retrieval (debug.understood_as)")

    def turns(self) -> list[Turn]:
        return [Turn(t.question, t.answer, t.understood_as) for t in self.history]


class CitedSpanOut(BaseModel):
    start: int = Field(..., description="Offset of the quoted sentence in the document as loaded")
    end: int
    section_path: list[str]
    section: str | None


class CitationOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [CITATION_EXAMPLE]})

    n: int = Field(..., description="The number used as [n] in the answer text")
    doc: str = Field(..., description="Document id (path relative to the notes directory)")
    title: str | None = Field(None, description="The document's title as its author gave it (metadata title, "
                                                "first heading, or first line)")
    section: str | None = Field(None, description="The section of the quoted sentences, its heading path joined by "
                                                  "' › ' (several sections joined by '; ')")
    page: int | None
    start: int = Field(..., description="Offset of the quoted passage in the document as loaded")
    end: int
    quote: str = Field(..., description="The passage the citation points at")
    supported: bool = True
    section_path: list[str] = Field(default_factory=list, description="Headings of the innermost section holding "
                                                                      "the first quoted sentence, outermost first")
    where: str | None = Field(None, description="The cited place for people: 'Title › section', or 'section — Title' "
                                                "for a collection of posts (a blog export)")
    spans: list[CitedSpanOut] = Field(default_factory=list, description="Each quoted sentence with its section")


class SentenceOut(BaseModel):
    text: str
    citations: list[int]
    unsupported: bool


class ShortAnswerOut(BaseModel):
    text: str = Field(..., description="The exact words of the notes that answer a factoid question")
    doc: str = Field(..., description="Document id (path relative to the notes directory)")
    start: int = Field(..., description="Offset of the span in the document as loaded (text == document[start:end])")
    end: int
    citation: int = Field(..., description="The citation [n] whose quoted sentence holds the span")
    probability: float = Field(..., description="The span model's probability, in [0, 1], that it is the exact answer")


class AnswerOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [ANSWER_EXAMPLE]})

    answer: str = Field(..., description="Answer text with inline [n] citations, or the refusal")
    refused: bool = Field(..., description="True when the notes do not cover the question")
    generator: str
    citations: list[CitationOut]
    sentences: list[SentenceOut]
    timings_ms: dict[str, float]
    lang: str
    debug: dict[str, Any]
    short_answer: ShortAnswerOut | None = Field(
        None, description="For a factoid question (a number, count, date, person, place, name or term): the exact "
                          "span of one quoted, cited sentence that answers it; null for definitions, explanations, "
                          "comparisons, refusals and whenever the span model is not confident")


class PassageOut(BaseModel):
    doc: str
    section: str | None
    page: int | None
    start: int
    end: int
    text: str
    score: float
    ranks: dict[str, dict[str, float]]


class SearchOut(BaseModel):
    """The same object as ``rag search --json``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "refused": False, "evidence": 1.0,
        "passages": [{"doc": "000_6894a9c6475e8976.txt", "section": "YOLO란", "page": None, "start": 5, "end": 368,
                      "text": "YOLO란 ...", "score": 0.0325, "ranks": {"dense": {"rank": 1, "score": 0.61},
                                                                      "bm25": {"rank": 2, "score": 7.3}}}],
        "timings_ms": {"analyse": 0.3, "retrieve": 15.1, "gate": 0.1, "total": 15.5},
    }]})

    refused: bool
    evidence: float
    passages: list[PassageOut]
    timings_ms: dict[str, float]


class DocumentOut(BaseModel):
    id: str = Field(..., description="Path relative to the notes directory; use it in PUT/DELETE /documents/{id}")
    title: str | None
    type: str = Field(..., description=f"Document type: {type_names()}")
    pages: int | None = Field(None, description="Page count (PDF pages, PowerPoint slides); null for formats without pages")
    chunks: int
    hash: str = Field(..., description="SHA-256 of the file's bytes")
    size: int | None = None
    updated: str | None = Field(None, description="When this content was first indexed (UTC, ISO 8601)")


class DocumentList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "snapshot": "20260101T120000000000-ab12cd",
        "documents": [{"id": "000_6894a9c6475e8976.txt", "title": "Object Detection", "type": "txt", "pages": None,
                       "chunks": 28, "hash": "9338bf15...", "size": 20139, "updated": "2026-01-01T12:00:00+00:00"}],
    }]})

    snapshot: str
    documents: list[DocumentOut]


class IngestSummaryOut(BaseModel):
    """The ingest summary (as ``rag ingest --json``), plus the document a write was about."""

    model_config = ConfigDict(json_schema_extra={"examples": [SUMMARY_EXAMPLE]})

    added: int
    updated: int
    removed: int
    unchanged: int
    failed: list[dict[str, str]]
    warnings: list[dict[str, str]] = Field([], description="Parts of documents left out, with the reason")
    chunks: int
    embedded: int
    snapshot: str | None
    published: bool
    embedder: str | None
    seconds: float
    document: str | None = Field(None, description="The uploaded, replaced or deleted document id")


class NotesDriftOut(BaseModel):
    in_sync: bool
    not_indexed: list[str] = Field(..., description="Files the live snapshot does not have")
    changed: list[str] = Field(..., description="Files whose bytes differ from the indexed version")
    missing: list[str] = Field(..., description="Indexed documents with no file any more")
    fix: str | None = Field(None, description="What to run when they differ")


class HealthOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "status": "ok", "snapshot": "20260101T120000000000-ab12cd", "documents": 5, "chunks": 131,
        "embedder": "offline-lsa-256-a58f66ae8552", "generator": "extractive", "index_backend": "faiss", "damaged": {},
        "worker": 4242,
        "notes": {"in_sync": True, "not_indexed": [], "changed": [], "missing": [], "fix": None}, "recovered": [],
    }]})

    status: Literal["ok", "no_index"]
    message: str | None = None
    snapshot: str | None
    documents: int
    chunks: int
    embedder: str | None
    generator: str | None
    index_backend: str = Field("faiss", description="Where snapshots are served from: faiss (files) or milvus (RAG_INDEX_BACKEND)")
    damaged: dict[str, str] = Field(..., description="Snapshots that failed to open, with the reason")
    worker: int = Field(..., description="Process id of the worker that answered (one per --workers)")
    notes: NotesDriftOut = Field(..., description="Whether the notes directory matches the live snapshot")
    recovered: list[dict[str, str]] = Field(
        default_factory=list, description="Document writes a killed server left, settled at start-up: "
        "{doc, op, outcome: completed (their snapshot was live) | discarded}")


class ErrorBody(BaseModel):
    code: str = Field(..., description="Machine-readable error code")
    message: str = Field(..., description="What went wrong and, where it helps, what to do")


class ErrorOut(BaseModel):
    """The one error shape of every route."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"error": {"code": "not_found", "message": "unknown document 'x.md'"}}]})

    error: ErrorBody
