"""What the app holds for its lifetime: settings, the live snapshot and the services the CLI
uses too (searcher, answer pipeline, documents). Built once per process, in the lifespan."""
from __future__ import annotations

from dataclasses import dataclass

from api.documents import DocumentService
from rag.live import LiveSnapshot
from rag.pipeline import AnswerPipeline, load_generator
from rag.reranker import load_reranker
from rag.search import Searcher
from rag.settings import Settings


@dataclass
class Services:
    settings: Settings
    live: LiveSnapshot
    searcher: Searcher
    pipeline: AnswerPipeline
    documents: DocumentService

    @classmethod
    def load(cls, settings: Settings) -> "Services":
        live = LiveSnapshot(settings.index_dir)
        searcher = Searcher(settings, live.get, reranker=load_reranker(settings.reranker_model))
        pipeline = AnswerPipeline(settings, searcher, load_generator(settings))
        return cls(settings, live, searcher, pipeline, DocumentService(settings, live))

    @property
    def generator_name(self) -> str:
        return self.pipeline.generator.name
