"""The one place that builds the query-side services from settings, for the HTTP API
(`api.services.Services.load`) and the CLI alike. Each part is built on first use: `rag search`
never loads an LLM, `rag ask` does.

    settings -> live snapshot (RAG_INDEX_BACKEND) -> searcher (+ reranker)
             -> generator (RAG_GENERATOR / RAG_LLM_URL / RAG_LLM_MODEL) -> answer pipeline
"""
from __future__ import annotations

from functools import cached_property

from rag.generators.base import Generator
from rag.generators.registry import load_generator
from rag.live import LiveSnapshot
from rag.pipeline import AnswerPipeline
from rag.rerankers.base import Reranker
from rag.rerankers.registry import load_cross_encoder
from rag.search import Searcher
from rag.settings import Settings


class Wiring:
    """``Wiring(settings).pipeline`` etc.; every attribute is built once, on first access."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def live(self) -> LiveSnapshot:
        return LiveSnapshot.from_settings(self.settings)

    @cached_property
    def reranker(self) -> Reranker | None:
        return load_cross_encoder(self.settings)

    @cached_property
    def searcher(self) -> Searcher:
        return Searcher(self.settings, self.live.get, reranker=self.reranker)

    @cached_property
    def generator(self) -> Generator:
        return load_generator(self.settings)

    @cached_property
    def pipeline(self) -> AnswerPipeline:
        return AnswerPipeline(self.settings, self.searcher, self.generator)
