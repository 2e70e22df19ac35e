"""GET /search: ranked passages and the evidence gate's verdict, as ``rag search --json``."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import ServicesDep, SettingsDep, SnapshotDep, check_question
from api.errors import responses
from api.schemas import SearchOut
from rag.settings import RETRIEVER_CHOICES, RetrieverName

router = APIRouter(tags=["ask"])


@router.get("/search", response_model=SearchOut, summary="Ranked passages for a question (no generation)",
            responses=responses(422, 503))
def search(
    q: Annotated[str, Query(description="The question", examples=["YOLO는 어떻게 객체를 찾나요?"])],
    services: ServicesDep, settings: SettingsDep, snapshot: SnapshotDep,
    k: Annotated[int | None, Query(ge=1, le=50, description="Passages to return (default RAG_TOP_K)", examples=[5])] = None,
    retriever: Annotated[RetrieverName | None, Query(description=f"{RETRIEVER_CHOICES} (default RAG_RETRIEVER)",
                                                     examples=["hybrid"])] = None,
) -> dict[str, Any]:
    check_question(q, settings, field="q")
    return services.searcher.run(q, k, retriever, snapshot=snapshot).to_dict()
