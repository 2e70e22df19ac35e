"""The offline default: answer with the retrieved sentences that best answer the question.

No model, no invention: each sentence is quoted from a passage and followed by its citation,
in reading order, within a length limit. A sentence scores the IDF-weighted share of the
question's concepts it contains; concepts found only in its context (the passage's section
title, or a heading line just before it) count half, since notes often put the subject in a
heading ("Clova Sentiment") and the answer in the line under it. Very short lines (headings)
are discounted, and a further passage is quoted only when it covers concepts the first did not,
so the answer stays on the passages that answer.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from rag.generators.base import Cancellation, Generation
from rag.korean import content_tokens_batch, quick_sentence_spans
from rag.query import AnalyzedQuery
from rag.types import Passage

EN_PREAMBLE = "The notes are in Korean; the answer below is quoted from them."
MIN_SENTENCE_CHARS = 8
FULL_LENGTH_CHARS = 30  # sentences shorter than this are scaled down (headings, labels)
HEADING_CHARS = 40  # a line this short right before a sentence is its context
CONTEXT_SHARE = 0.5
RANK_BONUS = 0.05
SENTENCE_FOCUS = 0.3  # sentences scoring below this share of the best are not quoted
NEW_COVERAGE = 0.2  # share of the question's weight a sentence from another passage must add


@dataclass(frozen=True)
class _Candidate:
    score: float
    passage: int  # 1-based passage number
    start: int  # offset in the document, for reading order
    text: str
    concepts: frozenset[str]  # concepts the sentence itself contains


class ExtractiveGenerator:
    name = "extractive"

    def __init__(self, max_chars: int = 600, max_sentences: int = 4) -> None:
        if max_chars < 50 or max_sentences < 1:
            raise ValueError("max_chars must be >= 50 and max_sentences >= 1")
        self.max_chars = max_chars
        self.max_sentences = max_sentences

    def _candidates(self, query: AnalyzedQuery, passages: list[Passage]) -> list[_Candidate]:
        weights = query.weights or {c.surface: c.salience for c in query.concepts}
        total = sum(weights.values()) or 1.0
        pieces = [(i, p, quick_sentence_spans(p.chunk.text)) for i, p in enumerate(passages, start=1)]
        texts = [p.chunk.text[a:b] for _, p, spans in pieces for a, b in spans]
        sections = [p.chunk.section or "" for _, p, _ in pieces]
        token_sets = iter(set(t) for t in content_tokens_batch(texts))
        section_tokens = [set(t) for t in content_tokens_batch(sections)]
        out = []
        for (i, p, spans), sect in zip(pieces, section_tokens):
            previous: set[str] = set()
            for a, b in spans:
                toks = next(token_sets)
                sentence = p.chunk.text[a:b]
                context = sect | previous
                previous = toks if len(sentence) <= HEADING_CHARS else set()
                if len(sentence) < MIN_SENTENCE_CHARS:
                    continue
                matched = 0.0
                own = []
                for c in query.concepts:
                    w = weights.get(c.surface, 0.0)
                    if any(t in toks for t in c.alternatives):
                        matched += w
                        own.append(c.surface)
                    elif any(t in context for t in c.alternatives):
                        matched += CONTEXT_SHARE * w
                length = min(1.0, len(sentence) / FULL_LENGTH_CHARS)
                out.append(_Candidate(matched / total * length + RANK_BONUS / i, i, p.chunk.start + a, sentence,
                                      frozenset(own)))
        return out

    def generate(self, query: AnalyzedQuery, passages: list[Passage],
                 cancel: Cancellation | None = None) -> Generation:
        """Best sentence first; then more from the passages already used (explanations run over
        several lines), and from another passage only when it adds concepts not yet covered
        (questions about two things), so citations stay on the passages that answer."""
        if cancel is not None:  # milliseconds of work: one check before it is enough
            cancel.raise_if_stopped()
        candidates = self._candidates(query, passages)
        weights = query.weights or {c.surface: c.salience for c in query.concepts}
        total = sum(weights.values()) or 1.0
        ranked = sorted(candidates, key=lambda c: (-c.score, c.passage, c.start))
        best = ranked[0].score if ranked else 0.0
        chosen: list[_Candidate] = []
        covered: set[str] = set()
        used = 0
        for cand in ranked:
            if len(chosen) >= self.max_sentences:
                break
            if chosen:
                if cand.score < best * SENTENCE_FOCUS or used + len(cand.text) > self.max_chars:
                    continue
                if any(cand.text == c.text for c in chosen):
                    continue
                new = sum(weights.get(c, 0.0) for c in cand.concepts - covered) / total
                if cand.passage not in {c.passage for c in chosen} and new < NEW_COVERAGE:
                    continue
            chosen.append(cand)
            covered |= cand.concepts
            used += len(cand.text)
        order = {p: r for r, p in enumerate(dict.fromkeys(c.passage for c in chosen))}
        chosen.sort(key=lambda c: (order[c.passage], c.start))
        # Number the quoted passages in order of use, as verification will: the streamed text
        # then already is the final text.
        body = " ".join(f"{_clip(c.text, self.max_chars)} [{order[c.passage] + 1}]" for c in chosen)
        used = [passages[p - 1] for p in order]
        preamble = EN_PREAMBLE if query.lang == "en" else ""
        return Generation(body, used, preamble, {"sentences_considered": len(candidates)})

    def stream(self, query: AnalyzedQuery, passages: list[Passage],
               cancel: Cancellation | None = None) -> Iterator[str | Generation]:
        """Holds nothing shared, so a reader may stop at any point."""
        generation = self.generate(query, passages, cancel)
        for piece in ([generation.preamble + "\n"] if generation.preamble else []) + _words(generation.text):
            yield piece
        yield generation


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _words(text: str) -> list[str]:
    parts = text.split(" ")
    return [p + (" " if i < len(parts) - 1 else "") for i, p in enumerate(parts)]
