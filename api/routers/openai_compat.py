"""OpenAI-compatible routes: POST /v1/chat/completions (plain and streamed) and GET /v1/models."""
from __future__ import annotations

import json
import time
from typing import Any, Iterator

from fastapi import APIRouter, Request

from api import openai_compat as oa
from api.cancellation import CancellingEventStream, produce_in_thread, run_cancellable
from api.deps import ServicesDep, SettingsDep, SnapshotDep, check_question, check_text
from api.errors import error_body, invalid, responses
from rag.generators.base import Cancellation

router = APIRouter(prefix="/v1", tags=["openai"])
STARTED = int(time.time())

STREAM_EXAMPLE = (
    'data: {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "BERT는 "}, ...}]}\n\n'
    'data: {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "\\n\\nSources: ..."}, '
    '"finish_reason": "stop"}], "sources": [...]}\n\n'
    "data: [DONE]\n\n"
)


@router.post(
    "/chat/completions", response_model=oa.ChatCompletion,
    summary="OpenAI-compatible chat completion answering the last user message from the notes",
    responses={200: {"content": {"text/event-stream": {"example": STREAM_EXAMPLE}}}, **responses(400, 413, 422, 503, 504)},
)
async def chat_completions(body: oa.ChatRequest, services: ServicesDep, settings: SettingsDep, snapshot: SnapshotDep,
                           request: Request) -> Any:
    question = body.question()
    if question is None:
        raise invalid("messages", "no message with role 'user'")
    for i, message in enumerate(body.messages):  # every turn a client sends, decided before any stream starts
        check_text(message.text(), settings, field=f"messages.{i}.content")
    check_question(question, settings, field="messages.content")
    metrics = request.app.state.metrics
    cancel = Cancellation()
    if body.stream:
        def chunks() -> Iterator[str]:
            events = services.pipeline.stream(question, body.k, None, snapshot=snapshot, cancel=cancel)
            return oa.stream_chunks(events, body.model, lambda a: metrics.observe_answer(a, "openai"))

        def failed(exc: Exception) -> str:  # as stream_chunks ends an in-band error: error, then [DONE]
            error = error_body("internal_error", f"internal error: {type(exc).__name__}")
            return f"data: {json.dumps(error)}\n\ndata: [DONE]\n\n"

        return CancellingEventStream(produce_in_thread(chunks, cancel, failed), cancel,
                                     headers={"Cache-Control": "no-cache", "X-Snapshot-Id": snapshot.id})
    answer = await run_cancellable(request, cancel, services.pipeline.run, question, body.k, None,
                                   snapshot=snapshot, cancel=cancel)
    metrics.observe_answer(answer, "openai")
    return oa.completion(question, answer, body.model)


@router.get("/models", response_model=oa.ModelList, summary="The one model this service offers")
def list_models() -> dict[str, Any]:
    return oa.models(STARTED)
