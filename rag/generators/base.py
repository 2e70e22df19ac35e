"""The generator seam: write an answer over numbered passages, whole or streamed."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Protocol

from rag.query import AnalyzedQuery
from rag.types import Passage


@dataclass
class Generation:
    text: str  # the answer body, with [n] citations into ``passages``
    passages: list[Passage]  # what the generator was actually given (after packing)
    preamble: str = ""  # a note outside the answer body (e.g. "quoted from Korean notes")
    debug: dict[str, Any] = field(default_factory=dict)


class Generator(Protocol):
    name: str

    def generate(self, query: AnalyzedQuery, passages: list[Passage]) -> Generation: ...

    def stream(self, query: AnalyzedQuery, passages: list[Passage]) -> Iterator[str | Generation]:
        """Text pieces as they are produced, then the final Generation."""
        ...
