"""The rule reader's lexical signals, now features of the learned reader (rag.reading.features).

These rules once decided on their own which sentence answers a question; they are no longer
decisions: each gives a column of the ranker's row (rag.reader.part_rows), and the learned models
(rag.reading.model) decide. Per (question part, candidate sentence):
- ``evidence``: the rule answerability, the focus and the asked attribute stated together (in the
  sentence or its scope, IDF-weighted: ``share``); a versioned name must be the same name
  ("GPT-4" is not "GPT-3"); count and date questions need a number or a date near the stated
  terms (rag.language.numerals), bound to the counted noun when the question names one;
- coverage (returned with ``evidence``): the weighted share of all the question's concepts stated;
- ``cue``: a cue for what is asked: a definition ("X란 ...이다"), a reason (때문, 위해, because),
  a method (통해, 이용, by), a count or a date, a list.
``about_focus`` (whether a sentence itself names the focus) is the one rule still applied after
ranking: the reader quotes further sentences for definitions and comparisons only when they name
the thing asked about (rag.reading.kinds, ``KindSpec.names_focus``).
The factors below are the rule reader's hand-set values; the ranker learns how much each signal
counts.
"""
from __future__ import annotations

import re

from rag.language.intent import CONTEXT_SHARE, Part
from rag.language.names import fold, mentions
from rag.language.numerals import counted_nouns, date_spans, has_date, has_quantity, quantity_spans
from rag.language.query import ENTITY, NOUN, Concept
from rag.reading.candidates import Candidate
from rag.reading.kinds import QuestionKind

SCOPE_SHARE = 0.8  # a focus concept stated in the sentence's scope, not in the sentence itself
PASSAGE_SHARE = 0.6  # ... stated elsewhere in the passage (the paragraph is about it)
ATTRIBUTE_SCOPE_SHARE = 0.5
FOCUS_WEIGHT = 0.5  # how much a missing focus lowers a sentence that states the attribute
NAMED_FOCUS_WEIGHT = 0.9  # ... when the focus is a name
ABSENT_FOCUS = 0.2  # evidence factor when no focus concept occurs anywhere in the notes
PREDICATE_WEIGHT = 0.3  # how much predicates count when the question asks nothing else
OTHER_SUBJECT = 0.3  # focus factor when the sentence's own subject is another name
NEAR_CHARS = 20  # a number this close to a stated term is the asked quantity
BOUND_CHARS = 8  # a number this close to the counted noun counts it: "3개의 언어", "언어를 총 3개"
PHRASE_MISSING = 0.5  # focus factor when a name of several words is not stated as such
QUANTITY_MISSING = 0.05  # evidence factor when a count/date question's sentence states none

_DEFINITION = re.compile(r"(?:이?란|이?라고|이라는|은|는)\s|\b(?:is|are|refers to|means)\b")
_DEFINITION_END = re.compile(r"(?:이다|다|입니다|이며|임|을 말한다|를 말한다|의미한다|뜻한다)[.)]*\s*$")
_CUES = {
    QuestionKind.REASON: re.compile(r"때문|위해|위하여|위한|이유|므로|덕분|원인|으로 인해|해결|방지|목적|because|so that|in order to|due to",
                         re.I),
    QuestionKind.METHOD: re.compile(r"통해|통하여|이용하여|이용해|방법으로|방식으로|과정|거쳐|으로써|함으로써|단계|\bby\b|using|through|via",
                         re.I),
}


def share(concepts, weights: dict[str, float], here: frozenset[str], around: frozenset[str],  # noqa: ANN001
          around_share: float) -> float:
    """Weighted share of ``concepts`` stated ``here`` (full weight) or ``around`` (a share)."""
    total = sum(weights.get(c.surface, 0.0) for c in concepts)
    if total <= 0:
        return 1.0
    got = 0.0
    for c in concepts:
        w = weights.get(c.surface, 0.0)
        if any(a in here for a in c.alternatives):
            got += w
        elif any(a in around for a in c.alternatives):
            got += around_share * w
    return got / total


