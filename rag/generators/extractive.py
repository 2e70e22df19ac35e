"""The offline default: answer with the retrieved sentences that best answer the question.

No model, no invention: each sentence is quoted from a passage and followed by its citation,
in reading order, within a length limit. A sentence scores the IDF-weighted share of the
question's concepts it contains; concepts found only in its context (the passage's section
title, or a heading line just before it) count half, since notes often put the subject in a
heading ("Clova Sentiment") and the answer in the line under it. Very short lines (headings)
are discounted, and only passages whose best sentence is close to the overall best are used,
so the answer stays on the passage that answers.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from rag.generators.base import Generation
from rag.korean import content_tokens_batch, quick_sentence_spans
from rag.query import AnalyzedQuery
from rag.types import Passage

EN_PREAMBLE = "The notes are in Korean; the answer below is quoted from them."
MIN_SENTENCE_CHARS = 8
FULL_LENGTH_CHARS = 30  # sentences shorter than this are scaled down (headings, labels)
HEADING_CHARS = 40  # a line this short right before a sentence is its context
CONTEXT_SHARE = 0.5
RANK_BONUS = 0.05
PASSAGE_FOCUS = 0.75  # passages whose best sentence scores below this share of the best are skipped
SENTENCE_FOCUS = 0.3


@dataclass(frozen=True)
class _Candidate:
    score: float
    passage: int  # 1-based passage number
    start: int  # offset in the document, for reading order
    text: str


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
                for c in query.concepts:
                    w = weights.get(c.surface, 0.0)
                    if any(t in toks for t in c.alternatives):
                        matched += w
                    elif any(t in context for t in c.alternatives):
                        matched += CONTEXT_SHARE * w
                length = min(1.0, len(sentence) / FULL_LENGTH_CHARS)
                out.append(_Candidate(matched / total * length + RANK_BONUS / i, i, p.chunk.start + a, sentence))
        return out

    def generate(self, query: AnalyzedQuery, passages: list[Passage]) -> Generation:
        candidates = self._candidates(query, passages)
        best = max((c.score for c in candidates), default=0.0)
        per_passage: dict[int, float] = {}
        for c in candidates:
            per_passage[c.passage] = max(per_passage.get(c.passage, 0.0), c.score)
        focus = {p for p, s in per_passage.items() if s >= PASSAGE_FOCUS * best}
        ranked = sorted((c for c in candidates if c.passage in focus), key=lambda c: (-c.score, c.passage, c.start))
        chosen: list[_Candidate] = []
        used = 0
        for cand in ranked:
            if len(chosen) >= self.max_sentences:
                break
            if chosen and (cand.score < best * SENTENCE_FOCUS or used + len(cand.text) > self.max_chars):
                continue
            if any(cand.text == c.text for c in chosen):
                continue
            chosen.append(cand)
            used += len(cand.text)
        order = {p: r for r, p in enumerate(dict.fromkeys(c.passage for c in sorted(chosen, key=lambda c: c.passage)))}
        chosen.sort(key=lambda c: (order[c.passage], c.start))
        body = " ".join(f"{_clip(c.text, self.max_chars)} [{c.passage}]" for c in chosen)
        preamble = EN_PREAMBLE if query.lang == "en" else ""
        return Generation(body, passages, preamble, {"sentences_considered": len(candidates)})

    def stream(self, query: AnalyzedQuery, passages: list[Passage]) -> Iterator[str | Generation]:
        generation = self.generate(query, passages)
        for piece in ([generation.preamble + "\n"] if generation.preamble else []) + _words(generation.text):
            yield piece
        yield generation


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _words(text: str) -> list[str]:
    parts = text.split(" ")
    return [p + (" " if i < len(parts) - 1 else "") for i, p in enumerate(parts)]
