"""Candidate answer spans of one sentence.

A short answer is a span of the sentence that proves it, so candidates are spans, never
rewritten text: each is ``(start, end)`` into the sentence and its text is ``sentence[start:end]``.
Sources (a span found by several keeps the first kind in this order):

- dates and quantities (``rag.language.numerals``: "1988년 3월", "3개", "세 개", "십여 명"), joined when
  consecutive ("1989년 12월 18일 오전 7시"), with the noun they count when one follows;
- quoted terms: the text between quotes or title brackets ('...', "...", 「...」, 《...》, ...);
- Latin names: runs of Latin words and digits ("Geoffrey Hinton", "GPT-4");
- noun phrases from Kiwi's morphemes: every contiguous sub-run, up to ``MAX_TOKENS`` morphemes,
  of a run of nouns, names, numbers, hanja and Latin (with the affixes, hyphens and balanced
  brackets inside them), so "학생회관 건물 계단" yields "학생회관", "건물 계단", ... as well.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from rag.language.korean import morphemes
from rag.language.numerals import date_spans, quantity_spans

MAX_TOKENS = 8  # longest noun-phrase candidate, in morphemes (KorQuAD dev: few gold spans longer)
MAX_CHARS = 40  # longest candidate of any source, in characters

# Morphemes that make up noun phrases, and those that may sit inside one but not at its edges.
HEAD_TAGS = frozenset({"NNG", "NNP", "NNB", "NR", "SN", "SL", "SH", "XR"})  # no pronouns ("그", "이것")
INNER_TAGS = frozenset({"XSN", "XPN", "SO", "SSO", "SSC", "SW", "JKG", "JC"})
END_TAGS = HEAD_TAGS | {"XSN", "SSC", "SW"}
START_TAGS = (HEAD_TAGS - {"NNB"}) | {"XPN", "SSO", "MM"}
# Determiners that are numerals ("세 개", "두 명"); other determiners ("이", "그") end a phrase.
NUMERAL_DETERMINERS = frozenset("한 두 세 네 다섯 여섯 일곱 여덟 아홉 열 스무 첫 몇 수 여러".split())
_SYMBOL_TAGS = frozenset({"SO", "SSO", "SSC", "SW", "JKG", "JC"})  # edges a word may be cut at
_QUOTED = re.compile(r"'([^']{1,38})'|\"([^\"]{1,38})\"|‘([^’]{1,38})’|“([^”]{1,38})”|「([^」]{1,38})」|『([^』]{1,38})』"
                     r"|《([^》]{1,38})》|〈([^〉]{1,38})〉|<([^>]{1,38})>")
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[ \-.&][A-Za-z0-9]+)*")
_DATE_UNIT = re.compile(r"\d+\s?(?:년|월|일|세기|시|분|초)|(?:19|20)\d\d|(?:오전|오후|새벽|저녁)")
_QUANTITY_JOIN = re.compile(r"^[\s~\-–,]{0,2}$")  # what may separate the parts of one date or range
_EDGE = ",.;:·'\"‘’“”"  # stripped from a candidate's edges (a quoted term's inside is its own candidate)
_PAIRS = {"(": ")", "[": "]", "{": "}", "《": "》", "〈": "〉", "「": "」", "『": "』", "<": ">"}


class Source(StrEnum):
    """Where a candidate came from (a feature, and what the tests check)."""

    QUANTITY = "quantity"
    QUOTED = "quoted"
    LATIN = "latin"
    NOUN_PHRASE = "noun_phrase"


@dataclass(frozen=True, slots=True)
class Candidate:
    """``sentence[start:end]``; ``tokens`` are the indices (first, last + 1) of the Kiwi
    morphemes it covers (``(-1, -1)`` when it cuts through one)."""

    start: int
    end: int
    source: Source
    tokens: tuple[int, int]


def _balanced(text: str) -> bool:
    stack = []
    for ch in text:
        if ch in _PAIRS:
            stack.append(_PAIRS[ch])
        elif ch in _PAIRS.values():
            if not stack or stack.pop() != ch:
                return False
    return not stack


def _trim(sentence: str, a: int, b: int) -> tuple[int, int]:
    while a < b and (sentence[a].isspace() or sentence[a] in _EDGE):
        a += 1
    while b > a and (sentence[b - 1].isspace() or sentence[b - 1] in _EDGE):
        b -= 1
    return a, b


def _tag(tok) -> str:  # noqa: ANN001 - kiwipiepy token
    tag = tok.tag.split("-")[0]
    if tag == "MM" and tok.form not in NUMERAL_DETERMINERS:
        return "MM-other"
    return tag


def _noun_runs(toks) -> list[tuple[int, int]]:  # noqa: ANN001 - kiwipiepy tokens
    """(first, last + 1) token indices of maximal runs of noun-phrase morphemes."""
    runs, i = [], 0
    while i < len(toks):
        if _tag(toks[i]) not in START_TAGS:
            i += 1
            continue
        j = i + 1
        while j < len(toks) and _tag(toks[j]) in HEAD_TAGS | INNER_TAGS | {"MM"}:
            j += 1
        runs.append((i, j))
        i = j
    return runs


def _boundary(toks, k: int, first: int, last: int) -> bool:  # noqa: ANN001
    """Whether a candidate may start at token ``k`` (or end before it) within the run
    [first, last): at the run's edges, at a space, or next to a bracket or symbol; never
    inside a word ("1988년" is not cut into "1988" + "년", "학생회관" not into "학생")."""
    if k <= first or k >= last:
        return True
    if toks[k].start > toks[k - 1].end:
        return True
    return _tag(toks[k]) in _SYMBOL_TAGS or _tag(toks[k - 1]) in _SYMBOL_TAGS


def _quantities(sentence: str) -> list[tuple[int, int]]:
    """Dates and quantities, consecutive ones joined ("1989년 12월 18일", "12월 18일~20일")."""
    parts = sorted(set(quantity_spans(sentence)) | set(date_spans(sentence))
                   | {m.span() for m in _DATE_UNIT.finditer(sentence)})
    merged: list[list[int]] = []
    for a, b in parts:
        if merged and (a <= merged[-1][1] or _QUANTITY_JOIN.match(sentence[merged[-1][1]:a])):
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def candidates(sentence: str) -> list[Candidate]:
    """Candidate answer spans of ``sentence``, deduplicated, in order of start then end.

    Shape: ``Candidate`` list; every ``sentence[c.start:c.end]`` is non-empty, trimmed of
    spaces and edge punctuation, at most ``MAX_CHARS`` long, with balanced brackets."""
    toks = morphemes(sentence)
    starts = {t.start: i for i, t in enumerate(toks)}
    ends = {t.end: i + 1 for i, t in enumerate(toks)}
    found: dict[tuple[int, int], Candidate] = {}

    def add(a: int, b: int, source: Source) -> None:
        a, b = _trim(sentence, a, b)
        if b <= a or b - a > MAX_CHARS or (a, b) in found or not _balanced(sentence[a:b]):
            return
        found[(a, b)] = Candidate(a, b, source, (starts.get(a, -1), ends.get(b, -1)))

    for a, b in _quantities(sentence):
        add(a, b, Source.QUANTITY)
    for m in _QUOTED.finditer(sentence):
        g = next(i for i in range(1, m.re.groups + 1) if m.group(i) is not None)
        add(m.start(g), m.end(g), Source.QUOTED)
    for m in _LATIN.finditer(sentence):
        add(m.start(), m.end(), Source.LATIN)
    for first, last in _noun_runs(toks):
        for i in range(first, last):
            if _tag(toks[i]) not in START_TAGS or not _boundary(toks, i, first, last):
                continue
            for j in range(i + 1, min(last, i + MAX_TOKENS) + 1):
                if _tag(toks[j - 1]) in END_TAGS and _boundary(toks, j, first, last):
                    add(toks[i].start, toks[j - 1].end, Source.NOUN_PHRASE)
    return sorted(found.values(), key=lambda c: (c.start, c.end))
