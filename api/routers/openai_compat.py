"""OpenAI-compatible routes: POST /v1/chat/completions (plain and streamed) and GET /v1/models."""
from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from api import openai_compat as oa
from api.deps import ServicesDep, SettingsDep, SnapshotDep, check_question
from api.errors import invalid, responses

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
    responses={200: {"content": {"text/event-stream": {"example": STREAM_EXAMPLE}}}, **responses(400, 413, 422, 503)},
)
def chat_completions(body: oa.ChatRequest, services: ServicesDep, settings: SettingsDep, snapshot: SnapshotDep,
                     request: Request) -> Any:
    question = body.question()
    if question is None:
        raise invalid("messages", "no message with role 'user'")
    check_question(question, settings, field="messages.content")
    metrics = request.app.state.metrics
    if body.stream:
        events = services.pipeline.stream(question, body.k, None, snapshot=snapshot)
        chunks = oa.stream_chunks(events, body.model, lambda a: metrics.observe_answer(a, "openai"))
        return StreamingResponse(chunks, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
    answer = services.pipeline.run(question, body.k, None, snapshot=snapshot)
    metrics.observe_answer(answer, "openai")
    return oa.completion(question, answer, body.model)


@router.get("/models", response_model=oa.ModelList, summary="The one model this service offers")
def list_models() -> dict[str, Any]:
    return oa.models(STARTED)
