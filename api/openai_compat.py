"""OpenAI chat-completions shapes over the answer pipeline, so existing chat clients work.

The last user message is the question; earlier turns are ignored (each answer comes from the
notes alone). The answer text keeps its ``[n]`` marks and ends with a short source list; the
verified citations ride beside ``choices`` as ``sources``. Token counts in ``usage`` are
whitespace-word estimates: there is no tokenizer when the extractive generator answers.
"""
from __future__ import annotations

import json
import time
import uuid
from typing import Any, Callable, Iterator, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.errors import error_body
from api.schemas import CITATION_EXAMPLE, CitationOut
from rag.answer import Answer
from rag.errors import RagError
from rag.pipeline import StreamEvent

MODEL_ID = "study-notes-rag"
OWNER = "study-notes"


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str = Field(..., examples=["user"])
    content: str | list[dict[str, Any]] | None = Field(None, description="Text, or a list of content parts")

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    """Fields OpenAI clients send beyond these (temperature, max_tokens, ...) are accepted and ignored."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [
        {"model": MODEL_ID, "messages": [{"role": "user", "content": "BERT는 어디서 언제 발표한 모델이에요?"}]},
        {"model": MODEL_ID, "stream": True, "messages": [{"role": "user", "content": "What is YOLO?"}]},
    ]})

    model: str = MODEL_ID
    messages: list[ChatMessage] = Field(..., min_length=1)
    stream: bool = False
    k: int | None = Field(None, ge=1, le=50, description="Extension: passages to retrieve")

    def question(self) -> str | None:
        for message in reversed(self.messages):
            if message.role == "user":
                return message.text()
        return None


class ChoiceMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: ChoiceMessage
    finish_reason: str = "stop"


class ChatCompletion(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "chatcmpl-1f2e3d", "object": "chat.completion", "created": 1767268800, "model": MODEL_ID,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "BERT는 2018년 구글이 공개한 사전 학습된 "
                     "모델이다. [1]\n\nSources:\n[1] 000_6894a9c6475e8976.txt, BERT"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 4, "completion_tokens": 12, "total_tokens": 16},
        "sources": [CITATION_EXAMPLE], "refused": False,
    }]})

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: dict[str, int]
    sources: list[CitationOut] = Field(..., description="The answer's verified citations, numbered as in the text")
    refused: bool


class ModelList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 1767268800, "owned_by": OWNER}]}]})

    object: Literal["list"] = "list"
    data: list[dict[str, Any]]


def models(created: int) -> dict[str, Any]:
    return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": created, "owned_by": OWNER}]}


def sources_footer(answer: Answer) -> str:
    if not answer.citations:
        return ""
    lines = []
    for c in answer.citations:
        where = ", ".join(x for x in (c.doc, c.section, f"p. {c.page}" if c.page else None) if x)
        lines.append(f"[{c.n}] {where}")
    return "\n\nSources:\n" + "\n".join(lines)


def _words(text: str) -> int:
    return len(text.split())


def completion(question: str, answer: Answer, model: str) -> dict[str, Any]:
    content = answer.answer + sources_footer(answer)
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": "chat.completion", "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop",
                     "logprobs": None}],
        "usage": {"prompt_tokens": _words(question), "completion_tokens": _words(content),
                  "total_tokens": _words(question) + _words(content)},
        "sources": [_citation(c) for c in answer.citations],
        "refused": answer.refused,
    }


def stream_chunks(events: Iterator[StreamEvent], model: str,
                  on_answer: Callable[[Answer], None] | None = None) -> Iterator[str]:
    """``data: {chunk}`` frames: the role, each token, then the source list with ``sources``, then [DONE]."""
    cid, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())

    def frame(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        chunk = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                 "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **extra}
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    yield frame({"role": "assistant", "content": ""})
    try:
        for event in events:
            if event.kind == "token":
                yield frame({"content": str(event.data)})
            else:
                answer: Answer = event.data  # type: ignore[assignment]
                if on_answer is not None:
                    on_answer(answer)
                yield frame({"content": sources_footer(answer)}, "stop",
                            sources=[_citation(c) for c in answer.citations], refused=answer.refused)
    except RagError as exc:  # the 200 has been sent: report the failure in-band, as OpenAI does
        yield f"data: {json.dumps(error_body(exc.code, exc.message), ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"


def _citation(c: Any) -> dict[str, Any]:
    return {"n": c.n, "doc": c.doc, "section": c.section, "page": c.page, "start": c.start, "end": c.end,
            "quote": c.quote, "supported": c.supported}
