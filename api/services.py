"""What the app holds for its lifetime: settings, the live snapshot and the query services."""
from __future__ import annotations

from dataclasses import dataclass

from rag.live import LiveSnapshot
from rag.reranker import load_reranker
from rag.search import Searcher
from rag.settings import Settings


@dataclass
class Services:
    settings: Settings
    live: LiveSnapshot
    searcher: Searcher

    @classmethod
    def load(cls, settings: Settings) -> "Services":
        live = LiveSnapshot(settings.index_dir)
        searcher = Searcher(settings, live.get, reranker=load_reranker(settings.reranker_model))
        return cls(settings, live, searcher)