def cue(kind: str, cand: Candidate, part: Part) -> float:
    """In [0, 1]: whether the sentence has the shape of an answer to a question of ``kind``
    (a definition of the focus early in the sentence, a reason or method word, a number, a date,
    a list); 0.5 for kinds without a cue."""
    text = cand.text
    if kind == QuestionKind.DEFINITION:
        head = fold(text[: max(20, len(text) // 3)])
        focus_early = any(any(a in head for a in c.alternatives) for c in part.focus)
        if focus_early and (_DEFINITION.search(text) or _DEFINITION_END.search(text)):
            return 1.0
        return 0.8 if cand.after_heading and any(a in cand.scope for c in part.focus for a in c.alternatives) else 0.2
    if kind in _CUES:
        return 1.0 if _CUES[kind].search(text) else 0.0
    if kind == QuestionKind.COUNT:
        return 1.0 if has_quantity(text) else 0.0
    if kind == QuestionKind.DATE:
        return 1.0 if has_date(text) else 0.0
    if kind == QuestionKind.LIST:
        return 1.0 if cand.kind == "intro" or text.count(",") + text.count("·") >= 2 or "등" in text else 0.2
    return 0.5


def part_weights(part: Part, weights: dict[str, float]) -> dict[str, float]:
    """The concept weights (surface -> IDF weight) for one part: the part's boost on its focus and
    attribute, ``CONTEXT_SHARE`` of the weight for its context concepts (rag.language.intent)."""
    out = {c.surface: weights.get(c.surface, 0.0) * part.boost.get(c.surface, 1.0) for c in part.focus + part.attribute}
    out.update({c.surface: weights.get(c.surface, 0.0) * CONTEXT_SHARE for c in part.context})
    return out


def evidence(part: Part, cand: Candidate, weights: dict[str, float],
             unchecked: frozenset[str] = frozenset(), absent: frozenset[str] = frozenset()) -> tuple[float, float]:
    """(answerability, coverage) of one sentence for one part.

    The attribute must be stated in the sentence or next to it, and about the focus: the
    answerability is the attribute's weighted share, halved when the focus is not in the
    sentence's scope either; zero when a versioned name or a number of the focus ("400B") is
    missing, or the sentence's own subject is another name. Count and date questions also need
    a number or a date near the stated terms (rag.language.numerals)."""
    folded = fold(cand.text + " " + cand.scope_text)
    if part.names and not any(mentions(folded, n) for n in part.names):
        focus = 0.0  # a versioned name must be the same name: GPT-3's facts do not answer for GPT-4
    elif any(n not in cand.tokens and n not in cand.scope for n in part.sizes):
        focus = 0.0  # "라마 3 400B": a number that names the variant must be there
    else:
        focus = max(share(part.focus + part.context, weights, cand.tokens, cand.scope | cand.near, SCOPE_SHARE),
                    PASSAGE_SHARE * share(part.focus + part.context, weights, cand.passage_tokens, frozenset(), 0.0))
        if part.phrases and not any(mentions(folded, n) for n in part.phrases):
            focus *= PHRASE_MISSING  # "GAN" alone is not "Cycle GAN"
        if focus and _other_subject(part, cand):
            focus *= OTHER_SUBJECT
    required = [c for c in part.attribute if c.salience >= NOUN and c.surface not in unchecked]
    attribute = share(part.attribute, weights, cand.tokens, cand.near | cand.scope, ATTRIBUTE_SCOPE_SHARE)
    if not required:
        # Nothing asked beyond the focus but predicates, which students paraphrase ("쓰", "run").
        evidence = focus * (1 - PREDICATE_WEIGHT + PREDICATE_WEIGHT * attribute)
    else:
        attribute = share(required, weights, cand.tokens, cand.near | cand.scope, ATTRIBUTE_SCOPE_SHARE)
        weight = NAMED_FOCUS_WEIGHT if any(c.salience >= ENTITY for c in part.focus) else FOCUS_WEIGHT
        evidence = attribute * (1 - weight + weight * focus) if part.focus else attribute
    if (part.names or part.sizes) and focus == 0.0:
        evidence = 0.0
    if part.focus and all(c.surface in absent for c in part.focus):
        evidence *= ABSENT_FOCUS  # the notes never mention what the question is about
    if part.kind in (QuestionKind.COUNT, QuestionKind.DATE) and not _number_near(part, cand):
        evidence *= QUANTITY_MISSING
    return evidence, _coverage(part, cand, weights, focus)


def _coverage(part: Part, cand: Candidate, weights: dict[str, float], focus: float) -> float:
    """How much of the question a sentence states, for choosing what to quote: the weighted
    share of all its concepts, scaled down when the focus is not there."""
    concepts = part.focus + part.context + part.attribute
    stated = share(concepts, weights, cand.tokens, cand.scope | cand.near, ATTRIBUTE_SCOPE_SHARE)
    return stated * (1 - FOCUS_WEIGHT + FOCUS_WEIGHT * focus) if part.focus else stated


_SUBJECT = re.compile(r"^[-•*·\s]*([A-Za-z][A-Za-z0-9.\- ]{1,30}?)\s?(?:은|는|이|가|란|이란)\s")


def _other_subject(part: Part, cand: Candidate) -> bool:
    """The sentence opens with another name as its subject ("Cycle GAN은 ..." under a
    StyleGAN heading): its scope does not make it about the focus."""
    m = _SUBJECT.match(cand.text)
    if not m:
        return False
    subject = fold(m.group(1))
    return not any(any(a in subject for a in c.alternatives) for c in part.focus)


def _counted(part: Part) -> Concept | None:
    """The noun concept a count question counts ("언어" of "몇 개 언어를 지원해?"), if it names one."""
    for word in counted_nouns(part.text):
        word = fold(word)
        for c in part.attribute:
            if c.salience >= NOUN and any(len(a) >= 2 and (word.startswith(a) or a.startswith(word)) for a in c.alternatives):
                return c
    return None


def _bound(spans: list[tuple[int, int]], low: str, noun: Concept) -> bool | None:
    """Whether a number quantifies ``noun`` in the sentence ("3개 언어", "언어 3개", "three
    languages": within BOUND_CHARS); None when the sentence does not name the noun."""
    found = [(m.start(), m.end()) for a in noun.alternatives[:3] for m in re.finditer(re.escape(a), low)]
    if not found:
        return None
    return any(0 <= s - e2 <= BOUND_CHARS or 0 <= s2 - e <= BOUND_CHARS for s, e in found for s2, e2 in spans)


def _number_near(part: Part, cand: Candidate) -> bool:
    """A number (or a date, for date questions) within NEAR_CHARS of a stated term; for a count
    of a named thing ("몇 개 언어"), a number bound to that thing: "두 개 기능을 지원하며 ...
    다중 언어를 지원" counts features, not languages."""
    spans = date_spans(cand.text) if part.kind == QuestionKind.DATE else quantity_spans(cand.text)
    if not spans:
        return False
    low = fold(cand.text)
    noun = _counted(part) if part.kind == QuestionKind.COUNT else None
    if noun is not None:
        bound = _bound(spans, low, noun)
        if bound is not None:
            return bound
    nouns = [c for c in part.attribute if c.salience >= NOUN] or part.attribute + part.focus + part.context
    terms = [a for c in nouns for a in c.alternatives[:3] if not a.isdigit()]
    positions = [m.start() for t in terms for m in re.finditer(re.escape(t), low)]
    if not positions:
        return True  # the terms are in the scope, not in the sentence: the number is what it states
    return any(a - NEAR_CHARS <= p <= b + NEAR_CHARS for a, b in spans for p in positions)


def about_focus(part: Part, cand: Candidate) -> bool:
    """Whether the sentence itself names the part's focus (the whole name, for names of several
    words or with a version)."""
    if part.focus and not any(a in cand.tokens for c in part.focus for a in c.alternatives):
        return False
    folded = fold(cand.text)
    return all(any(mentions(folded, n) for n in names) for names in (part.names, part.phrases) if names)

