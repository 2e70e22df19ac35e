"""The generator seam: write an answer over numbered passages, whole or streamed, and stop
when asked.

Cancellation is part of the interface. Every ``generate``/``stream`` call takes a
:class:`Cancellation`; the caller sets it when nobody wants the answer any more (the client
went away) and may give it a deadline. A generator checks it between tokens (and while waiting
for a shared model) and then stops and frees what it holds at once, raising
:class:`~rag.errors.GenerationCancelled` or :class:`~rag.errors.GenerationTimeout`.

A generator that holds a shared resource (a model lock) must never hold it in a suspended
generator frame: ``stream`` is consumed by code it does not control (an HTTP response whose
client vanished leaves its iterator suspended, never closed). Such a generator produces in a
worker of its own that always runs to an end (done, cancelled or past the deadline) and
releases the resource in that worker's ``finally``; ``stream`` only reads what it produced.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Protocol

from rag.errors import GenerationCancelled, GenerationTimeout
from rag.language.query import AnalyzedQuery
from rag.types import Passage

CLIENT_GONE = "the client went away"


@dataclass
class Generation:
    text: str  # the answer body, with [n] citations into ``passages``
    passages: list[Passage]  # what the generator was actually given (after packing)
    preamble: str = ""  # a note outside the answer body (e.g. "quoted from Korean notes")
    debug: dict[str, Any] = field(default_factory=dict)
    answered_by: str | None = None  # the generator that answered when another stood in (a fallback)


class Cancellation:
    """A request to stop one generation: set by :meth:`cancel` (any thread) or by passing the
    ``deadline`` (a ``time.monotonic()`` value, seconds). Thread-safe; cancelling twice keeps
    the first reason."""

    def __init__(self, deadline: float | None = None) -> None:
        self.deadline = deadline
        self._event = threading.Event()
        self.reason: str | None = None

    @classmethod
    def after(cls, seconds: float | None) -> "Cancellation":
        """One whose deadline is ``seconds`` from now (None: no deadline)."""
        return cls(None if seconds is None else time.monotonic() + seconds)

    def cancel(self, reason: str = CLIENT_GONE) -> None:
        if not self._event.is_set():
            self.reason = reason
            self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def expired(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def stopped(self) -> bool:
        """True once cancelled or past the deadline: the check to make between tokens."""
        return self._event.is_set() or self.expired()

    def raise_if_stopped(self, what: str = "generation") -> None:
        """Raises GenerationCancelled (cancelled) or GenerationTimeout (deadline passed)."""
        if self._event.is_set():
            raise GenerationCancelled(f"{what} cancelled: {self.reason}")
        if self.expired():
            raise GenerationTimeout(f"{what} stopped: it ran past its deadline (RAG_LLM_TIMEOUT_S)")

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds`` or until cancelled; True if cancelled."""
        return self._event.wait(seconds)


def never() -> Cancellation:
    """A Cancellation nobody sets, for callers that have no one to go away (tests, eval)."""
    return Cancellation()


class Generator(Protocol):
    """Registered in `rag.generators.registry`: ``configured(settings)`` says whether the
    settings ask for it, ``from_settings(settings)`` builds it (raising ModelUnavailable)."""

    name: str

    def generate(self, query: AnalyzedQuery, passages: list[Passage],
                 cancel: Cancellation | None = None) -> Generation:
        """The whole answer. Stops between tokens once ``cancel`` is stopped, raising
        GenerationCancelled / GenerationTimeout."""
        ...

    def stream(self, query: AnalyzedQuery, passages: list[Passage],
               cancel: Cancellation | None = None) -> Iterator[str | Generation]:
        """Text pieces as they are produced, then the final Generation. The consumer may stop
        reading at any point without closing the iterator: it cancels ``cancel`` instead, and
        the generator releases everything it holds at once."""
        ...
