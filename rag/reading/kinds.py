"""Question kinds: what a question asks for, as a declared table.

``rag.language.intent.question_kind`` classifies a clause into one of these by its question words; the
reader's cue for a kind, whether one sentence suffices, and whether quoted sentences must name
the focus, and whether a short answer may answer it, are read from the kind's spec here, never from bare strings compared elsewhere.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class QuestionKind(StrEnum):
    DEFINITION = "definition"  # "X란?", "what is X": the sentence that defines X
    REASON = "reason"  # "왜", "why": a sentence giving a cause or purpose
    METHOD = "method"  # "어떻게", "how does": a sentence saying how
    COUNT = "count"  # "몇 개", "how many": a number bound to the counted noun
    DATE = "date"  # "언제", "when": a date
    LIST = "list"  # "종류", "what kinds": a list introduction with its items
    COMPARISON = "comparison"  # "차이", "difference": each side's statement
    YESNO = "yesno"  # "~인가요?", "is X ...": the sentence that settles it
    OTHER = "other"  # anything else ("which", "who", "where", ...)


@dataclass(frozen=True)
class KindSpec:
    single: bool  # one sentence answers it (a number, a date, yes or no)
    names_focus: bool  # every quoted sentence must name the thing asked about
    factoid: bool = False  # a short answer (one exact span, rag.short_answer) may answer it
    # the short answer must state a number (the expected answer type of factoid QA: Li & Roth,
    # "Learning Question Classifiers", 2002): "몇 장 썼어?" is never answered "트랜스포머"
    numeric: bool = False


SPECS: dict[QuestionKind, KindSpec] = {
    QuestionKind.DEFINITION: KindSpec(single=False, names_focus=True),
    QuestionKind.REASON: KindSpec(single=False, names_focus=False),
    QuestionKind.METHOD: KindSpec(single=False, names_focus=False),
    QuestionKind.COUNT: KindSpec(single=True, names_focus=False, factoid=True, numeric=True),
    QuestionKind.DATE: KindSpec(single=True, names_focus=False, factoid=True),
    QuestionKind.LIST: KindSpec(single=False, names_focus=False),
    QuestionKind.COMPARISON: KindSpec(single=False, names_focus=True),
    # "factoid" for YESNO too: a Korean question without a question word is often one ending on the
    # noun it asks for ("돌아간 해는?"); the span model's own answer type (rag.short_answer.features)
    # tells that from a true yes/no question, which gets no span.
    QuestionKind.YESNO: KindSpec(single=True, names_focus=False, factoid=True),
    QuestionKind.OTHER: KindSpec(single=False, names_focus=False, factoid=True),
}


def spec(kind: str) -> KindSpec:
    return SPECS[QuestionKind(kind)]
