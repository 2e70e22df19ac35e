"""OpenAI-compatible routes: POST /v1/chat/completions (plain and streamed), GET /v1/models and
GET /v1/models/{id}. Errors here are in OpenAI's shape (``error.type``, ``param``, ``code``)."""
from __future__ import annotations

import json
import time
from typing import Annotated, Any, Iterator

from fastapi import APIRouter, Path, Request

from api import openai_compat as oa
from api.cancellation import CancellingEventStream, produce_in_thread, run_cancellable
from api.deps import ServicesDep, SettingsDep, SnapshotDep, check_conversation, check_question
from api.errors import HTTP_CODES, error_body, invalid
from api.openai_budget import counter_for
from rag.errors import NotFound
from rag.generators.base import Cancellation

router = APIRouter(prefix="/v1", tags=["openai"])
STARTED = int(time.time())


class ModelNotFound(NotFound):
    code = "model_not_found"  # OpenAI's code for the same case
    param = "model"

STREAM_EXAMPLE = (
    'data: {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "BERT는 "}, ...}]}\n\n'
    'data: {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "\\n\\nSources: ..."}, '
    '"finish_reason": "stop"}], "sources": [...]}\n\n'
    'data: {"object": "chat.completion.chunk", "choices": [], "usage": {"prompt_tokens": 5, ...}}\n\n'
    "data: [DONE]\n\n"
)


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": oa.OpenAIErrorOut, "description": HTTP_CODES.get(code, "error")} for code in codes}


@router.post(
    "/chat/completions", response_model=oa.ChatCompletion,
    summary="OpenAI-compatible chat completion: answers the last user message from the notes, in the conversation",
    description="Earlier user/assistant messages resolve a follow-up (`understood_as` says how); a system message "
                "reaches an LLM generator only. `max_tokens` cuts at a sentence boundary (`finish_reason: length`), "
                "`stop` ends the answer before a sequence, `n` must be 1, `stream_options.include_usage` adds a "
                "usage chunk. Tokens are the model's, or Kiwi morphemes for extractive answers.",
    responses={200: {"content": {"text/event-stream": {"example": STREAM_EXAMPLE}}}, **responses(400, 404, 413, 422, 503, 504)},
)
async def chat_completions(body: oa.ChatRequest, services: ServicesDep, settings: SettingsDep, snapshot: SnapshotDep,
                           request: Request) -> Any:
    body.check_parameters()
    if body.model != oa.MODEL_ID:
        raise ModelNotFound(f"the model '{body.model[:80]}' does not exist; this service offers '{oa.MODEL_ID}' "
                            "(GET /v1/models)")
    question = body.question()
    if question is None:
        raise invalid("messages", "no message with role 'user'")
    last = body.last_user()
    # every message a client sends is bounded before any analysis (or stream) starts: earlier user
    # messages as questions, all of them together by RAG_MAX_HISTORY_CHARS
    check_conversation([(f"messages.{i}.content", m.text(), m.role == "user")
                        for i, m in enumerate(body.messages) if i != last], settings)
    check_question(question, settings, field=f"messages.{last}.content")
    metrics = request.app.state.metrics
    cancel = Cancellation()
    pipeline = services.pipeline
    count = counter_for(pipeline.generator)
    kwargs = {"snapshot": snapshot, "history": body.history(), "instructions": body.instructions(), "cancel": cancel}
    if body.stream:
        def chunks() -> Iterator[str]:
            events = pipeline.stream(question, body.k, None, **kwargs)
            return oa.stream_chunks(body, events, count, lambda a: metrics.observe_answer(a, "openai"))

        def failed(exc: Exception) -> str:  # as stream_chunks ends an in-band error: error, then [DONE]
            error = error_body("internal_error", f"internal error: {type(exc).__name__}")
            return f"data: {json.dumps(error)}\n\ndata: [DONE]\n\n"

        return CancellingEventStream(produce_in_thread(chunks, cancel, failed), cancel,
                                     headers={"Cache-Control": "no-cache", "X-Snapshot-Id": snapshot.id})
    answer = await run_cancellable(request, cancel, pipeline.run, question, body.k, None, **kwargs)
    metrics.observe_answer(answer, "openai")
    return oa.completion(body, answer, count)


@router.get("/models", response_model=oa.ModelList, summary="The one model this service offers")
def list_models() -> dict[str, Any]:
    return oa.models(STARTED)


@router.get("/models/{model_id}", response_model=oa.ModelCard, summary="One model, by id",
            responses=responses(404))
def retrieve_model(model_id: Annotated[str, Path(examples=[oa.MODEL_ID])]) -> dict[str, Any]:
    if model_id != oa.MODEL_ID:
        raise ModelNotFound(f"model {model_id!r} does not exist; this service offers {oa.MODEL_ID!r}")
    return oa.model_card(STARTED)
