"""The reader: from the sentences of all retrieved passages, the ones that answer the question,
and the probability that the notes answer it at all.

For each part of the question (rag.intent), every sentence of every passage becomes a candidate
(classified: text, list item, list introduction with its items, heading, link, fragment), and
each quotable candidate gets a row of features (rag.reading.features): the e5 similarity of
question and sentence (the sentence vectors stored at ingest), of question and passage, the
retrievers' ranks, and the lexical signals of the rules that came before the learned reader, now
features rather than gates:
- focus: the IDF-weighted share of the focus concepts stated in the sentence, or in its scope
  (the sentence before or after it, the heading above it, the chunk's section); a versioned
  name must be the same name ("GPT-4" is not "GPT-3");
- attribute: the weighted share of the rest of the question's concepts, in the sentence or its
  scope; for count and date questions a number or a date near the stated terms (rag.numerals);
- a cue for what is asked: a definition ("X란 ...이다"), a reason (때문, 위해, because), a method
  (통해, 이용, by), a count or a date, a list (a sentence ending in ":" with its items).
The learned models (rag.reading.model, trained on KorQuAD: rag/data/reader_model.md) rank the
rows and give the part's answerability; headings, link lines, list labels and fragments are
never quoted; a list introduction is quoted with its items.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np

from rag.intent import CONTEXT_SHARE, Intent, Part, intent_of
from rag.names import fold, mentions
from rag.numerals import counted_nouns, date_spans, has_date, has_quantity, quantity_spans
from rag.query import ENTITY, NOUN, AnalyzedQuery, Concept
from rag.sentences import split_many
from rag.reading.features import (PREFILTER, bigrams, passage_similarity, sentence_matrix, sentence_similarities,
                                  rank_reciprocal, verdict_features, verdict_row)
from rag.reading.kinds import QuestionKind, spec
from rag.reading.model import ReaderModel, default_model, sigmoid
from rag.types import Passage, SentenceSpan

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
HEADING_CHARS = 50
MIN_QUOTE_CHARS = 10
MORE_SHARE = 0.5  # a further sentence is quoted when the ranker gives it this share of the best's probability
MORE_MIN = 0.3  # ... and at least this probability
OTHER_PASSAGE_SHARE = 0.75  # ... this share, for a sentence of another passage than the best's
MAX_PER_PART = 4
MAX_ITEMS = 8

_TERMINAL = re.compile(r"(?:[.!?。]|[다요음함임됨죠니까])\s*[)\]]?$")
_LINK = re.compile(r"https?://|www\.|\.(?:com|net|org|kr|io|ai)\b|^(?:reference|references|출처|참고|참고자료)\s*:?$",
                   re.I)
_BULLET = re.compile(r"^\s*(?:[-•*·▪●○◦■□▶►✔✅☑➤→]|\d{1,2}[.)]\s|[①-⑳]|\(\d{1,2}\))")
_INTRO = re.compile(r"(?::|다음과 같(?:다|습니다|음)\.?|아래와 같(?:다|습니다|음)\.?|as follows\.?)\s*$")
_DEFINITION = re.compile(r"(?:이?란|이?라고|이라는|은|는)\s|\b(?:is|are|refers to|means)\b")
_DEFINITION_END = re.compile(r"(?:이다|다|입니다|이며|임|을 말한다|를 말한다|의미한다|뜻한다)[.)]*\s*$")
_CUES = {
    QuestionKind.REASON: re.compile(r"때문|위해|위하여|위한|이유|므로|덕분|원인|으로 인해|해결|방지|목적|because|so that|in order to|due to",
                         re.I),
    QuestionKind.METHOD: re.compile(r"통해|통하여|이용하여|이용해|방법으로|방식으로|과정|거쳐|으로써|함으로써|단계|\bby\b|using|through|via",
                         re.I),
}


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


@dataclass
class Choice:
    candidate: Candidate
    items: list[Candidate] = field(default_factory=list)  # a list introduction's items
    score: float = 0.0


@dataclass
class PartReading:
    part: Part
    evidence: float  # the verdict model's probability that the notes answer the part
    choices: list[Choice]  # what to quote, best first
    verdict: np.ndarray | None = None  # the verdict features (rag.reading.features.VERDICT_FEATURES)


@dataclass
class Reading:
    intent: Intent
    evidence: float
    parts: list[PartReading]

    def debug(self) -> dict[str, object]:
        """What ``debug`` shows of the reading: per part, the answerability probability, the
        verdict's features and the quoted sentences' probabilities."""
        return {"intent": self.intent.kind, "parts": [
            {"text": r.part.text, "kind": r.part.kind, "focus": [c.surface for c in r.part.focus],
             "attribute": [c.surface for c in r.part.attribute], "answerable_probability": round(r.evidence, 4),
             "verdict_features": verdict_features(r.verdict),
             "quoted": [{"probability": round(c.score, 4), "text": c.candidate.text[:80]} for c in r.choices]}
            for r in self.parts]}


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


def _share(concepts, weights: dict[str, float], here: frozenset[str], around: frozenset[str],  # noqa: ANN001
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


def _cue(kind: str, cand: Candidate, part: Part) -> float:
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


def _part_weights(part: Part, weights: dict[str, float]) -> dict[str, float]:
    out = {c.surface: weights.get(c.surface, 0.0) * part.boost.get(c.surface, 1.0) for c in part.focus + part.attribute}
    out.update({c.surface: weights.get(c.surface, 0.0) * CONTEXT_SHARE for c in part.context})
    return out


def _evidence(part: Part, cand: Candidate, weights: dict[str, float],
              unchecked: frozenset[str] = frozenset(), absent: frozenset[str] = frozenset()) -> tuple[float, float]:
    """(answerability, coverage) of one sentence for one part.

    The attribute must be stated in the sentence or next to it, and about the focus: the
    answerability is the attribute's weighted share, halved when the focus is not in the
    sentence's scope either; zero when a versioned name or a number of the focus ("400B") is
    missing, or the sentence's own subject is another name. Count and date questions also need
    a number or a date near the stated terms (rag.numerals)."""
    folded = fold(cand.text + " " + cand.scope_text)
    if part.names and not any(mentions(folded, n) for n in part.names):
        focus = 0.0  # a versioned name must be the same name: GPT-3's facts do not answer for GPT-4
    elif any(n not in cand.tokens and n not in cand.scope for n in part.sizes):
        focus = 0.0  # "라마 3 400B": a number that names the variant must be there
    else:
        focus = max(_share(part.focus + part.context, weights, cand.tokens, cand.scope | cand.near, SCOPE_SHARE),
                    PASSAGE_SHARE * _share(part.focus + part.context, weights, cand.passage_tokens, frozenset(), 0.0))
        if part.phrases and not any(mentions(folded, n) for n in part.phrases):
            focus *= PHRASE_MISSING  # "GAN" alone is not "Cycle GAN"
        if focus and _other_subject(part, cand):
            focus *= OTHER_SUBJECT
    required = [c for c in part.attribute if c.salience >= NOUN and c.surface not in unchecked]
    attribute = _share(part.attribute, weights, cand.tokens, cand.near | cand.scope, ATTRIBUTE_SCOPE_SHARE)
    if not required:
        # Nothing asked beyond the focus but predicates, which students paraphrase ("쓰", "run").
        evidence = focus * (1 - PREDICATE_WEIGHT + PREDICATE_WEIGHT * attribute)
    else:
        attribute = _share(required, weights, cand.tokens, cand.near | cand.scope, ATTRIBUTE_SCOPE_SHARE)
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
    share = _share(concepts, weights, cand.tokens, cand.scope | cand.near, ATTRIBUTE_SCOPE_SHARE)
    return share * (1 - FOCUS_WEIGHT + FOCUS_WEIGHT * focus) if part.focus else share


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


def _items(cands: list[Candidate], intro: Candidate) -> list[Candidate]:
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


def part_rows(part: Part, cands: list[Candidate], weights: dict[str, float], passages: Sequence[Passage],
              sims: list[np.ndarray], unchecked: frozenset[str] = frozenset(),
              absent: frozenset[str] = frozenset()) -> tuple[list[Choice], np.ndarray, float]:
    """The quotable candidates of ``part`` (a list introduction with its items), at most
    ``PREFILTER`` of them (best cosine first, then best rule coverage), their feature matrix
    (rag.reading.features) and the weighted share of the part's concepts that the retrieved
    passages state anywhere (sentences and section titles)."""
    weights = _part_weights(part, weights)
    kind = QuestionKind(part.kind)
    qgrams = bigrams(part.text)
    kept: list[tuple[Choice, dict[str, float]]] = []
    stated = frozenset().union(*(c.passage_tokens for c in cands)) if cands else frozenset()
    retrieved = _share(part.focus + part.attribute + part.context, weights, stated, frozenset(), 0.0)
    for cand in cands:
        if cand.kind in ("heading", "link"):
            continue
        items = _items(cands, cand) if cand.kind == "intro" else []
        scored = replace(cand, tokens=cand.tokens.union(*(i.tokens for i in items))) if items else cand
        evidence, coverage = _evidence(part, scored, weights, unchecked, absent)
        if cand.kind in ("fragment", "label") or (cand.kind == "intro" and not items):
            continue
        p = passages[cand.passage - 1]
        row_sims = sims[cand.passage - 1]
        n = len(p.sentences) or cand.index + 1
        sim = float(row_sims[cand.index]) if cand.index < len(row_sims) else math.nan
        around = [float(row_sims[j]) for j in (cand.index - 1, cand.index + 1) if 0 <= j < len(row_sims)]
        text = " ".join([cand.text, *(i.text for i in items)])
        sgrams = bigrams(text)
        kept.append((Choice(cand, items), {
            "sim": sim, "ctx_sim": max(around) if around else math.nan,
            "passage_sim": passage_similarity(p, row_sims), "passage_recip": 1.0 / cand.passage,
            "dense_recip": rank_reciprocal(p, "dense"), "bm25_recip": rank_reciprocal(p, "bm25"),
            "evidence": evidence, "coverage": coverage, "cue": _cue(part.kind, scored, part),
            "bigram": len(qgrams & sgrams) / len(qgrams) if qgrams else 0.0,
            "position": cand.index / max(1, n - 1), "after_heading": float(cand.after_heading),
            "is_item": float(cand.kind == "item"), "is_intro": float(cand.kind == "intro"),
            "log_len": math.log1p(len(text)), "has_number": float(has_quantity(cand.text) or has_date(cand.text)),
        }))
    if len(kept) > PREFILTER:
        by_sim = sorted(range(len(kept)), key=lambda i: -np.nan_to_num(kept[i][1]["sim"], nan=-1.0))
        by_rule = sorted(range(len(kept)), key=lambda i: -(kept[i][1]["coverage"] + kept[i][1]["evidence"]))
        chosen = set(by_sim[: PREFILTER * 2 // 3])
        for i in by_rule:
            if len(chosen) >= PREFILTER:
                break
            chosen.add(i)
        kept = [kept[i] for i in sorted(chosen)]
    choices = [c for c, _ in kept]
    return choices, sentence_matrix([r for _, r in kept], kind, "en" if _latin(part.text) else "ko"), retrieved


def _latin(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and sum(ch.isascii() for ch in letters) > len(letters) / 2


def read_part(part: Part, cands: list[Candidate], weights: dict[str, float], passages: Sequence[Passage],
              sims: list[np.ndarray], query: AnalyzedQuery, model: ReaderModel | None = None) -> PartReading:
    """Rank the part's candidates with the learned ranker; quote the best, its list items, and
    further sentences the ranker finds almost as likely (``MORE_SHARE`` of the best probability
    and at least ``MORE_MIN``); the part's evidence is the verdict model's probability."""
    model = model or default_model()
    unchecked, absent = frozenset(query.unchecked), frozenset(query.absent)
    choices, matrix, retrieved = part_rows(part, cands, weights, passages, sims, unchecked, absent)
    logits = model.sentence_logits(matrix)
    total = sum(weights.get(c.surface, 0.0) for c in part.focus + part.attribute + part.context)
    missing = sum(weights.get(c.surface, 0.0) for c in part.focus + part.attribute + part.context
                  if c.surface in absent)
    concepts = len(part.focus) + len(part.attribute) + len(part.context)
    verdict = verdict_row(logits, matrix, missing / total if total > 0 else 0.0, concepts, query.lang, retrieved)
    evidence = model.answerable(verdict)
    if not choices:
        return PartReading(part, evidence, [], verdict)
    probs = sigmoid(logits)
    order = [int(i) for i in np.argsort(-logits, kind="stable")]
    for i in order:
        choices[i].score = float(probs[i])
    best = choices[order[0]]
    chosen = [best]
    kind_spec = spec(part.kind)
    for i in order[1:]:
        cand = choices[i]
        if kind_spec.single or len(chosen) >= MAX_PER_PART:
            break
        if cand.score < max(MORE_MIN, MORE_SHARE * best.score):
            break
        if kind_spec.names_focus and not _about_focus(part, cand.candidate):
            continue  # a definition or a side of a comparison: only sentences that name the thing
        if cand.candidate.passage != best.candidate.passage and cand.score < OTHER_PASSAGE_SHARE * best.score:
            continue
        chosen.append(cand)
    # The best sentence first (a definition question gets its definition first), then the
    # others in reading order.
    chosen[1:] = sorted(chosen[1:], key=lambda c: (c.candidate.passage != best.candidate.passage,
                                                    c.candidate.passage, c.candidate.index))
    return PartReading(part, evidence, chosen, verdict)


def _about_focus(part: Part, cand: Candidate) -> bool:
    """Whether the sentence itself names the part's focus (the whole name, for names of several
    words or with a version)."""
    if part.focus and not any(a in cand.tokens for c in part.focus for a in c.alternatives):
        return False
    folded = fold(cand.text)
    return all(any(mentions(folded, n) for n in names) for names in (part.names, part.phrases) if names)


def read(query: AnalyzedQuery, passages: Sequence[Passage], model: ReaderModel | None = None) -> Reading:
    """Read ``passages`` for ``query``: answerability in [0, 1] (the verdict model's probability,
    averaged over the question's parts) and the sentences to quote. Concept weights come from
    ``query.weights`` (set by the gate from the index's IDF); the question's embedding from
    ``query.vector`` and the sentences' from the passages. Computed once per (query, passages)."""
    key = tuple((p.chunk.doc, p.chunk.start) for p in passages)
    cached = query.readings.get(key)
    if cached is not None:
        return cached
    intent = query.intent or intent_of(query)
    query.intent = intent
    weights = query.weights or {c.surface: c.salience for c in query.concepts}
    cands = candidates(passages)
    sims = sentence_similarities(query.vector if query.semantic else None, passages)
    parts = [read_part(part, cands, weights, passages, sims, query, model) for part in intent.parts]
    # A question of several parts is answered when its parts are on average: one part the
    # notes do not cover does not silence the others.
    evidence = sum(p.evidence for p in parts) / len(parts) if parts else 0.0
    reading = Reading(intent, evidence, parts)
    query.readings[key] = reading
    return reading
