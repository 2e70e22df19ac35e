"""``max_tokens`` and ``stop`` for the OpenAI-compatible route: cut a finished Answer the way a
client expects, at a sentence boundary, and count tokens for ``usage``.

Tokens are counted with the answering model's own tokenizer when it has one (llama.cpp), and
otherwise with Kiwi's morpheme analyser (kiwipiepy, the tokenizer the index uses): one token per
morpheme, punctuation included, so "BERT는 2018년에" is BERT/는/2018/년/에 = 5 tokens. The
budget covers the whole message the client receives: the answer and its source list.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from rag.answer import Answer, Citation
from rag.language.korean import morpheme_count

TokenCounter = Callable[[str], int]
_MARK = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


@dataclass
class Shaped:
    """What the client gets: the (possibly cut) answer text, the citations it still uses, and
    OpenAI's ``finish_reason`` ("length" when ``max_tokens`` cut it, else "stop")."""

    text: str
    citations: list[Citation]
    finish_reason: str
    content: str  # text plus the source list


def counter_for(generator: object) -> TokenCounter:
    """The generator's ``count_tokens`` (llama.cpp) or Kiwi morphemes (extractive)."""
    return getattr(generator, "count_tokens", None) or morpheme_count


def sources_footer(citations: list[Citation]) -> str:
    """``\\n\\nSources:\\n[1] Title › section, p. 3 (file)`` lines (``section — Title`` for a
    collection of posts: ``Citation.where``); empty without citations."""
    if not citations:
        return ""
    lines = []
    for c in citations:
        place = c.where or ", ".join(x for x in (c.title or c.doc, c.section) if x)
        where = ", ".join(x for x in (place, f"p. {c.page}" if c.page else None) if x)
        lines.append(f"[{c.n}] {where}" + (f" ({c.doc})" if c.title and c.title != c.doc else ""))
    return "\n\nSources:\n" + "\n".join(lines)


def _cited(text: str, citations: list[Citation]) -> list[Citation]:
    used = {int(n) for group in _MARK.findall(text) for n in re.split(r"\s*,\s*", group)}
    return [c for c in citations if c.n in used]


def _unit_ends(answer: Answer) -> list[int]:
    """Offsets in ``answer.answer`` where a sentence ends (a preamble line before the first
    sentence, "The notes are in Korean; ...", is no answer: it is never a cut on its own)."""
    text, ends, pos = answer.answer, [], 0
    pieces = [s.text.strip() for s in answer.sentences] if not answer.refused else []
    for piece in pieces:
        at = text.find(piece, pos)
        if at < 0:
            continue
        pos = at + len(piece)
        ends.append(pos)
    if not ends or ends[-1] < len(text.rstrip()):
        ends.append(len(text.rstrip()))
    return ends


def shape(answer: Answer, max_tokens: int | None, stop: list[str], count: TokenCounter) -> Shaped:
    """Apply ``stop`` (cut before the first stop sequence) and then ``max_tokens`` (keep the
    longest run of whole sentences whose message fits; if not even the first fits, its longest
    word prefix that does, without sources)."""
    text, ends = answer.answer, _unit_ends(answer)
    cuts = [i for i in (text.find(s) for s in stop if s) if i >= 0]
    if cuts:
        text = text[: min(cuts)].rstrip()
        ends = [e for e in ends if e < len(text)] + [len(text)]

    def message(body: str) -> tuple[str, list[Citation]]:
        cited = _cited(body, answer.citations)
        return body + sources_footer(cited), cited

    content, cited = message(text)
    if max_tokens is None or count(content) <= max_tokens:
        return Shaped(text, cited, "stop", content)
    for end in sorted({e for e in ends if 0 < e < len(text)}, reverse=True):
        body = text[:end].rstrip()
        content, cited = message(body)
        if count(content) <= max_tokens:
            return Shaped(body, cited, "length", content)
    words = _MARK.sub("", text[: ends[0]]).split()
    lo, hi = 0, len(words)  # longest word prefix within the budget (counts grow with the prefix)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count(" ".join(words[:mid])) <= max_tokens:
            lo = mid
        else:
            hi = mid - 1
    body = " ".join(words[:lo])
    return Shaped(body, [], "length", body)
