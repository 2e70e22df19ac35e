"""POST /ask and POST /ask/stream: thin wrappers over the answer pipeline the CLI uses.

Both cancel their generation when the client goes away (``api.cancellation``) and stop it at
``RAG_LLM_TIMEOUT_S`` (504, or an ``error`` event once the stream has started)."""
from __future__ import annotations

import json
from typing import Annotated, Any, Iterator

from fastapi import APIRouter, Body, Depends, Request
from fastapi.sse import _SSE_EVENT_SCHEMA, format_sse_event

from api.cancellation import CancellingEventStream, produce_in_thread, run_cancellable
from api.deps import ServicesDep, SettingsDep, SnapshotDep, check_conversation, check_question
from api.errors import error_body, responses
from api.schemas import AnswerOut, AskRequest
from rag.errors import RagError
from rag.generators.base import Cancellation

router = APIRouter(tags=["ask"])

SSE_EXAMPLE = (
    'event: quick_answer\ndata: {"answer": "YOLO는 ... [1]", "refused": false, "generator": "extractive", ...}\n\n'
    'event: token\ndata: {"text": "YOLO는 "}\n\n'
    'event: token\ndata: {"text": "CNN 기반 ... [1]"}\n\n'
    'event: answer\ndata: {"answer": "YOLO는 CNN 기반 ... [1]", "refused": false, "citations": [...], ...}\n\n'
)


def checked_ask(body: Annotated[AskRequest, Body()], settings: SettingsDep) -> AskRequest:
    """Validation that needs settings, done before any response (or stream) starts."""
    check_question(body.question, settings)
    parts: list[tuple[str, str, bool]] = []
    for i, turn in enumerate(body.history):
        parts += [(f"history.{i}.question", turn.question, True), (f"history.{i}.answer", turn.answer, False)]
        if turn.understood_as is not None:
            parts.append((f"history.{i}.understood_as", turn.understood_as, True))
    check_conversation(parts, settings)
    return body


AskDep = Annotated[AskRequest, Depends(checked_ask)]


def _sse(event: str, data: Any) -> bytes:
    return format_sse_event(event=event, data_str=json.dumps(data, ensure_ascii=False))


@router.post("/ask", response_model=AnswerOut, summary="Answer a question from the notes, with citations",
             responses=responses(400, 413, 422, 503, 504))
async def ask(req: AskDep, services: ServicesDep, snapshot: SnapshotDep, request: Request) -> dict[str, Any]:
    cancel = Cancellation()
    answer = await run_cancellable(request, cancel, services.pipeline.run, req.question, req.k, req.retriever,
                                   snapshot=snapshot, cancel=cancel, history=req.turns())
    request.app.state.metrics.observe_answer(answer, "ask")
    return answer.to_dict()


@router.post(
    "/ask/stream", response_class=CancellingEventStream,
    summary="Answer as Server-Sent Events: a `quick_answer` (with a model), `token` events, then one `answer`",
    description="With a model generator the first event is `quick_answer`: the extractive Answer (quoted from "
                "the notes, verified citations), ready in milliseconds, to show while the model writes; it is "
                "replaced by the final `answer`. Each `token` event's data is `{\"text\": ...}`, in generation "
                "order. The last event is "
                "`answer`, carrying the verified Answer (the same object as POST /ask): render that as the final "
                "text, since verification may drop citations the tokens showed. A failure after the stream "
                "started is sent as an `error` event with the usual error object.",
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "array", "items": _SSE_EVENT_SCHEMA},
                                                            "itemSchema": _SSE_EVENT_SCHEMA, "example": SSE_EXAMPLE}}},
               **responses(400, 413, 422, 503, stream=True)},
)
async def ask_stream(req: AskDep, services: ServicesDep, snapshot: SnapshotDep, request: Request) -> CancellingEventStream:
    metrics = request.app.state.metrics
    cancel = Cancellation()

    def events() -> Iterator[bytes]:
        try:
            for event in services.pipeline.stream(req.question, req.k, req.retriever, snapshot=snapshot,
                                                  cancel=cancel, history=req.turns(), quick=True):
                if event.kind == "token":
                    yield _sse("token", {"text": event.data})
                elif event.kind == "quick_answer":
                    yield _sse("quick_answer", event.data.to_dict())
                else:
                    metrics.observe_answer(event.data, "ask_stream")
                    yield _sse("answer", event.data.to_dict())
        except RagError as exc:
            yield _sse("error", error_body(exc.code, exc.message))

    def failed(exc: Exception) -> bytes:
        return _sse("error", error_body("internal_error", f"internal error: {type(exc).__name__}"))

    return CancellingEventStream(produce_in_thread(events, cancel, failed), cancel,
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no",
                                          "X-Snapshot-Id": snapshot.id})
