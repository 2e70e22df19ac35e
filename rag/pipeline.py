"""The answer pipeline: search -> gate -> generate -> verify citations -> Answer.

The CLI, the HTTP API (plain, streamed and OpenAI-compatible) and `rag eval` all call this.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Iterator, Literal, Sequence

from rag.answer import Answer, refusal
from rag.citations import cross_lingual_embedder, locate, verify
from rag.conversation import FollowUpResolver, Resolution, Turn
from rag.generators.base import Cancellation, Generation, Generator
from rag.generators.extractive import ExtractiveGenerator
from rag.search import Searcher
from rag.short_answer.attach import short_answer_of
from rag.settings import RetrieverName, Settings
from rag.snapshots.snapshot import Snapshot
from rag.types import SearchResult

log = logging.getLogger(__name__)


@dataclass
class StreamEvent:
    kind: Literal["quick_answer", "token", "answer"]  # quick_answer: the extractive Answer, before a model's tokens
    data: str | Answer


class AnswerPipeline:
    def __init__(self, settings: Settings, searcher: Searcher, generator: Generator) -> None:
        self.settings = settings
        self.searcher = searcher
        self.generator = generator
        # With an LLM, follow-ups are condensed by the model; without one, by rag.conversation's rules.
        self.resolver = FollowUpResolver(getattr(generator, "complete", None), settings.max_question_chars)

    def _generate_kwargs(self, instructions: str | None) -> dict[str, Any]:
        """A client's system message reaches a generator that can follow it (an LLM), no other."""
        return {"instructions": instructions} if instructions and getattr(self.generator, "follows_instructions", False) else {}

    def _search(self, question: str, k: int | None, retriever: RetrieverName | None,
                snapshot: Snapshot | None) -> SearchResult:
        return self.searcher.run(question, k, retriever, snapshot=snapshot)

    def _finish(self, result: SearchResult, generation: Generation, t0: float, t1: float,
                resolution: Resolution, snapshot: Snapshot) -> Answer:
        if generation.debug.get("model_refused"):  # the model wrote the refusal line: a refusal, not a draft
            return refusal(result.lang, self.generator.name, _timings(t0, t1, time.perf_counter()),
                           {**generation.debug, "evidence": round(result.evidence, 4), **resolution.debug()})
        embedder = cross_lingual_embedder(snapshot)
        verified = verify(generation.text, generation.passages, self.searcher.glossary, embedder=embedder)
        if all(s.unsupported for s in verified.sentences) and generation.answered_by is None \
                and self.generator.name != ExtractiveGenerator.name:
            # The gate found the notes cover the question; the model's draft is what failed. Saying
            # "the notes do not cover this" would be false: quote the notes instead, and say why.
            draft, model_debug = verified.text or generation.text, generation.debug
            generation = ExtractiveGenerator(self.settings.answer_max_chars).generate(result.query, result.passages)
            generation.answered_by = ExtractiveGenerator.name
            generation.debug = {**model_debug, **generation.debug, "draft": draft, "drafted_by": self.generator.name,
                                "fallback": "no sentence of the model's answer is supported by the passages: "
                                            "quoted from the notes instead"}
            verified = verify(generation.text, generation.passages, self.searcher.glossary, embedder=embedder)
        name = generation.answered_by or self.generator.name
        locate(verified, snapshot)  # each citation named by the section of its quoted sentences
        # The exact fact of a factoid question, inside a quoted, cited sentence (issue 28).
        short = short_answer_of(result.query.text, verified, intent=_intent(result.query)) \
            if any(not s.unsupported for s in verified.sentences) else None
        t2 = time.perf_counter()
        body = verified.text
        text = f"{generation.preamble}\n{body}" if generation.preamble and body else body
        debug = {**generation.debug, "removed_citations": verified.removed, "evidence": round(result.evidence, 4),
                 "search_ms": result.timings_ms, **resolution.debug()}
        if not verified.sentences:
            return refusal(result.lang, name, _timings(t0, t1, t2), debug)
        if all(s.unsupported for s in verified.sentences):
            # Nothing the passages support: the draft is kept for inspection, never answered.
            debug.setdefault("draft", body)
            debug["refusal_reason"] = "no sentence of the answer is supported by the passages"
            return refusal(result.lang, name, _timings(t0, t1, t2), debug)
        return Answer(text, False, name, verified.citations, verified.sentences, _timings(t0, t1, t2),
                      result.lang, debug, short)

    def run(self, question: str, k: int | None = None, retriever: RetrieverName | None = None,
            snapshot: Snapshot | None = None, history: Sequence[Turn] = (), instructions: str | None = None,
            cancel: Cancellation | None = None) -> Answer:
        """``history``: earlier turns, oldest first, that a follow-up is resolved against;
        ``instructions``: a client's system message, for an LLM generator only; ``cancel`` (see
        ``rag.generators.base``) stops the generation: GenerationCancelled / GenerationTimeout
        are raised."""
        t0 = time.perf_counter()
        snapshot = snapshot or self.searcher.snapshot()
        resolution = self.resolver.resolve(question, history)
        _check(cancel)  # gone while the follow-up was resolved: do not search
        if resolution.unresolved:  # "그 두 번째 것" with nothing before it: ask, do not guess
            t = time.perf_counter()
            return resolution.clarification(self.generator.name, _timings(t0, t, t))
        result = self._search(resolution.text, k, retriever, snapshot)
        return self.answer(result, snapshot, t0, resolution, instructions, cancel)

    def answer(self, result: SearchResult, snapshot: Snapshot, t0: float | None = None,
               resolution: Resolution | None = None, instructions: str | None = None,
               cancel: Cancellation | None = None) -> Answer:
        """The answer to a search already run (``result``, on ``snapshot``): refused when the
        verdict refused it, else generated and verified. ``t0``: when the question arrived."""
        t0 = time.perf_counter() if t0 is None else t0
        resolution = resolution or Resolution(result.query.text, result.query.text)
        if result.refused:
            t = time.perf_counter()
            return refusal(result.lang, self.generator.name, _timings(t0, t, t), _refusal_debug(result, resolution))
        query = result.query
        t1 = time.perf_counter()
        _check(cancel)  # gone during retrieval: do not start the model
        generation = self.generator.generate(query, result.passages, cancel, **self._generate_kwargs(instructions))
        return self._finish(result, generation, t0, t1, resolution, snapshot)

    def stream(self, question: str, k: int | None = None, retriever: RetrieverName | None = None,
               snapshot: Snapshot | None = None, history: Sequence[Turn] = (),
               instructions: str | None = None, cancel: Cancellation | None = None,
               quick: bool = False) -> Iterator[StreamEvent]:
        """Token events, then one answer event. A reader that stops early cancels ``cancel``
        (the generator then frees the model at once); it need not close this iterator.
        ``quick``: with a model generator, first a ``quick_answer`` event, the extractive Answer
        (milliseconds), to show while the model writes."""
        t0 = time.perf_counter()
        snapshot = snapshot or self.searcher.snapshot()
        resolution = self.resolver.resolve(question, history)
        _check(cancel)  # gone while the follow-up was resolved: do not search
        result = None if resolution.unresolved else self._search(resolution.text, k, retriever, snapshot)
        if result is None or result.refused:
            t = time.perf_counter()
            answer = resolution.clarification(self.generator.name, _timings(t0, t, t)) if result is None else \
                refusal(result.lang, self.generator.name, _timings(t0, t, t), _refusal_debug(result, resolution))
            yield StreamEvent("token", answer.answer)
            yield StreamEvent("answer", answer)
            return
        query = result.query
        t1 = time.perf_counter()
        _check(cancel)
        if quick and self.generator.name != ExtractiveGenerator.name:
            yield StreamEvent("quick_answer", self._quick(result, t0, t1, resolution, snapshot))
        for piece in self.generator.stream(query, result.passages, cancel, **self._generate_kwargs(instructions)):
            if isinstance(piece, Generation):
                yield StreamEvent("answer", self._finish(result, piece, t0, t1, resolution, snapshot))
            else:
                yield StreamEvent("token", piece)

    def _quick(self, result: SearchResult, t0: float, t1: float, resolution: Resolution, snapshot: Snapshot) -> Answer:
        """The extractive answer over the same passages, verified like any other."""
        generation = ExtractiveGenerator(self.settings.answer_max_chars).generate(result.query, result.passages)
        generation.answered_by = ExtractiveGenerator.name
        answer = self._finish(result, generation, t0, t1, resolution, snapshot)
        answer.debug["quick"] = True
        return answer


def _refusal_debug(result: SearchResult, resolution: Resolution) -> dict[str, Any]:
    """Why it was refused: the verdict's probability and, per part, its features."""
    readings = list(result.query.readings.values()) if result.query is not None else []
    reading = readings[-1].debug() if readings else {}
    return {"evidence": round(result.evidence, 4), **reading, **resolution.debug()}


def _intent(query: Any) -> Any:
    """The question's ``rag.language.intent.Intent`` as the reader computed it (computed here when the
    reader did not run, e.g. a refused search); None without an analysed query."""
    if query is None:
        return None
    if query.intent is None:
        from rag.language.intent import intent_of

        query.intent = intent_of(query)
    return query.intent


def _check(cancel: Cancellation | None) -> None:
    if cancel is not None and cancel.stopped():
        log.warning("answer stopped before generation: %s", cancel.reason or "past its deadline")
        cancel.raise_if_stopped()


def _timings(t0: float, t1: float, t2: float) -> dict[str, float]:
    return {"retrieval": round((t1 - t0) * 1000, 3), "generation": round((t2 - t1) * 1000, 3),
            "total": round((t2 - t0) * 1000, 3)}
