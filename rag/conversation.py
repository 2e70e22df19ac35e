"""Follow-up questions resolved against the conversation before retrieval.

A follow-up ("How was it pre-trained?", "그럼 그 두 번째 것은 무슨 일을 해?") cannot be searched
alone: the notes would be searched for "it" or "the second one". It is rewritten as a
standalone question first, and the rewrite is what retrieval and the reader see.

With an LLM this is the usual condense step (the model rewrites the follow-up in its own chat
template; a rewrite that drops the follow-up's own words is not trusted). Without one, or when
the LLM's rewrite is rejected, the follow-up is resolved by the kind of reference it makes,
found from Kiwi's part-of-speech tags rather than from a list of trigger phrases
(``rag.language.references``):

- an ordinal ("두 번째", "the second one", "마지막") points into the list the previous answer
  gave: coordinated noun phrases ("A와 B", "A, B and C") or bulleted / numbered lines;
- an anaphor (a demonstrative pronoun, tag NP, or determiner, tag MM: 그것, 이, 그 모델; in
  English the personal and demonstrative pronouns) stands for the previous turn's focus;
- a question with no subject of its own (no name, acronym or number, and at most one common
  noun: "장점은 뭐야?") is about the previous focus.

The focus of a turn is the first name (NNP, Latin word or acronym) of its resolved question,
else its first common-noun phrase. Only the last turn is looked at (earlier turns through the
chain of rewrites), so a new topic starts a new focus.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable, Sequence

from rag.answer import REFUSALS, Answer
from rag.language.korean import detect_lang
from rag.validation import InvalidQuestion
from rag.language.references import (
    LAST, MARKS, answer_lists, attach_focus, content_words, dangling_reference, find_ordinal, has_own_subject,
    join_item, pronoun_ordinal, replace_anaphors,
)
from rag.language.phrases import focus_of

log = logging.getLogger(__name__)

MAX_TURNS = 4  # turns of history looked at (the chain of rewrites)


@dataclass(frozen=True)
class Turn:
    """One earlier exchange: the question as asked, the answer given, and (when known) how the
    question was understood."""

    question: str
    answer: str = ""
    understood_as: str | None = None


@dataclass
class Resolution:
    text: str  # the standalone question retrieval uses
    original: str
    method: str = "none"  # none | rules | llm
    reference: str | None = None  # ordinal | anaphor | no_subject
    focus: str | None = None
    notes: list[str] = field(default_factory=list)
    # the words of a reference nothing earlier gives a meaning to ("그 두 번째 것" with no list
    # before it): the question is not guessed at, the answer asks what is meant (``clarification``)
    unresolved: str | None = None

    @property
    def rewritten(self) -> bool:
        return self.text != self.original

    def debug(self) -> dict[str, object]:
        return {"understood_as": self.text if self.rewritten else None,
                "follow_up": {"method": self.method, "reference": self.reference, "focus": self.focus,
                              **({"notes": self.notes} if self.notes else {}),
                              **({"unresolved": self.unresolved} if self.unresolved else {})}}

    def clarification(self, generator: str, timings: dict[str, float]) -> Answer:
        """The answer to a question whose reference could not be resolved: a question back, in
        the question's language, refused (nothing was searched, nothing is cited)."""
        lang = detect_lang(self.original)
        text = CLARIFY.get(lang, CLARIFY["ko"]).format(phrase=self.unresolved)
        return Answer(text, True, generator, timings_ms=timings, lang=lang,
                      debug={**self.debug(), "refusal_reason": "the question refers to something the conversation "
                                                                 "never named", "clarify": True})


CLARIFY = {
    "ko": "'{phrase}'이(가) 무엇을 가리키는지 알 수 없습니다. 앞선 대화에 그런 것이 나오지 않았어요. "
          "무엇에 대해 묻는지 이름을 넣어 다시 질문해 주세요.",
    "en": "I can't tell what '{phrase}' refers to: nothing earlier in the conversation names it. "
          "Please ask again, naming what you mean.",
}


Condense = Callable[[list[dict[str, str]]], str]

CONDENSE_PROMPT = (
    "Rewrite the user's last question so that it can be understood without the conversation: replace "
    "pronouns and references such as 'it', 'the second one', '그것' or '두 번째 것' with what they refer to. "
    "Keep the question's language and wording otherwise. Reply with the rewritten question only.")


