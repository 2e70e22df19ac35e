"""The Answer every surface returns (CLI, HTTP, OpenAI-compatible route, eval)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(slots=True)
class CitedSpan:
    """One sentence an answer quotes from a cited passage: ``start``/``end`` are character offsets
    in the document (as ``Citation.start``); ``section_path`` the headings of the innermost section
    holding it, outermost first; ``section`` the same for people ("보상 함수 › 할인율")."""

    start: int
    end: int
    section_path: list[str]
    section: str | None


@dataclass(slots=True)
class Citation:
    """One cited passage. ``section``: the section of the sentences quoted from it (by the heading
    table, whatever the chunk; several joined by "; " when they lie in several), the passage's
    own section when none is located; ``where``: the place named for people, "Title › section",
    or "section — Title" for a collection of posts; ``spans``: each quoted sentence."""

    n: int
    doc: str
    section: str | None
    page: int | None
    start: int
    end: int
    quote: str
    supported: bool = True
    title: str | None = None  # the document's title (its author's: metadata, first heading, first line)
    section_path: list[str] = field(default_factory=list)
    where: str | None = None
    spans: list[CitedSpan] = field(default_factory=list)


@dataclass(slots=True)
class Sentence:
    text: str
    citations: list[int]
    unsupported: bool


@dataclass(slots=True)
class Answer:
    answer: str
    refused: bool
    generator: str
    citations: list[Citation] = field(default_factory=list)
    sentences: list[Sentence] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    lang: str = "ko"
    debug: dict[str, Any] = field(default_factory=dict)
    # The exact fact a factoid question asks for, inside a quoted, cited sentence (issue 28):
    # {"text", "doc", "start", "end" (document offsets), "citation": n, "probability"}, or None.
    short_answer: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


REFUSALS = {
    "ko": "노트에는 이 질문에 대한 내용이 없습니다. (The notes do not cover this.)",
    "en": "The notes do not cover this question.",
}


def refusal(lang: str, generator: str, timings: dict[str, float], debug: dict[str, Any] | None = None) -> Answer:
    return Answer(REFUSALS.get(lang, REFUSALS["ko"]), True, generator, timings_ms=timings, lang=lang, debug=debug or {})
