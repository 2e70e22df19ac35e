"""Our search as a LangChain retriever: ``StudyNotesRetriever`` is a
``langchain_core.retrievers.BaseRetriever`` whose ``invoke(question)`` returns the ranked
passages as ``Document``s, with the fields a citation needs in ``metadata``.

    page_content  the chunk's text (exactly ``document_text[start:end]``)
    metadata      doc, title, section, page (None outside PDFs/slides), start, end (character
                  offsets into the document's text), score (fused), ranks (each retriever's
                  rank and score), chunk_id (row in the snapshot), snapshot (its id),
                  evidence and refused (the answerability gate's verdict on the question)
"""
from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from rag.search import Searcher
from rag.settings import RetrieverName, Settings


class StudyNotesRetriever(BaseRetriever):
    """``StudyNotesRetriever.from_settings(Settings())`` follows the live snapshot (a re-index
    is picked up without rebuilding the retriever). ``k`` and ``retriever`` default to
    RAG_TOP_K and RAG_RETRIEVER. Raises NoIndex when there is no snapshot yet."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    searcher: Searcher
    k: int | None = None
    retriever: RetrieverName | None = None

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> "StudyNotesRetriever":
        from rag.wiring import Wiring

        return cls(searcher=Wiring(settings).searcher, **kwargs)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        snapshot = self.searcher.snapshot()
        result = self.searcher.run(query, self.k, self.retriever, snapshot=snapshot)
        return [
            Document(
                page_content=p.chunk.text,
                id=f"{snapshot.id}:{p.chunk.id}",
                metadata={"doc": p.chunk.doc, "title": snapshot.title(p.chunk.doc), "section": p.chunk.section,
                          "page": p.chunk.page, "start": p.chunk.start, "end": p.chunk.end, "score": p.score,
                          "ranks": {str(name): rank for name, rank in p.ranks.items()}, "chunk_id": p.chunk.id,
                          "snapshot": snapshot.id, "evidence": result.evidence, "refused": result.refused},
            )
            for p in result.passages
        ]
