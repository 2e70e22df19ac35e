"""The offline default: answer with the sentences the reader chose, each with its citation.

No model, no invention: every sentence is quoted from a passage (rag.reader picks them: for
each part of the question, the sentence that states what is asked about its focus, a list
introduction with its items, and the next sentence when an explanation runs on). Parts are
answered in the question's order, quotes cited by passage, passages numbered in order of use.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from rag.generators.base import Cancellation, Generation
from rag.language.query import AnalyzedQuery
from rag.reader import read
from rag.reading.candidates import Candidate
from rag.types import Passage

if TYPE_CHECKING:
    from rag.settings import Settings

EN_PREAMBLE = "The notes are in Korean; the answer below is quoted from them."


class ExtractiveGenerator:
    name = "extractive"

    @classmethod
    def configured(cls, settings: "Settings") -> bool:
        return True  # needs no model: the fallback of every other generator

    @classmethod
    def from_settings(cls, settings: "Settings") -> "ExtractiveGenerator":
        return cls(settings.answer_max_chars)

    def __init__(self, max_chars: int = 600) -> None:
        if max_chars < 50:
            raise ValueError("max_chars must be >= 50")
        self.max_chars = max_chars

    def _quotes(self, query: AnalyzedQuery, passages: list[Passage]) -> list[tuple[int, str]]:
        """(passage number, quoted text) in answer order, within the length limit."""
        reading = read(query, passages)
        quotes: list[tuple[int, str]] = []
        seen: set[tuple[int, int]] = set()
        used = 0
        for part in reading.parts:
            for choice in part.choices:
                sentences: list[Candidate] = [choice.candidate, *choice.items]
                fresh = [s for s in sentences if (s.passage, s.index) not in seen]
                if not fresh:
                    continue
                text = _quote(passages[choice.candidate.passage - 1], fresh)
                if quotes and used + len(text) > self.max_chars:
                    continue
                seen.update((s.passage, s.index) for s in fresh)
                quotes.append((choice.candidate.passage, _clip(text, self.max_chars)))
                used += len(text)
        return quotes

    def generate(self, query: AnalyzedQuery, passages: list[Passage],
                 cancel: Cancellation | None = None) -> Generation:
        if cancel is not None:  # milliseconds of work: one check before it is enough
            cancel.raise_if_stopped()
        quotes = self._quotes(query, passages)
        order = {p: r for r, p in enumerate(dict.fromkeys(p for p, _ in quotes), start=1)}
        # Passages numbered in order of use, as verification will: the streamed text then
        # already is the final text.
        body = " ".join(f"{text} [{order[p]}]" for p, text in quotes)
        used = [passages[p - 1] for p in order]
        preamble = EN_PREAMBLE if query.lang == "en" else ""
        reading = read(query, passages)
        debug = reading.debug()
        return Generation(body, used, preamble, debug)

    def stream(self, query: AnalyzedQuery, passages: list[Passage],
               cancel: Cancellation | None = None) -> Iterator[str | Generation]:
        """Holds nothing shared, so a reader may stop at any point."""
        generation = self.generate(query, passages, cancel)
        for piece in ([generation.preamble + "\n"] if generation.preamble else []) + _words(generation.text):
            yield piece
        yield generation


def _quote(passage: Passage, sentences: list[Candidate]) -> str:
    """The exact text of a sentence, or of a list introduction through its last item (the
    items' own line breaks and markers kept), so every quote is a span of the passage."""
    if len(sentences) == 1:
        return sentences[0].text
    return passage.chunk.text[sentences[0].start:sentences[-1].end]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _words(text: str) -> list[str]:
    parts = text.split(" ")
    return [p + (" " if i < len(parts) - 1 else "") for i, p in enumerate(parts)]
