"""POST /ask and POST /ask/stream: thin wrappers over the answer pipeline the CLI uses."""
from __future__ import annotations

from typing import Annotated, Any, Iterator

from fastapi import APIRouter, Body, Depends, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent

from api.deps import ServicesDep, SettingsDep, SnapshotDep, check_question
from api.errors import error_body, responses
from api.schemas import AnswerOut, AskRequest
from rag.errors import RagError

router = APIRouter(tags=["ask"])

SSE_EXAMPLE = (
    'event: token\ndata: {"text": "YOLO는 "}\n\n'
    'event: token\ndata: {"text": "CNN 기반 ... [1]"}\n\n'
    'event: answer\ndata: {"answer": "YOLO는 CNN 기반 ... [1]", "refused": false, "citations": [...], ...}\n\n'
)


def checked_ask(body: Annotated[AskRequest, Body()], settings: SettingsDep) -> AskRequest:
    """Validation that needs settings, done before any response (or stream) starts."""
    check_question(body.question, settings)
    return body


AskDep = Annotated[AskRequest, Depends(checked_ask)]


@router.post("/ask", response_model=AnswerOut, summary="Answer a question from the notes, with citations",
             responses=responses(400, 413, 422, 503))
def ask(req: AskDep, services: ServicesDep, snapshot: SnapshotDep, request: Request) -> dict[str, Any]:
    answer = services.pipeline.run(req.question, req.k, req.retriever, snapshot=snapshot, history=req.turns())
    request.app.state.metrics.observe_answer(answer, "ask")
    return answer.to_dict()


@router.post(
    "/ask/stream", response_class=EventSourceResponse,
    summary="Answer as Server-Sent Events: `token` events, then one `answer` event with the full Answer",
    description="Each `token` event's data is `{\"text\": ...}`, in generation order. The last event is "
                "`answer`, carrying the verified Answer (the same object as POST /ask): render that as the final "
                "text, since verification may drop citations the tokens showed. A failure after the stream "
                "started is sent as an `error` event with the usual error object.",
    responses={200: {"content": {"text/event-stream": {"example": SSE_EXAMPLE}}},
               **responses(400, 413, 422, 503, stream=True)},
)
def ask_stream(req: AskDep, services: ServicesDep, snapshot: SnapshotDep, request: Request) -> Iterator[ServerSentEvent]:
    metrics = request.app.state.metrics
    try:
        for event in services.pipeline.stream(req.question, req.k, req.retriever, snapshot=snapshot,
                                              history=req.turns()):
            if event.kind == "token":
                yield ServerSentEvent(event="token", data={"text": event.data})
            else:
                metrics.observe_answer(event.data, "ask_stream")
                yield ServerSentEvent(event="answer", data=event.data.to_dict())
    except RagError as exc:
        yield ServerSentEvent(event="error", data=error_body(exc.code, exc.message))
