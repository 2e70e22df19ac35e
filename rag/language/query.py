"""Question analysis: language, content morphemes, and cross-lingual expansion."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from rag.language.glossary import Glossary
from rag.language.korean import content_tokens, detect_lang, tagged_content_tokens

# Words of a question's frame ("explain", "what is ...") rather than its topic.
QUESTION_WORDS = frozenset({
    "explain", "describe", "mean", "means", "meaning", "called", "use", "used", "using", "does", "did", "do",
    "according", "notes", "note", "tell", "list", "give", "example", "examples", "kind", "kinds", "type", "types",
    "work", "works", "happen", "happens", "role", "purpose", "main", "key", "important", "stand", "stands",
    "difference", "different", "between", "compare", "versus", "vs", "help", "helps", "need", "needs", "good",
    "뭐", "무엇", "설명", "어떻", "어떤", "왜", "무슨", "알려", "뜻", "의미", "정의", "대해", "관하", "역할",
    "언제", "어디", "얼마", "얼마나", "몇", "누구", "어느",
    "listed", "according", "mentioned", "say", "says", "said", "suggest", "suggests", "recommend", "there",
    "대략", "정확히", "각각", "먼저", "그냥", "결국", "보통", "주로", "한마디", "마디", "그것", "그거", "이것", "저것",
})
_TOKEN_RE = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Concept:
    """One idea of the question, with the tokens that may stand for it in the notes.

    ``salience`` scales its weight: names and numbers must be found for the notes to answer;
    common nouns mostly; predicates ("자르다", "required") are what students paraphrase most.
    """

    surface: str
    alternatives: tuple[str, ...]
    salience: float = 1.0


ENTITY, NOUN, PREDICATE = 1.0, 0.7, 0.3


def salience(tag: str, form: str, lang: str) -> float:
    if tag in ("NNP", "SN", "SH"):
        return ENTITY
    if tag == "SL":
        # In an English question a capitalised or digit-bearing word is likely a name.
        if lang == "ko" or form[:1].isupper() or any(ch.isdigit() for ch in form) or form.isupper():
            return ENTITY
        return NOUN
    if tag in ("NNG", "NR"):
        return NOUN
    return PREDICATE


@dataclass
class AnalyzedQuery:
    text: str
    lang: str
    tokens: list[str]  # BM25 query: original content tokens plus expansions
    dense_text: str  # what the query embedder sees
    concepts: list[Concept] = field(default_factory=list)
    expansions: list[str] = field(default_factory=list)
    weights: dict[str, float] = field(default_factory=dict)  # concept surface -> IDF, set by the gate
    unchecked: set[str] = field(default_factory=set)  # English concepts the notes cannot confirm or deny
    absent: set[str] = field(default_factory=set)  # concepts the whole corpus never states
    intent: Any = None  # rag.language.intent.Intent, computed on first read
    readings: dict[Any, Any] = field(default_factory=dict)  # rag.reader.Reading by passages read
    vector: Any = None  # the query embedding (numpy float32 (dim,)), set by the dense retriever
    semantic: bool = False  # embedded by the reader's own embedder: its similarities are features (rag.reading)


def _meaningful(token: str, tag: str) -> bool:
    """Not a tokenisation leftover: a lone Latin letter ("GPT-4's" -> "s") or a Latin token with
    punctuation in it."""
    if tag == "SL":
        return len(token) > 1 and token.isalnum()
    return True


def analyze(text: str, glossary: Glossary) -> AnalyzedQuery:
    text = text.strip()
    lang = detect_lang(text)
    tagged = [(t, tag, form) for t, tag, form in tagged_content_tokens(text)
              if t not in ENGLISH_STOP_WORDS and t not in QUESTION_WORDS and _meaningful(t, tag)]
    base = [t for t, _, _ in tagged]
    sal: dict[str, float] = {}
    for t, tag, form in tagged:
        sal[t] = max(sal.get(t, 0.0), salience(tag, form, lang))
    concepts: list[Concept] = []
    expansions: list[str] = []
    if lang == "en":
        for word in dict.fromkeys(base):
            kos = glossary.expand_english(word)
            alts = [word] + [t for ko in kos for t in content_tokens(ko)]
            concepts.append(Concept(word, tuple(dict.fromkeys(alts)), sal[word] if not kos else max(sal[word], NOUN)))
        phrases = glossary.expand_english(text)  # multi-word terms ("object detection")
        expansions = list(dict.fromkeys(phrases + [k for w in base for k in glossary.expand_english(w)]))
    else:
        for tok in dict.fromkeys(base):
            ens = [e for en in glossary.expand_korean(tok) for e in _TOKEN_RE.findall(en) if e not in ENGLISH_STOP_WORDS]
            concepts.append(Concept(tok, tuple(dict.fromkeys([tok, *ens])), sal[tok]))
        expansions = glossary.expand_korean(text)
    extra = [t for e in expansions for t in (content_tokens(e) if lang == "en" else _TOKEN_RE.findall(e.lower()))]
    tokens = base + [t for t in extra if t not in ENGLISH_STOP_WORDS]
    dense_text = text if not expansions else f"{text} ({', '.join(expansions)})"
    return AnalyzedQuery(text, lang, tokens, dense_text, concepts, expansions)