class FollowUpResolver:
    """``resolve(question, history)``; ``condense`` is an LLM call (messages -> text), or None;
    ``max_chars`` (RAG_MAX_QUESTION_CHARS) bounds the rewrite as it bounds a question."""

    def __init__(self, condense: Condense | None = None, max_chars: int | None = None) -> None:
        self.condense = condense
        self.max_chars = max_chars

    def resolve(self, question: str, history: Sequence[Turn]) -> Resolution:
        """Raises :class:`~rag.validation.InvalidQuestion` (422, field ``history``) when the
        rewrite is longer than ``max_chars``: it would be analysed as a question of that length."""
        resolution = self._resolve(question, list(history)[-MAX_TURNS:])
        if resolution.reference is None and not resolution.rewritten:
            resolution.unresolved = dangling_reference(question, detect_lang(question))
        if self.max_chars is not None and len(resolution.text) > self.max_chars:
            raise InvalidQuestion("history", f"the question rewritten with the conversation is {len(resolution.text)} "
                                             f"characters, longer than {self.max_chars} (RAG_MAX_QUESTION_CHARS)")
        return resolution

    def _resolve(self, question: str, history: list[Turn]) -> Resolution:
        if not history:
            return Resolution(question, question)
        if self.condense is not None:
            rewrite = self._condense(question, history)
            if rewrite is not None:
                return Resolution(rewrite, question, "llm")
            by_rules = resolve_by_rules(question, history)
            by_rules.notes.append("the LLM's rewrite dropped the question's own words; resolved by rules")
            return by_rules
        return resolve_by_rules(question, history)

    def _condense(self, question: str, history: list[Turn]) -> str | None:
        lines = []
        for t in history:
            lines += [f"User: {t.question}", f"Assistant: {MARKS.sub('', t.answer)[:600]}"]
        messages = [{"role": "system", "content": CONDENSE_PROMPT},
                    {"role": "user", "content": "\n".join(lines) + f"\n\nLast question: {question}\nRewritten question:"}]
        try:
            text = self.condense(messages)
        except Exception as exc:  # a failed rewrite must not fail the answer
            log.warning("condense step failed (%s); resolving by rules", exc)
            return None
        text = (text or "").strip().strip('"\'“”').splitlines()[0].strip() if (text or "").strip() else ""
        own = {w for w in content_words(question)}
        kept = sum(1 for w in own if w in text)
        if not text or len(text) > 3 * len(question) + 200 or (own and kept < len(own) / 2):
            return None
        return text


def _refused(answer: str) -> bool:
    text = answer.strip()
    return text in REFUSALS.values() or any(text.startswith(c.split("{phrase}")[0]) and "{phrase}" in c
                                            and text.endswith(c.split("{phrase}")[1][-20:]) for c in CLARIFY.values())


def resolve_by_rules(question: str, history: list[Turn]) -> Resolution:
    prev = history[-1]
    if prev.understood_as:
        prev_question = prev.understood_as
    elif len(history) > 1:  # the previous question may itself have been a follow-up
        prev_question = resolve_by_rules(prev.question, history[:-1]).text
    else:
        prev_question = prev.question
    # a refused turn ("안녕?" -> "the notes do not cover this") named nothing the notes know of:
    # its words are no focus to put in the place of "그 모델"
    focus = None if _refused(prev.answer) else focus_of(prev_question)
    lang = detect_lang(question)
    found = find_ordinal(question, lang)
    if found is not None:
        n, (a, b) = found
        # the most recent list long enough for the ordinal ("the last one": the most recent list)
        lists = [items for items in answer_lists(prev.answer) if n == LAST or len(items) >= n]
        if lists:
            items = lists[-1]
            item = items[-1] if n == LAST else items[n - 1]
            text = join_item(question[:a], item, question[b:], lang)
            return Resolution(text, question, "rules", "ordinal", item)
        phrase = pronoun_ordinal(question, lang)
        if phrase is not None:  # "the second one" with no list that long before it: not guessed
            return Resolution(question, question, "rules", "ordinal", focus, unresolved=phrase)
    if focus is None or focus.lower() in question.lower():
        return Resolution(question, question, "rules", None, focus)
    replaced = replace_anaphors(question, focus, lang)
    if replaced != question:
        return Resolution(replaced, question, "rules", "anaphor", focus)
    if not has_own_subject(question, lang):
        return Resolution(attach_focus(question, focus, lang), question, "rules", "no_subject", focus)
    return Resolution(question, question, "rules", None, focus)


