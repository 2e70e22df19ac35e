"""Noun phrases and the focus of a question: the one place both are read from Kiwi's tags.

The reader's intent (``rag.language.intent``: focus, context and asked attribute of each part)
and follow-up resolution (``rag.language.references``: what "그것" stands for, whether a question
has a subject of its own) both start from these phrases, so a question's focus is the same thing
to both.

A noun phrase is a run of nominal morphemes (``NOUN_TAGS``: common and proper nouns, bound
nouns, numerals, Latin, Hanja and number tokens, noun roots), continued by a suffix (XSN), a
symbol (SO: "GPT-3") or a gloss in parentheses ("Generator(생성자)"). A word of the question's
frame (``QUESTION_WORDS``: "설명", "뜻", "explain"), an English stop word or an English
anaphor ends a phrase and belongs to none. Each phrase keeps the particle after it, which
decides topic and owner ("X의 Y는").
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from rag.language.korean import detect_lang, morphemes
from rag.language.query import QUESTION_WORDS

NOUN_TAGS = frozenset({"NNG", "NNP", "NNB", "NR", "SL", "SN", "SH", "XR"})
NAME_TAGS = frozenset({"NNP", "SL", "SN", "SH"})
NOMINAL_TAGS = frozenset({"NNG", "NNP", "NR", "SL", "SN", "SH"})  # a phrase of its own: not only 것, 수 or a root
CONTINUATION_TAGS = frozenset({"XSN", "SO", "SSO", "SSC"})
TOPIC_PARTICLES = frozenset({"JX", "JKS"})
EN_ANAPHORS = frozenset({"it", "its", "they", "them", "their", "this", "these", "those", "he", "she", "him", "his", "her"})
# Nouns that name what is asked, not what it is asked about ("X를 하는 이유는?").
FRAME_NOUNS = frozenset({"이유", "까닭", "차이", "차이점", "방법", "방식", "뜻", "의미", "정의", "종류", "유형", "가지", "수", "점",
                         "것", "거", "들", "무엇", "뭐", "곳"})
_FRAME_WORDS = QUESTION_WORDS | ENGLISH_STOP_WORDS | EN_ANAPHORS


@dataclass(frozen=True)
class NounPhrase:
    """One noun phrase of a text: its morphemes' forms and tags, its character span
    ``[start, end)`` and surface, and the tag and form of the morpheme after it (None at the end)."""

    forms: tuple[str, ...]
    tags: tuple[str, ...]
    start: int
    end: int
    surface: str
    particle: str | None = None
    particle_form: str = ""
    spans: tuple[tuple[int, int], ...] = ()  # each morpheme's [start, end) in the text

    def without_bound_tail(self, text: str) -> "NounPhrase | None":
        """The phrase less its trailing bound nouns ("GRU 등" -> "GRU", "세 개" -> "세"), as
        a thing's name is written; None when nothing else is left."""
        n = len(self.tags)
        while n and self.tags[n - 1] == "NNB":
            n -= 1
        if n == len(self.tags):
            return self
        if not n:
            return None
        end = self.spans[n - 1][1]
        return NounPhrase(self.forms[:n], self.tags[:n], self.start, end, text[self.start:end], "NNB",
                          self.forms[n], self.spans[:n])

    @property
    def named(self) -> bool:
        """Holds a name: a proper noun, a Latin word, Hanja or a number."""
        return any(t in NAME_TAGS for t in self.tags)

    @property
    def nominal(self) -> bool:
        """A phrase that can be a subject: not only bound nouns (것, 수) or noun roots."""
        return any(t in NOMINAL_TAGS for t in self.tags)


def _tag(token) -> str:  # noqa: ANN001 - kiwipiepy token
    return token.tag.split("-")[0]  # Kiwi marks regular/irregular conjugation as VV-R, VA-I


def noun_phrases(text: str) -> list[NounPhrase]:
    """The noun phrases of ``text`` in order (see the module docstring for what one is)."""
    toks = morphemes(text)
    phrases: list[NounPhrase] = []
    run: list = []

    def close(after) -> None:  # noqa: ANN001 - the kiwipiepy token after the run, or None
        while run and _tag(run[-1]) in ("SO", "SSO"):  # a dangling hyphen or opening bracket
            run.pop()
        if run:
            start, end = run[0].start, run[-1].start + run[-1].len
            surface = text[start:end].rstrip(".,;:!?")  # Kiwi may keep a full stop on a Latin word
            phrases.append(NounPhrase(tuple(t.form for t in run), tuple(_tag(t) for t in run), start,
                                      start + len(surface), surface,
                                      _tag(after) if after is not None else None, after.form if after is not None else "",
                                      tuple((t.start, min(t.start + t.len, start + len(surface))) for t in run)))
        run.clear()

    for t in toks:
        tag = _tag(t)
        frame = t.form.lower() in _FRAME_WORDS
        if tag in NOUN_TAGS and not frame:
            run.append(t)
        elif run and tag in CONTINUATION_TAGS and not frame:
            run.append(t)
        else:
            close(t)
    close(None)
    return phrases


def owned_topic(phrases: list[NounPhrase], text: str) -> tuple[NounPhrase, NounPhrase] | None:
    """(owner, topic) when a Korean question reads "X의 Y는 ...": Y, its topic, is an attribute
    asked of X, its owner; else None."""
    topic = next((p for p in phrases if p.particle in TOPIC_PARTICLES), None)
    if topic is None:
        return None
    owner = [p for p in phrases if p.end <= topic.start and p.particle_form == "의"]
    if owner and text[owner[-1].end:topic.start].strip() == "의":
        return owner[-1], topic
    return None


def korean_focus(phrases: list[NounPhrase], text: str) -> NounPhrase | None:
    """The phrase a Korean question is about, among ``phrases`` (those of ``text``, frame-only
    ones left out): "X의 Y는" makes X the focus (``owned_topic``); else the topic or subject
    phrase when it holds a name; else the first phrase with a name; else the topic phrase;
    else the first."""
    if not phrases:
        return None
    owned = owned_topic(phrases, text)
    if owned is not None:
        return owned[0]
    topic = next((p for p in phrases if p.particle in TOPIC_PARTICLES), None)
    if topic is not None and topic.named:
        return topic
    named = [p for p in phrases if p.named]
    return named[0] if named else (topic or phrases[0])


def content_phrases(text: str) -> list[NounPhrase]:
    """The phrases of ``text`` that name something: not frame nouns only ("이유", "차이")."""
    return [p for p in noun_phrases(text) if not all(f in FRAME_NOUNS for f in p.forms)]


def focus_of(question: str) -> str | None:
    """The surface of the thing a question is about. Korean: ``korean_focus``. English (where
    Kiwi tags every word SL): the first run of capitalised words or acronyms ("BERT",
    "Super Resolution"), else the first noun phrase."""
    if detect_lang(question) == "en":
        runs = re.findall(r"(?:\b(?:[A-Z][\w-]*|\w*\d\w*)(?:\s+|$))+", question + " ")
        for run in runs:
            words = [w for w in run.split() if w.lower() not in _FRAME_WORDS]  # what/how/...: stop words
            if words:
                return " ".join(words)
        phrases = [p for p in noun_phrases(question) if p.nominal and not p.surface.isdigit()]
        return phrases[0].surface if phrases else None
    phrases = [p for p in content_phrases(question) if p.nominal and not p.surface.isdigit()]
    focus = korean_focus(phrases, question)
    return focus.surface if focus else None
