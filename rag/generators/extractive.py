"""The offline default: answer with the retrieved sentences that best answer the question.

No model, no invention: each sentence is quoted from a passage and followed by its citation,
in reading order, within a length limit.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from rag.generators.base import Generation
from rag.korean import content_tokens, split_sentences
from rag.query import AnalyzedQuery
from rag.types import Passage

EN_PREAMBLE = "The notes are in Korean; the answer below is quoted from them."
MIN_SENTENCE_CHARS = 8
RANK_BONUS = 0.15


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
        weights = query.weights or {c.surface: 1.0 for c in query.concepts}
        total = sum(weights.values()) or 1.0
        out = []
        for i, p in enumerate(passages, start=1):
            text = p.chunk.text
            for a, b in split_sentences(text):
                sentence = text[a:b]
                if len(sentence) < MIN_SENTENCE_CHARS:
                    continue
                toks = set(content_tokens(sentence))
                matched = sum(weights.get(c.surface, 0.0) for c in query.concepts if any(t in toks for t in c.alternatives))
                score = matched / total + RANK_BONUS / i
                out.append(_Candidate(score, i, p.chunk.start + a, sentence))
        return out

    def generate(self, query: AnalyzedQuery, passages: list[Passage]) -> Generation:
        ranked = sorted(self._candidates(query, passages), key=lambda c: (-c.score, c.passage, c.start))
        chosen: list[_Candidate] = []
        used = 0
        best = ranked[0].score if ranked else 0.0
        for cand in ranked:
            if len(chosen) >= self.max_sentences:
                break
            if chosen and (cand.score < best * 0.5 or used + len(cand.text) > self.max_chars):
                continue
            if any(cand.text == c.text for c in chosen):
                continue
            chosen.append(cand)
            used += len(cand.text)
        order = {p: r for r, p in enumerate(dict.fromkeys(c.passage for c in sorted(chosen, key=lambda c: c.passage)))}
        chosen.sort(key=lambda c: (order[c.passage], passages[c.passage - 1].chunk.doc, c.start))
        body = " ".join(f"{_clip(c.text, self.max_chars)} [{c.passage}]" for c in chosen)
        preamble = EN_PREAMBLE if query.lang == "en" else ""
        return Generation(body, passages, preamble, {"sentences_considered": len(ranked)})

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
