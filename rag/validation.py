"""One validation of question text for every surface: the CLI (``rag ask``, ``rag search``),
``POST /ask``, ``POST /ask/stream``, ``GET /search`` and ``/v1/chat/completions``.

Each surface calls :func:`check_question` before any work starts (before a stream's first
byte), and maps :class:`InvalidQuestion` to its own error: HTTP 422 naming the field, or a CLI
message and exit code 2. A rule is a function ``(text, limits) -> reason | None``; other
features add theirs to :data:`QUESTION_RULES` (every question) or :data:`TEXT_RULES` (any text
a client sends with a question, e.g. earlier turns of a conversation) instead of checking on
their own.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Callable, Sequence

from rag.errors import InvalidInput, TooLarge


@dataclass(frozen=True)
class Limits:
    """What the rules may depend on (from settings): ``max_chars`` is RAG_MAX_QUESTION_CHARS."""

    max_chars: int


Rule = Callable[[str, Limits], "str | None"]


class ConversationTooLong(TooLarge):
    """The earlier turns sent with a question are, all together, over RAG_MAX_HISTORY_CHARS (413)."""


class InvalidQuestion(InvalidInput):
    """A question (or text sent with it) that no surface accepts. ``field`` names where it came
    from (``question``, ``q``, ``messages.content``); ``reason`` says what is wrong."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def valid_unicode(text: str, _: Limits) -> str | None:
    """Lone UTF-16 surrogates (U+D800..U+DFFF) are not characters: valid JSON can carry them as
    ``\\udfff`` escapes and a command line as undecodable bytes (Python's surrogateescape), but
    no UTF-8 encoder, tokenizer or log accepts them. Noncharacters and private-use code points
    are valid Unicode (Unicode Corrigendum #9) and pass."""
    for i, ch in enumerate(text):
        if unicodedata.category(ch) == "Cs":
            return f"invalid Unicode: lone surrogate U+{ord(ch):04X} at character {i} (send UTF-8 text)"
    return None


def not_blank(text: str, _: Limits) -> str | None:
    """Nothing a reader could see: whitespace, control and format characters (zero-width spaces)."""
    if all(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf") for ch in text):
        return "must not be empty"
    return None


def within_length(text: str, limits: Limits) -> str | None:
    if len(text) > limits.max_chars:
        return f"longer than {limits.max_chars} characters (RAG_MAX_QUESTION_CHARS)"
    return None


# Order matters only for which reason is reported first: invalid Unicode before the rest.
TEXT_RULES: list[Rule] = [valid_unicode]
QUESTION_RULES: list[Rule] = [*TEXT_RULES, not_blank, within_length]


def _apply(rules: list[Rule], text: str, limits: Limits, field: str) -> str:
    for rule in rules:
        reason = rule(text, limits)
        if reason is not None:
            raise InvalidQuestion(field, reason)
    return text


def check_question(text: str, max_chars: int, field: str = "question") -> str:
    """``text`` unchanged if every rule of :data:`QUESTION_RULES` accepts it.

    Raises :class:`InvalidQuestion` (an ``InvalidInput``, HTTP 422) with the first reason."""
    return _apply(QUESTION_RULES, text, Limits(max_chars), field)


def check_conversation(parts: Sequence[tuple[str, str, bool]], max_chars: int, max_total: int) -> None:
    """Text a client sends with a question, bounded before any analysis: ``parts`` are
    ``(field, text, is_question)``; an earlier question (or how it was understood) is held to
    the question rules' length (``max_chars``, RAG_MAX_QUESTION_CHARS), every part to
    :data:`TEXT_RULES`, and all of them together to ``max_total`` characters (RAG_MAX_HISTORY_CHARS).

    Raises :class:`InvalidQuestion` (422) naming the part, or :class:`ConversationTooLong` (413)."""
    limits = Limits(max_chars)
    total = 0
    for field, text, is_question in parts:
        _apply([*TEXT_RULES, within_length] if is_question else TEXT_RULES, text, limits, field)
        total += len(text)
    if total > max_total:
        raise ConversationTooLong(f"the conversation sent with the question is {total} characters, more than "
                                  f"{max_total} (RAG_MAX_HISTORY_CHARS): send fewer or shorter earlier turns")
