"""Quantities written in digits or in words, in Korean and English.

Students ask "몇 단계야?" and the notes answer "두 단계" or "단일 단계" as often as "2단계"; a
count question is answerable when the notes state a count in any of these forms. Korean has two
numeral systems: native numerals (하나/한, 둘/두, 셋/세 ...) take counters such as 가지, 개, 명;
Sino-Korean ones (일, 이, 삼 ...) take counters such as 단계, 층, 년. A numeral word alone is not
a quantity here ("이" is also "this", "세" also "world"), only a numeral with a counter is.
Source for the numeral and counter lists: the National Institute of Korean Language's
standard grammar (수사, 단위성 의존 명사).
"""
from __future__ import annotations

import re

_NATIVE = "하나|한|둘|두|셋|세|넷|네|다섯|여섯|일곱|여덟|아홉|열|스물|스무|서른|마흔|쉰"
# Sino-Korean numerals: one syllable alone only when it is not a common word as well.
_SINO_DIGIT = "일|이|삼|사|오|육|륙|칠|팔|구|십|백|천|만|억|조"
_SINO = rf"(?:(?:{_SINO_DIGIT}){{2,}}|일|삼|육|칠|팔|구|십|백|천|만|억)"
_COUNTER = (
    "가지|개|개의|명|번|번째|단계|종류|층|차|차례|곳|줄|권|대|장|쌍|부분|요소|종|배|년|년도|월|일|주|주차|"
    "시간|분|초|개월|달|세대|버전|회|퍼센트|%|비트|바이트|차원|레이어|계층|억|만"
)
_KO_WORDED = re.compile(rf"(?<![가-힣])(?:{_NATIVE}|{_SINO})\s?(?:{_COUNTER})(?![가-힣]{{3,}})")
# 다중/복수 ("multiple") are left out: they say there are several, not how many.
_KO_SINGLE = re.compile(r"(?<![가-힣])(?:단일|이중|삼중|양방향|단방향|첫|첫째|둘째|셋째)(?=\s?[가-힣]|\b)")
_EN_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|"
    "thousand|million|billion|trillion|single|double|triple|dual|twice|dozen|first|second|third"
)
_EN_WORDED = re.compile(rf"\b(?:{_EN_WORDS})(?:-\w+)?\b", re.IGNORECASE)
_DIGIT = re.compile(r"\d")
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)|\d+\s?년|\d+\s?월")

_COUNT_QUESTION = re.compile(
    r"몇|얼마|개수|갯수|how (?:many|much|long|big|large|old|far)|number of|what (?:size|number|percentage)"
    r"|count\b|amount of",
    re.IGNORECASE,
)
# What a count question counts: "몇 개(의) 언어", "언어가 몇 개", "how many languages". A unit
# counter alone ("몇 단계로", "몇 층이야") names no other noun: the counter is what is counted,
# and a topic ("GAN은 몇 가지로") is what the count is about, not the thing counted.
_GENERIC_COUNTER = "가지|개|종류|명|장|권|대|곳|번|회|쌍"  # counters that do not name the thing
_KO_COUNTED_AFTER = re.compile(rf"몇\s?(?:{_COUNTER})(?:의\s?|\s)([가-힣A-Za-z]{{2,}})")
_KO_COUNTED_BEFORE = re.compile(rf"([가-힣A-Za-z]{{2,}}?)(?:이|가|을|를|도)?\s(?:총\s|모두\s|전부\s)?몇\s?(?:{_GENERIC_COUNTER})")
# Words next to 몇 that are not what is counted: predicates ("지원해") and adverbs ("각각").
_NOT_COUNTED = re.compile(r"^(?:하|해|했|되|돼|됐|된|있|없|쓰|써|이야|인가|일까|각각|정도|정확히|대략|보통|모두|총)")
_EN_COUNTED = re.compile(r"how many ([a-z][a-z\-]+)", re.IGNORECASE)
_DATE_QUESTION = re.compile(r"언제|몇\s?년|연도|년도|날짜|시기|what year|which year|what date"
    # "when" asks for a time as the question word, not as a conjunction ("... use when building X?")
    r"|^\W*when\b|\bwhen (?:was|were|is|are|did|does|do|will|has|have|had|can|could)\b", re.IGNORECASE)


def has_quantity(text: str) -> bool:
    """True when ``text`` states a number: digits, a numeral word with a counter, or a word such
    as 단일 / single / two."""
    return bool(_DIGIT.search(text) or _KO_WORDED.search(text) or _KO_SINGLE.search(text) or _EN_WORDED.search(text))


def has_date(text: str) -> bool:
    """True when ``text`` states a year, a month or a date."""
    return bool(_YEAR.search(text))


def asks_count(question: str) -> bool:
    """A question whose answer is a number or an amount ("몇 개", "how many")."""
    return bool(_COUNT_QUESTION.search(question)) and not asks_date(question)


def asks_date(question: str) -> bool:
    """A question whose answer is a date or a year ("언제", "when", "몇 년도")."""
    return bool(_DATE_QUESTION.search(question))


def counted_nouns(question: str) -> list[str]:
    """The words a count question may be counting ("언어를" of "몇 개 언어를", "languages" of
    "how many languages"), as written, particles and all, most likely first; empty when only a
    counter follows 몇 ("몇 단계로"). The caller keeps the first that is one of the question's
    nouns (a predicate such as "지원해" or a topic that is the focus is not what is counted)."""
    words = [m.group(1).lower() for m in _EN_COUNTED.finditer(question)]
    for pattern in (_KO_COUNTED_AFTER, _KO_COUNTED_BEFORE):
        words += [m.group(1) for m in pattern.finditer(question) if not _NOT_COUNTED.search(m.group(1))]
    return words


def quantity_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every number, worded count or date in ``text``."""
    spans = []
    for pattern in (_DIGITS, _KO_WORDED, _KO_SINGLE, _EN_WORDED):
        spans.extend(m.span() for m in pattern.finditer(text))
    return spans


def date_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every year, month or date in ``text``."""
    return [m.span() for m in _YEAR.finditer(text)]
