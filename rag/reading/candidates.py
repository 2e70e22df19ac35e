"""Candidate sentences of retrieved passages, for the reader (rag.reader).

Every sentence of every passage becomes a ``Candidate``, classified by its shape on its line:
``text`` (a sentence), ``item`` (a bullet or numbered entry that says something), ``label`` (a
short list entry or step title: quoted with its list, never alone), ``intro`` (a sentence ending
in ":" or "다음과 같다", quoted with the items after it: ``list_items``), ``heading`` (a short line
alone, never quoted; it becomes the scope of the sentences under it), ``link`` (URLs and
reference lines) or ``fragment`` (too short to quote). Each candidate carries its scope: the
tokens of the chunk's section, the heading above it and the sentence before, with the sentences
around it and the whole passage, for the rule features (rag.reading.rule_features).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from rag.language.sentences import split_many
from rag.types import Passage, SentenceSpan

HEADING_CHARS = 50
MIN_QUOTE_CHARS = 10
MAX_ITEMS = 8  # at most this many items are quoted with a list introduction

_TERMINAL = re.compile(r"(?:[.!?。]|[다요음함임됨죠니까])\s*[)\]]?$")
_LINK = re.compile(r"https?://|www\.|\.(?:com|net|org|kr|io|ai)\b|^(?:reference|references|출처|참고|참고자료)\s*:?$",
                   re.I)
_BULLET = re.compile(r"^\s*(?:[-•*·▪●○◦■□▶►✔✅☑➤→]|\d{1,2}[.)]\s|[①-⑳]|\(\d{1,2}\))")
_INTRO = re.compile(r"(?::|다음과 같(?:다|습니다|음)\.?|아래와 같(?:다|습니다|음)\.?|as follows\.?)\s*$")


@dataclass(frozen=True)
class Candidate:
    passage: int  # 1-based number of the passage it comes from
    index: int  # position among the passage's sentences
    start: int  # offsets in the passage's chunk text
    end: int
    text: str
    tokens: frozenset[str]
    kind: str  # "text", "item", "label", "intro", "heading", "link" or "fragment"
    after_heading: bool  # the first sentence under a heading (where notes define their subject)
    scope: frozenset[str]  # tokens of the heading above, the section, the sentences around
    scope_text: str  # the same, as text, for name matching
    near: frozenset[str]  # tokens of the sentences just before and after
    passage_tokens: frozenset[str] = frozenset()  # every token of the passage and its section


def _sentence_kind(text: str, line: str, alone: bool, followed: bool, n_tokens: int) -> str:
    stripped = text.strip()
    if _LINK.search(stripped):
        return "link"
    if _INTRO.search(stripped) and not stripped.endswith("?"):
        return "intro"
    bullet = bool(_BULLET.match(line)) and line.lstrip().startswith(stripped[:1])
    untermed = not _TERMINAL.search(stripped) or stripped.endswith("?")
    explained = ":" in stripped or " - " in stripped or "=" in stripped  # "label: what it is"
    if alone and not bullet and len(stripped) <= HEADING_CHARS and untermed and ":" not in stripped:
        return "heading" if followed or len(stripped) <= 30 else "fragment"
    if len(stripped) < MIN_QUOTE_CHARS or n_tokens < 2:
        return "label" if bullet else "fragment"
    if bullet and untermed and not explained and len(stripped) <= HEADING_CHARS:
        return "label"  # a list entry or a numbered step title: quoted with its list, never alone
    return "item" if bullet else "text"


def candidates(passages: Sequence[Passage]) -> list[Candidate]:
    """Every sentence of ``passages``, classified, with its scope."""
    missing = [p.chunk.text for p in passages if not p.sentences]
    computed = iter(split_many(missing)) if missing else iter(())
    out: list[Candidate] = []
    for number, p in enumerate(passages, start=1):
        text = p.chunk.text
        spans = list(p.sentences) or [SentenceSpan(s.start, s.end, s.tokens) for s in next(computed)]
        section = frozenset(p.section_tokens)
        heading_tokens: frozenset[str] = frozenset()
        heading_text = p.chunk.section or ""
        line_of = [(text.rfind("\n", 0, s.start) + 1, _line_end(text, s.start)) for s in spans]
        kinds = []
        for i, s in enumerate(spans):
            a, b = line_of[i]
            alone = s.start <= a + 1 and s.end >= b - 1
            followed = b < len(text.rstrip())
            kinds.append(_sentence_kind(text[s.start:s.end], text[a:b], alone, followed, len(s.tokens)))
        first = True
        everything = section.union(*(s.tokens for s in spans)) if spans else section
        for i, s in enumerate(spans):
            kind = kinds[i]
            if kind == "heading":
                heading_tokens, heading_text = frozenset(s.tokens), text[s.start:s.end]
                first = True
                continue
            before = frozenset(spans[i - 1].tokens) if i else frozenset()
            after = frozenset(spans[i + 1].tokens) if i + 1 < len(spans) else frozenset()
            scope = section | heading_tokens | before
            scope_text = " ".join(filter(None, [p.chunk.section or "", heading_text,
                                                text[spans[i - 1].start:spans[i - 1].end] if i else ""]))
            out.append(Candidate(number, i, s.start, s.end, text[s.start:s.end], frozenset(s.tokens), kind, first,
                                 scope, scope_text, before | after, everything))
            first = first and kind in ("link", "fragment")
    return out


def _line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    return len(text) if end < 0 else end


def list_items(cands: list[Candidate], intro: Candidate) -> list[Candidate]:
    """The list items after an introduction, in the same passage."""
    out = []
    for c in cands:
        if c.passage != intro.passage or c.index <= intro.index:
            continue
        if c.kind not in ("item", "label", "text", "fragment") or len(out) >= MAX_ITEMS:
            break
        if c.kind == "text" and out:
            break
        out.append(c)
    return out

