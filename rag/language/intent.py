"""What a question asks for, and about what: its kind, its focus, the asked attribute, and its
parts when it asks two things at once.

Kinds: definition, reason, method, count, date, list, comparison, yesno, other.
- The focus is the thing the question is about: in Korean the noun phrase carrying the topic
  or subject particle ("판별자는", "YOLO란", "라마 3는"), else the names in it; in English the
  capitalised names, else the noun after "of/about/is".
- Context is the other noun phrases before the focus ("GAN에서 판별자는": GAN), which a heading
  or the section usually states.
- The attribute is the rest of the question's content ("파라미터 수", "학습 방법"); Korean puts
  the asked element just before the question word ("인증 정보로 뭘 받아?"), so the concepts of
  the noun phrase closest to the question word are marked as asked and weigh more.
The reader quotes sentences that state the attribute of the focus, and the question is
answerable only when some sentence does.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.language.korean import morphemes
from rag.language.names import compact, model_names, phrase_names, size_numbers
from rag.language.numerals import asks_count, asks_date
from rag.language.phrases import FRAME_NOUNS, NAME_TAGS, content_phrases, korean_focus, noun_phrases, owned_topic
from rag.language.query import AnalyzedQuery, Concept
from rag.reading.kinds import QuestionKind

_REASON = re.compile(r"왜|이유|까닭|목적|필요한가|필요해|\bwhy\b|\breasons?\b|\bpurpose|what for", re.I)
_METHOD = re.compile(r"어떻게|어떤 식|어떤 방식|방법|방식|과정|원리|절차|순서|\bhow (?:does|do|is|are|can|did|was|were|to)\b",
                     re.I)
_LIST = re.compile(
    r"종류|어떤 것들|어떤 게 있|뭐뭐|무엇무엇|뭐가 있|무엇이 있|어떤 .{0,8}들이|특징|구성 요소|요소|예시|예를|나열|장단점|장점|단점"
    r"|\bwhat (?:kinds|types|sorts)\b|\bwhich (?:kinds|types)\b|\blist\b|\bexamples?\b|\bfeatures\b|\bcomponents\b"
    r"|\bcharacteristics\b|\badvantages\b|\bdisadvantages\b",
    re.I,
)
_COMPARE = re.compile(r"차이|비교|다른 점|다른점|뭐가 달라|무엇이 다르|어떻게 달라|어떻게 다르|\bvs\.?\b|versus|differ|compare", re.I)
_EACH = re.compile(r"각각|각자|\brespectively\b|\beach\b", re.I)
_WH = re.compile(r"뭐|뭘|뭣|무엇|뭔|무슨|어떻|어떤|왜|언제|몇|어디|누가|누구|어느|얼마|\b(?:what|how|why|when|which|who|where)\b", re.I)
_YESNO_EN = re.compile(r"^(?:is|are|does|do|did|can|could|was|were|has|have|should|will|would)\b", re.I)
_DEFINE_EN = re.compile(r"^(?:what(?:'s| is| are| was)|define|who is|tell me about)\b|\bmean\b|\bstand for\b", re.I)
_DEFINE_KO = re.compile(r"(?:뭐|무엇|뭔|뭘)(?:야|예요|이에요|이야|인가요|인가|임|일까|냐|니|죠)?\s*\??\s*$|(?:이?란|이?라는 ?[건게것]은?)\s*\??\s*$")
_DEFINE_WORD = re.compile(r"정의|뜻|의미|\bdefin|\bmeaning\b", re.I)
_WHAT_KIND = re.compile(r"(?:무슨|어떤|어느)\s*\S+\s*(?:이야|야|인가요|예요|이에요|입니까|일까|이지|임)\s*\??\s*$")
_EN_SPLIT = re.compile(r"\?\s+(?=\S)|,?\s+and (?=(?:what|how|why|when|which|who|where|is|are|does|do)\b)", re.I)
MIN_PART_WORDS = 3  # a shorter clause ("What GPUs, and how many ...") is not a question of its own

# The words that ask for a comparison, as query concepts (Kiwi stems and English words): the
# frame of a comparison, never an attribute of either side.
COMPARE_WORDS = frozenset({"차이", "차이점", "비교", "다르", "다른", "달르", "구별", "구분", "differ", "difference",
                           "differences", "different", "compare", "comparison", "versus", "vs"})
CONTEXT_SHARE = 0.5  # weight of a context concept against a focus concept
ASKED_BOOST = 1.5  # weight of the asked concepts against the rest of the attribute


@dataclass
class Part:
    """One thing a question asks: its kind, focus, context and attribute concepts (each with a
    weight factor in ``boost``), and the versioned names it mentions ("gpt4")."""

    text: str
    kind: QuestionKind
    focus: list[Concept] = field(default_factory=list)
    attribute: list[Concept] = field(default_factory=list)
    context: list[Concept] = field(default_factory=list)  # phrases before the focus; weigh CONTEXT_SHARE
    names: list[str] = field(default_factory=list)
    boost: dict[str, float] = field(default_factory=dict)  # concept surface -> weight factor
    phrases: list[str] = field(default_factory=list)  # compacted names of several words: "cyclegan"
    sizes: list[str] = field(default_factory=list)  # numbers naming a variant: "400" of "400B"


@dataclass
class Intent:
    kind: str  # the single part's kind, "multi" or "comparison"
    parts: list[Part]


def question_kind(text: str, lang: str) -> QuestionKind:
    """The kind of one question clause, by the words that ask (see the module docstring)."""
    if _COMPARE.search(text):
        return QuestionKind.COMPARISON
    if asks_date(text):
        return QuestionKind.DATE
    if asks_count(text):
        return QuestionKind.COUNT
    if _REASON.search(text):
        return QuestionKind.REASON
    if _LIST.search(text):
        return QuestionKind.LIST
    if _METHOD.search(text):
        return QuestionKind.METHOD
    if _DEFINE_WORD.search(text) or _WHAT_KIND.search(text):
        return QuestionKind.DEFINITION
    if (lang == "ko" and _DEFINE_KO.search(text)) or (lang == "en" and _DEFINE_EN.search(text)):
        return QuestionKind.DEFINITION
    if (lang == "en" and _YESNO_EN.search(text)) or (lang == "ko" and not _WH.search(text)):
        return QuestionKind.YESNO
    return QuestionKind.OTHER


def _split_parts(text: str, lang: str) -> list[str]:
    """Clauses asking separate things: "X는 뭐고, Y는 왜 ...?", "X의 이유랑 Y가 어떻게 ...",
    "What is X and how does Y ...?"."""
    if lang == "en":
        pieces = [p.strip(" ,") for p in _EN_SPLIT.split(text) if p.strip(" ,?")]
        if any(len(p.split()) < MIN_PART_WORDS for p in pieces):
            return [text]
        return pieces
    toks = morphemes(text)
    cuts = []
    for i, t in enumerate(toks):
        head, rest = text[: t.start], text[t.end:]
        if t.tag == "EC" and t.form in ("고", "며", "으며", "면서", "으면서") and _WH.search(head[-12:]) and rest.strip(" ,?"):
            cuts.append(t.end)  # "뭐고, ...", "무엇이며 ..."
        elif t.form == "?" and rest.strip():
            cuts.append(t.end)
        elif t.tag == "JC" and _asks(head) and _asks(rest) and len(rest.strip()) > 6:
            cuts.append(t.end)  # "... 이유랑 ... 어떻게 ..."
    pieces, pos = [], 0
    for c in cuts:
        pieces.append(text[pos:c])
        pos = c
    pieces.append(text[pos:])
    return [p.strip(" ,") for p in pieces if len(p.strip(" ,?")) >= 2]


def _asks(text: str) -> bool:
    return bool(_WH.search(text) or _REASON.search(text) or _METHOD.search(text) or _LIST.search(text))


def _concept_of(query: AnalyzedQuery, form: str) -> Concept | None:
    low = form.lower()
    for c in query.concepts:
        if c.surface.lower() == low:
            return c
    return None


def _english_roles(query: AnalyzedQuery, text: str, concepts: list[Concept]) -> tuple[list[Concept], list[Concept]]:
    caps = {w.lower() for w in re.findall(r"\b[A-Z][A-Za-z0-9\-]*\b", text) if not _WH.fullmatch(w.lower())}
    caps |= {p.lower() for w in caps for p in w.split("-")}
    focus = [c for c in concepts if c.surface.lower() in caps]
    if not focus:
        m = re.search(r"\b(?:of|about|is|are|does|do)\s+(?:an?\s+|the\s+)?([a-z0-9\-]+)", text, re.I)
        target = m.group(1).lower() if m else ""
        focus = [c for c in concepts if c.surface.lower() == target] or concepts[:1]
    return focus, []


def _korean_roles(query: AnalyzedQuery, text: str) -> tuple[list[Concept], list[Concept], list[Concept]]:
    """(focus, context, asked) concepts of a Korean clause.

    The focus is one phrase: "X의 Y는" makes X the focus and Y asked; else the topic or
    subject phrase when it holds a name; else the first phrase with a name; else the topic
    phrase; else the first. In a phrase such as "Whisper API 요금" the names are the focus and
    the common nouns after them (the phrase's head, Korean being head-final) are asked. The
    phrase just before the question word is asked; phrases before the focus are context."""
    groups = content_phrases(text)
    if not groups:
        return [], [], []
    focus_group = korean_focus(groups, text)
    owned = owned_topic(groups, text)
    wh = _WH.search(text)
    before = [g for g in groups if wh and g.end <= wh.start()]
    asked_groups = [owned[1]] if owned is not None else before[-1:]  # "X의 Y는 ...": Y is asked of X

    def concepts(forms: list[str]) -> list[Concept]:
        return [c for c in (_concept_of(query, f) for f in forms) if c is not None]

    forms, head = list(focus_group.forms), []
    if focus_group.named:
        last = max(i for i, tag in enumerate(focus_group.tags) if tag in NAME_TAGS)
        forms, head = forms[: last + 1], forms[last + 1:]
    focus = concepts(forms)
    context = concepts([f for g in groups if g.end <= focus_group.start and not g.named for f in g.forms])
    asked = [c for c in concepts(head + [f for g in asked_groups for f in g.forms]) if c not in focus]
    return focus, context, asked


def _clause_concepts(query: AnalyzedQuery, text: str) -> list[Concept]:
    low = text.lower()
    return [c for c in query.concepts if c.surface.lower() in low and c.surface not in FRAME_NOUNS]


def _part(query: AnalyzedQuery, text: str) -> Part:
    concepts = _clause_concepts(query, text) or list(query.concepts)
    boost: dict[str, float] = {}
    context: list[Concept] = []
    if query.lang == "ko":
        focus, context, asked = _korean_roles(query, text)
        focus = [c for c in focus if c in concepts] or concepts[:1]
        context = [c for c in context if c not in focus]
        for c in asked:
            boost[c.surface] = ASKED_BOOST
    else:
        focus, _ = _english_roles(query, text, concepts)
    attribute = [c for c in concepts if c not in focus and c not in context]
    focus_forms = {c.surface.lower() for c in focus}
    phrases = [p for p in phrase_names(text, query.lang == "ko") if any(f in p for f in focus_forms)]
    return Part(text, question_kind(text, query.lang), focus, attribute, context, model_names(text), boost, phrases,
                size_numbers(text))


def intent_of(query: AnalyzedQuery) -> Intent:
    """The question's intent; concepts are ``query``'s (with their cross-lingual alternatives)."""
    texts = _split_parts(query.text, query.lang) or [query.text]
    if len(texts) == 1 and (_COMPARE.search(query.text) or _EACH.search(query.text)):
        compared = _per_thing(query)
        if compared is not None:
            return compared
    parts = [_part(query, text) for text in texts]
    return Intent(parts[0].kind if len(parts) == 1 else "multi", parts)


def _per_thing(query: AnalyzedQuery) -> Intent | None:
    """"A와 B의 차이", "A랑 B는 각각 ...": one part per compared thing, each with the rest of
    the question as its attribute. None when the question does not name two things."""
    text = query.text
    if query.lang == "ko":
        groups = noun_phrases(text)
        # "A와 B", "A랑 B", "A하고 B": the conjoined pair; else the first two marked phrases.
        joined = next((i for i, g in enumerate(groups[:-1])
                       if g.particle == "JC" or g.particle_form in ("와", "과", "랑", "이랑", "하고")), None)
        if joined is not None:
            things = groups[joined:joined + 2]
        else:
            things = [g for g in groups if g.particle in ("JX", "JKS", "JKG")][:2]
        things = things if len(things) == 2 else []
        thing_concepts = [[c for c in (_concept_of(query, f) for f in g.forms) if c is not None] for g in things]
    else:
        m = re.search(r"between\s+(.+?)\s+and\s+(.+?)(?:\?|$|\s+in\s|\s+for\s)", text, re.I) or re.search(
            r"(\S+)\s+(?:and|vs\.?|versus)\s+(\S+)", text, re.I)
        thing_concepts = []
        if m:
            for side in m.groups():
                words = {w.lower() for w in re.findall(r"[A-Za-z0-9\-]+", side)}
                thing_concepts.append([c for c in query.concepts if c.surface.lower() in words])
    thing_concepts = [t for t in thing_concepts if t]
    if len(thing_concepts) != 2 or thing_concepts[0] == thing_concepts[1]:
        return None
    names = model_names(text)
    parts = []
    for thing in thing_concepts:
        # The rest of the question, less the frame ("차이", "difference"): what each side is asked
        # about, never the word that asks for the comparison (no note states "BERT의 차이").
        rest = [c for c in query.concepts if c not in thing_concepts[0] and c not in thing_concepts[1]
                and c.surface not in FRAME_NOUNS and c.surface.lower() not in COMPARE_WORDS]
        own = [n for n in names if any(n.startswith(compact(c.surface)) for c in thing)]
        kind = question_kind(text, query.lang)
        parts.append(Part(text, kind, thing, rest, names=own))
    return Intent("comparison", parts)
