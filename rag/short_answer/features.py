"""Features of a candidate span for a question, and the answer types questions ask for.

``answer_type`` reads the question words (a small table, ``SPECS``, one entry per type);
``QuestionInfo`` holds what the span features need from the question (its content morphemes,
the head noun it asks about, the particle after its question word); ``featurize`` turns each
candidate of a sentence into a fixed-length vector whose names are ``FEATURE_NAMES``:

- answer type x span type (one-hot of the pair), and the span type alone;
- the span's length (characters, morphemes, words) and relative position in the sentence;
- whether it repeats the question's words (share of its content morphemes in the question);
- distance (characters and morphemes, log1p) to the nearest question word outside the span,
  and how many distinct question words lie within 3 / 8 morphemes of it;
- the particle after the span (one-hot) and whether it is the one after the question word
  ("어디에서" and "...에서"), whether the span ends with or holds the question's head noun
  ("어느 정당" and "신한국당"), how it was cut (whole noun run, inner 의/와, brackets, quotes),
  and the share of its character bigrams found in the question.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from rag.language.korean import CONTENT_TAGS, STOP_STEMS, morphemes
from rag.language.numerals import quantity_spans
from rag.short_answer.candidates import Candidate, Source


class AnswerType(StrEnum):
    """What a question asks for; the first five kinds below FACTOID get no short answer."""

    COMPARISON = "comparison"
    REASON = "reason"
    METHOD = "method"
    DEFINITION = "definition"
    NONE = "none"  # no question word: a yes/no question or a request
    WHEN = "when"
    HOW_MANY = "how_many"
    WHO = "who"
    WHERE = "where"
    CALLED = "called"
    WHICH = "which"
    WHAT = "what"


NOT_FACTOID = frozenset({AnswerType.COMPARISON, AnswerType.REASON, AnswerType.METHOD, AnswerType.DEFINITION,
                         AnswerType.NONE})

_ENDING = r"(?:은|는|이|가)?\s*(?:무엇|뭐|누구|어디)?\S{0,4}\s*\??\s*$"
# One spec per type, tried in this order: the first pattern found in the question decides.
SPECS: tuple[tuple[AnswerType, re.Pattern[str]], ...] = (
    (AnswerType.COMPARISON, re.compile(r"차이|비교|다른 ?점|무엇이 다르|어떻게 다르|어떻게 달라|\bvs\b|versus|differ", re.I)),
    (AnswerType.CALLED, re.compile(r"뭐라고|무엇이라고|무엇이라 |라고 (?:불|부르|하)|(?:이름|명칭|별명|별칭|제목|애칭|약칭|호|명)(?:은|는|이|을)?\s*(?:무엇|뭐|\?|$)"
                                   r"|called|named|\bname\b", re.I)),
    (AnswerType.REASON, re.compile(r"왜|이유|까닭|원인|\bwhy\b", re.I)),
    (AnswerType.METHOD, re.compile(r"어떻게|어떤 방법|어떤 방식|어떤 식|방법은|\bhow (?:does|do|is|are|can|to)\b"
                                   r"|\bwhat (?:does|do|did)\b.+\bdo\b", re.I)),  # "what does X do?": its function
    (AnswerType.DEFINITION, re.compile(r"정의|뜻|의미|^\s*[^\s?]+\s*(?:이?란|은|는|이|가)\s*(?:무엇|뭐|뭔)\S*\s*\??\s*$"
                                       r"|이?란\s*\??\s*$|^\s*what (?:is|are) [^?]{1,30}\??$|\bdefin|\bmeaning\b", re.I)),
    (AnswerType.WHEN, re.compile(r"언제|몇\s?년|몇\s?월|며칠|몇\s?일|몇\s?시|\bwhen\b|what year|which year", re.I)),
    (AnswerType.HOW_MANY, re.compile(r"몇|얼마|\bhow (?:many|much|long|old)\b", re.I)),
    (AnswerType.WHO, re.compile(r"누구|누가|누군|\bwho\b", re.I)),
    (AnswerType.WHERE, re.compile(r"어디|\bwhere\b", re.I)),
    # The noun the question ends on says what it asks for: "... 돌아간 해는?", "... 파견된 인물은?"
    # "해" is the year only as a noun with its particle ("돌아간 해는?"); "무슨 일을 해?" is the verb.
    (AnswerType.WHEN, re.compile(rf"(?:연도|년도|날짜|시기|시점|날|해(?=는|가|를)|때|시각|기간){_ENDING}")),
    (AnswerType.HOW_MANY, re.compile(rf"(?:개수|갯수|인원|규모| 수|금액|비율|나이|크기|길이|높이){_ENDING}")),
    (AnswerType.WHO, re.compile(rf"(?:인물|사람|선수|감독|작가|가수|배우|선수|저자|주인공|이|자){_ENDING}")),
    (AnswerType.WHERE, re.compile(rf"(?:장소|지역|나라|국가|도시|위치|곳|지명){_ENDING}")),
    (AnswerType.WHICH, re.compile(r"어느|어떤|무슨|\bwhich\b", re.I)),
    (AnswerType.WHAT, re.compile(r"무엇|뭐|뭘|무얼|(?:은|는|을|를|이|가)\s*\??\s*$|\bwhat\b", re.I)),
)


def answer_type(question: str) -> AnswerType:
    """The answer type of ``question`` by ``SPECS`` (``NONE`` when no spec matches)."""
    for kind, pattern in SPECS:
        if pattern.search(question):
            return kind
    return AnswerType.NONE


class SpanType(StrEnum):
    DATE = "date"
    NUMBER = "number"  # a number, with or without its counter
    LATIN = "latin"
    QUOTED = "quoted"
    PROPER = "proper"  # holds a proper noun (person, place, organisation)
    NOUN = "noun"


_DATE = re.compile(r"\d\s?(?:년|월|일|세기|시|분)|(?:19|20)\d\d|오전|오후")
_NUMBER = re.compile(r"\d|(?:^|\s)(?:한|두|세|네|다섯|여섯|일곱|여덟|아홉|열|스무|십|백|천|만|첫)(?:\s?[가-힣]{1,2})?$")
def states_number(text: str) -> bool:
    """A date, a digit, a Korean numeral word or a quantity (``rag.language.numerals``: "2조 개",
    "1988년", "세 번", "만오천명"): what a span must state to answer a count question."""
    return bool(_DATE.search(text) or _NUMBER.search(text) or quantity_spans(text))


_WH_FORMS = frozenset({"무엇", "뭐", "누구", "어디", "언제", "몇", "어느", "어떤", "무슨", "얼마", "무얼", "뭘", "왜", "어떻게"})
NOUN_TAGS = frozenset({"NNG", "NNP", "SL", "SH", "XR"})
PARTICLES = ("가", "를", "는", "의", "에", "에서", "로", "와", "이다", "도", "라고", "end", "other")
_PARTICLE_OF = {"이": "가", "가": "가", "께서": "가", "을": "를", "를": "를", "은": "는", "는": "는", "의": "의",
                "에": "에", "에게": "에", "에서": "에서", "으로": "로", "로": "로", "와": "와", "과": "와",
                "이랑": "와", "랑": "와", "도": "도", "이라고": "라고", "라고": "라고"}


def _particle(toks, k: int) -> str:  # noqa: ANN001 - kiwipiepy tokens
    """The particle class of morpheme ``k`` (the one after a span or a question word)."""
    if k >= len(toks) or toks[k].tag in ("SF", "SP"):
        return "end"
    tok = toks[k]
    if tok.tag == "VCP":
        return "이다"
    if tok.tag.startswith("J"):
        return _PARTICLE_OF.get(tok.form, "other")
    return "other"


def _norm(tok) -> str | None:  # noqa: ANN001
    tag = tok.tag.split("-")[0]
    if tag not in CONTENT_TAGS or tok.form in STOP_STEMS:
        return None
    return tok.form.lower()


@dataclass(frozen=True)
class QuestionInfo:
    """What the features need from a question."""

    kind: AnswerType
    words: frozenset[str]  # content morphemes, Latin lower-cased
    head: str  # the noun the question asks about ("정당" of "어느 정당의"), "" if none
    particle: str  # particle class after the question word (or the head noun), "other" if none
    bigrams: frozenset[str] = frozenset()  # character bigrams of the question, spaces removed

    @classmethod
    def of(cls, question: str) -> "QuestionInfo":
        toks = morphemes(question)
        words = frozenset(w for w in map(_norm, toks) if w and w not in _WH_FORMS)
        head, particle = "", "other"
        wh = next((i for i, t in enumerate(toks) if t.form in _WH_FORMS), None)
        if wh is not None and toks[wh].tag == "MM":  # "어느 정당의", "몇 명이"
            nxt = next((i for i in range(wh + 1, len(toks)) if toks[i].tag.split("-")[0] in NOUN_TAGS | {"NNB"}), None)
            if nxt is not None:
                head, particle = toks[nxt].form, _particle(toks, nxt + 1)
        elif wh is not None:
            particle = _particle(toks, wh + 1)
        if not head:
            before = [i for i, t in enumerate(toks[: wh if wh is not None else len(toks)])
                      if t.tag.split("-")[0] in NOUN_TAGS]
            if before:
                head = toks[before[-1]].form
                if wh is None:
                    particle = "other"
        return cls(answer_type(question), words, head.lower(), particle, _bigrams(question))


def _bigrams(text: str) -> frozenset[str]:
    flat = "".join(text.lower().split())
    return frozenset(flat[i:i + 2] for i in range(len(flat) - 1))


def _span_type(text: str, cand: Candidate, toks, first: int, last: int) -> SpanType:  # noqa: ANN001
    if _DATE.search(text):
        return SpanType.DATE
    if _NUMBER.search(text):
        return SpanType.NUMBER
    if cand.source == Source.QUOTED:
        return SpanType.QUOTED
    if re.fullmatch(r"[A-Za-z0-9 .\-&]+", text):
        return SpanType.LATIN
    if any(toks[k].tag == "NNP" for k in range(first, last)):
        return SpanType.PROPER
    return SpanType.NOUN


_PAIRS = [f"pair={a}|{s}" for a in AnswerType if a not in NOT_FACTOID for s in SpanType]
FEATURE_NAMES: tuple[str, ...] = tuple(
    _PAIRS + [f"span={s}" for s in SpanType] + [f"particle={p}" for p in PARTICLES]
    + ["log_chars", "tokens", "words", "position", "repeat_share", "repeat_any", "repeat_all",
       "log_dist_chars", "log_dist_tokens", "no_question_word", "near3", "near8", "particle_match",
       "head_end", "head_inside", "head_after", "whole_run", "inner_link", "brackets", "quoted", "proper_share",
       "digits", "latin", "question_left", "question_right", "char_repeat"])
_INDEX = {name: i for i, name in enumerate(FEATURE_NAMES)}


def _covered(toks, a: int, b: int) -> tuple[int, int]:  # noqa: ANN001
    """Morpheme indices [first, last) that overlap sentence[a:b]."""
    idx = [k for k, t in enumerate(toks) if t.start < b and t.end > a]
    return (idx[0], idx[-1] + 1) if idx else (0, 0)


def featurize(q: QuestionInfo, sentence: str, cands: list[Candidate]) -> np.ndarray:
    """Feature matrix, shape (len(cands), len(FEATURE_NAMES)), float64."""
    toks = morphemes(sentence)
    norms = [_norm(t) for t in toks]
    hits = [k for k, w in enumerate(norms) if w and w in q.words]
    out = np.zeros((len(cands), len(FEATURE_NAMES)))
    n = max(len(sentence), 1)
    for r, c in enumerate(cands):
        text = sentence[c.start:c.end]
        first, last = _covered(toks, c.start, c.end)
        row = out[r]
        stype = _span_type(text, c, toks, first, last)
        if q.kind not in NOT_FACTOID:
            row[_INDEX[f"pair={q.kind}|{stype}"]] = 1
        row[_INDEX[f"span={stype}"]] = 1
        particle = _particle(toks, last)
        row[_INDEX[f"particle={particle}"]] = 1
        row[_INDEX["log_chars"]] = math.log1p(len(text))
        row[_INDEX["tokens"]] = last - first
        row[_INDEX["words"]] = len(text.split())
        row[_INDEX["position"]] = c.start / n
        inside = [w for w in norms[first:last] if w]
        rep = sum(w in q.words for w in inside)
        row[_INDEX["repeat_share"]] = rep / len(inside) if inside else 0.0
        row[_INDEX["repeat_any"]] = float(rep > 0)
        row[_INDEX["repeat_all"]] = float(bool(inside) and rep == len(inside))
        outside = [k for k in hits if k < first or k >= last]
        if outside:
            dist_t = min(first - k if k < first else k - last + 1 for k in outside)
            dist_c = min(max(c.start - toks[k].end, toks[k].start - c.end, 0) for k in outside)
            row[_INDEX["log_dist_tokens"]] = math.log1p(dist_t)
            row[_INDEX["log_dist_chars"]] = math.log1p(dist_c)
            row[_INDEX["near3"]] = len({norms[k] for k in outside if first - 3 <= k < last + 3})
            row[_INDEX["near8"]] = len({norms[k] for k in outside if first - 8 <= k < last + 8})
            row[_INDEX["question_left"]] = len({norms[k] for k in outside if k < first}) / max(len(q.words), 1)
            row[_INDEX["question_right"]] = len({norms[k] for k in outside if k >= last}) / max(len(q.words), 1)
        else:
            row[_INDEX["log_dist_tokens"]] = math.log1p(len(toks))
            row[_INDEX["log_dist_chars"]] = math.log1p(n)
            row[_INDEX["no_question_word"]] = 1
        row[_INDEX["particle_match"]] = float(q.particle != "other" and particle == q.particle)
        if q.head:
            low = text.lower()
            row[_INDEX["head_end"]] = float(low.endswith(q.head) or (len(q.head) > 1 and low.endswith(q.head[-1])))
            row[_INDEX["head_inside"]] = float(q.head in low)
            row[_INDEX["head_after"]] = float(last < len(toks) and toks[last].form.lower() == q.head
                                              or last + 1 < len(toks) and toks[last + 1].form.lower() == q.head)
        row[_INDEX["whole_run"]] = float((first == 0 or norms[first - 1] is None or toks[first - 1].tag.startswith("J"))
                                         and particle != "other")
        row[_INDEX["inner_link"]] = float(any(toks[k].tag in ("JKG", "JC") for k in range(first, last)))
        row[_INDEX["brackets"]] = float(any(ch in "()[]《》〈〉「」" for ch in text))
        row[_INDEX["quoted"]] = float(c.source == Source.QUOTED)
        row[_INDEX["proper_share"]] = sum(toks[k].tag == "NNP" for k in range(first, last)) / max(last - first, 1)
        row[_INDEX["digits"]] = float(any(ch.isdigit() for ch in text))
        row[_INDEX["latin"]] = float(bool(re.search(r"[A-Za-z]", text)))
        # Share of the span's character bigrams (spaces removed) found in the question: catches
        # repeats Kiwi splits differently ("트레이드마크" / "트레이드 마크").
        grams = _bigrams(text)
        row[_INDEX["char_repeat"]] = len(grams & q.bigrams) / len(grams) if grams else 0.0
    return out
