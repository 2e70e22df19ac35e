"""OpenAI chat-completions shapes over the answer pipeline, so existing chat clients work.

What is used from a request: the last user message is the question; the user and assistant
messages before it are the conversation a follow-up is resolved against (see
``rag.conversation``); system (and developer) messages go to an LLM generator as extra
instructions (the extractive generator cannot follow instructions and ignores them);
``max_tokens``/``max_completion_tokens`` and ``stop`` cut the answer (``api.openai_budget``);
``stream`` and ``stream_options.include_usage``; ``n`` must be 1; ``model`` must be the one
model ``/v1/models`` lists (404 ``model_not_found`` otherwise, as OpenAI answers). Sampling
options (:data:`IGNORED`: ``temperature``, ``top_p``, ...) are accepted and ignored: the answer
is quoted or verified, not sampled. A feature this service cannot give (:data:`UNSUPPORTED`:
``tools``, ``response_format``, ``logprobs``, ...) set to anything but its off value, or a
parameter OpenAI does not define, is a 400 in OpenAI's shape naming the parameter, as
OpenAI-compatible servers answer (``unsupported_parameter``; ``unknown_parameter``). The answer text keeps its ``[n]``
marks and ends with a source list; the verified citations ride beside ``choices`` as ``sources``.
"""
from __future__ import annotations

import json
import time
import uuid
from typing import Any, Callable, Iterator, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationInfo, field_validator

from api.errors import error_body
from api.openai_budget import Shaped, TokenCounter, shape
from api.schemas import CITATION_EXAMPLE, CitationOut, ShortAnswerOut
from rag.answer import Answer
from rag.conversation import Turn
from rag.errors import RagError
from rag.pipeline import StreamEvent

MODEL_ID = "study-notes-rag"
OWNER = "study-notes"
MAX_STOP = 4  # OpenAI's limit on stop sequences
MAX_MODEL_CHARS = 256
# Accepted and ignored: sampling and bookkeeping options that cannot change a quoted, verified answer.
IGNORED = frozenset({"temperature", "top_p", "presence_penalty", "frequency_penalty", "seed", "user", "metadata",
                     "store", "service_tier", "reasoning_effort", "verbosity", "safety_identifier",
                     "prompt_cache_key"})
# OpenAI parameters for features this service does not have; their "off" values are accepted.
UNSUPPORTED = {"tools": (None, []), "tool_choice": (None, "none", "auto"), "functions": (None, []),
               "function_call": (None, "none", "auto"), "parallel_tool_calls": (None, False, True),
               "response_format": (None, {"type": "text"}), "logprobs": (None, False), "top_logprobs": (None, 0),
               "logit_bias": (None, {}), "audio": (None,), "modalities": (None, ["text"]), "prediction": (None,),
               "web_search_options": (None,)}


class UnsupportedParameter(RagError):
    """A 400 in OpenAI's shape with ``param`` set (``api.errors`` reads ``status`` and ``param``)."""

    code = "unsupported_parameter"
    status = 400

    def __init__(self, param: str, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.param = param
        if code:
            self.code = code


Role = Literal["system", "developer", "user", "assistant", "tool", "function"]


def _content(value: Any) -> Any:
    """Text, or a list of ``{"type": "text", "text": str}`` parts; anything else is a clear 422
    (a null or non-string ``text`` would otherwise become the question "None")."""
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, list):
        raise ValueError("must be a string or a list of content parts")
    for i, part in enumerate(value):
        if not isinstance(part, dict):
            raise ValueError(f"part {i} must be an object like {{\"type\": \"text\", \"text\": \"...\"}}")
        if part.get("type") != "text":
            raise ValueError(f"part {i}: type {part.get('type')!r} is not supported; only text parts are")
        if not isinstance(part.get("text"), str):
            raise ValueError(f"part {i}: 'text' must be a string")
    return value


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Role = Field(..., examples=["user"])
    content: str | list[dict[str, Any]] | None = Field(None, description="Text, or a list of text content parts")

    _check = field_validator("content", mode="before")(_content)

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(p["text"] for p in self.content)
        return self.content or ""


class StreamOptions(BaseModel):
    include_usage: StrictBool = False


class ChatRequest(BaseModel):
    """Types are strict: ``"k": true`` or ``"max_tokens": "5"`` are 422s, not 1 and 5."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [
        {"model": MODEL_ID, "messages": [{"role": "user", "content": "BERT는 어디서 언제 발표한 모델이에요?"}]},
        {"model": MODEL_ID, "max_tokens": 60, "messages": [
            {"role": "user", "content": "What is BERT?"}, {"role": "assistant", "content": "BERT is ... [1]"},
            {"role": "user", "content": "How was it pre-trained?"}]},
        {"model": MODEL_ID, "stream": True, "stream_options": {"include_usage": True},
         "messages": [{"role": "user", "content": "What is YOLO?"}]},
    ]})

    model: StrictStr = Field(MODEL_ID, max_length=MAX_MODEL_CHARS, description=f"Must be {MODEL_ID!r} (GET /v1/models)")
    messages: list[ChatMessage] = Field(..., min_length=1)
    stream: StrictBool = False
    stream_options: StreamOptions | None = Field(None, description="Only with stream: include_usage adds a usage chunk")
    max_tokens: StrictInt | None = Field(None, ge=1, description="Tokens the message may hold (answer and sources); "
                                                                  "cut at a sentence boundary, finish_reason 'length'")
    max_completion_tokens: StrictInt | None = Field(None, ge=1, description="Same as max_tokens (newer clients)")
    stop: StrictStr | list[StrictStr] | None = Field(None, description="Up to 4 sequences; the answer ends before the first")
    n: StrictInt = Field(1, ge=1, description="Choices to return: only 1 is supported (the answer is deterministic)")
    k: StrictInt | None = Field(None, ge=1, le=50, description="Extension: passages to retrieve")

    @field_validator("stop")
    @classmethod
    def _stops(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, list) and len(value) > MAX_STOP:
            raise ValueError(f"at most {MAX_STOP} stop sequences")
        return value

    @field_validator("n")
    @classmethod
    def _one_choice(cls, value: int) -> int:
        if value != 1:
            raise ValueError("only n=1 is supported: the answer is deterministic, so further choices would repeat it")
        return value

    @field_validator("stream_options")
    @classmethod
    def _only_streaming(cls, value: StreamOptions | None, info: ValidationInfo) -> StreamOptions | None:
        if value is not None and not info.data.get("stream"):
            raise ValueError("only allowed when stream is true")
        return value

    def check_parameters(self) -> None:
        """Raises :class:`UnsupportedParameter` for the first parameter this service cannot honour."""
        for name, value in (self.model_extra or {}).items():
            if name in IGNORED:
                continue
            if name in UNSUPPORTED:
                if value not in UNSUPPORTED[name]:
                    raise UnsupportedParameter(name, f"'{name}' is not supported by this service: answers are quoted "
                                                     f"from the notes, without {name.replace('_', ' ')}; leave it out")
                continue
            raise UnsupportedParameter(name, f"unrecognized request argument supplied: '{name}'", "unknown_parameter")

    def stops(self) -> list[str]:
        return [self.stop] if isinstance(self.stop, str) else list(self.stop or [])

    def token_limit(self) -> int | None:
        given = [v for v in (self.max_tokens, self.max_completion_tokens) if v is not None]
        return min(given) if given else None

    def last_user(self) -> int | None:
        return next((i for i in range(len(self.messages) - 1, -1, -1) if self.messages[i].role == "user"), None)

    def question(self) -> str | None:
        i = self.last_user()
        return None if i is None else self.messages[i].text()

    def history(self) -> list[Turn]:
        """Earlier user questions, each with the assistant reply that followed it (if any)."""
        end = self.last_user() or 0
        turns: list[Turn] = []
        for m in self.messages[:end]:
            if m.role == "user":
                turns.append(Turn(m.text(), ""))
            elif m.role == "assistant" and turns and not turns[-1].answer:
                turns[-1] = Turn(turns[-1].question, m.text())
        return turns

    def instructions(self) -> str | None:
        text = "\n".join(m.text() for m in self.messages if m.role in ("system", "developer") and m.text().strip())
        return text or None

    def prompt_text(self) -> str:
        return "\n".join(m.text() for m in self.messages)


class ChoiceMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: ChoiceMessage
    finish_reason: Literal["stop", "length"] = "stop"


class ChatCompletion(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "chatcmpl-1f2e3d", "object": "chat.completion", "created": 1767268800, "model": MODEL_ID,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "BERT는 2018년 구글이 공개한 사전 학습된 "
                     "모델이다. [1]\n\nSources:\n[1] Object Detection (000_6894a9c6475e8976.txt), BERT"},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 4, "completion_tokens": 12, "total_tokens": 16},
        "sources": [CITATION_EXAMPLE], "refused": False, "understood_as": None, "answered_by": "extractive",
        "fallback": None,
    }]})

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: dict[str, int] = Field(..., description="Tokens: the model's tokenizer, or Kiwi morphemes (extractive)")
    sources: list[CitationOut] = Field(..., description="The answer's verified citations, numbered as in the text")
    refused: bool
    understood_as: str | None = Field(None, description="The follow-up rewritten as a standalone question")
    answered_by: str = Field(..., description="Whose text was served: the model's name, or 'extractive' (quoted notes)")
    fallback: str | None = Field(None, description="Why quoted notes replaced the model's draft, when they did")
    short_answer: ShortAnswerOut | None = Field(
        None, description="The exact fact a factoid question asks for (see /ask); the content then starts with "
                          "'<its text> — ' before the full answer")


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 1767268800, "owned_by": OWNER}]}]})

    object: Literal["list"] = "list"
    data: list[ModelCard]


class OpenAIError(BaseModel):
    message: str
    type: str = Field(..., examples=["invalid_request_error"])
    param: str | None = Field(None, examples=["max_tokens"])
    code: str | None = Field(None, examples=["validation_error"])


class OpenAIErrorOut(BaseModel):
    """The error shape of the /v1 routes (OpenAI's)."""

    error: OpenAIError


def model_card(created: int) -> dict[str, Any]:
    return {"id": MODEL_ID, "object": "model", "created": created, "owned_by": OWNER}


def models(created: int) -> dict[str, Any]:
    return {"object": "list", "data": [model_card(created)]}


def usage(prompt: str, completion: str, count: TokenCounter) -> dict[str, int]:
    p, c = count(prompt), count(completion)
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def _extras(answer: Answer, shaped: Shaped, prefix: str = "") -> dict[str, Any]:
    """What was served, beside ``choices``: the verified sources, whether it is a refusal, the
    follow-up as understood, the generator whose text it is (``answered_by``: the model, or
    ``extractive`` when quoted notes replaced an unsupported draft), ``fallback``, why (or null),
    and the short answer the content starts with (or null)."""
    return {"sources": [_citation(c) for c in shaped.citations], "refused": answer.refused,
            "understood_as": answer.debug.get("understood_as"), "answered_by": answer.generator,
            "fallback": answer.debug.get("fallback"), "short_answer": answer.short_answer if prefix else None}


def shape_with_short(answer: Answer, max_tokens: int | None, stop: list[str], count: TokenCounter
                     ) -> tuple[str, Shaped]:
    """(prefix, shaped): the content is ``prefix + shaped.content``, where the prefix is
    "<short answer> — " (issue 28: the fact first, then the full answer that proves it) when the
    answer has one and, within ``max_tokens`` (the prefix counted), the citation holding it is
    kept; else "" and the answer shaped alone."""
    short = answer.short_answer
    if short and not answer.refused:
        prefix = f"{short['text']} — "
        budget = None if max_tokens is None else max_tokens - count(prefix)
        if budget is None or budget > 0:
            shaped = shape(answer, budget, stop, count)
            fits = max_tokens is None or count(prefix + shaped.content) <= max_tokens
            if fits and any(c.n == short["citation"] for c in shaped.citations):
                return prefix, shaped
    return "", shape(answer, max_tokens, stop, count)


def completion(req: ChatRequest, answer: Answer, count: TokenCounter) -> dict[str, Any]:
    prefix, shaped = shape_with_short(answer, req.token_limit(), req.stops(), count)
    content = prefix + shaped.content
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": "chat.completion", "created": int(time.time()),
        "model": req.model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                     "finish_reason": shaped.finish_reason, "logprobs": None}],
        "usage": usage(req.prompt_text(), content, count),
        **_extras(answer, shaped, prefix),
    }


def stream_chunks(req: ChatRequest, events: Iterator[StreamEvent], count: TokenCounter,
                  on_answer: Callable[[Answer], None] | None = None) -> Iterator[str]:
    """``data: {chunk}`` frames: the role, the text, a last chunk with ``finish_reason``,
    ``sources``, ``answered_by`` (what was served) and ``short_answer``, a usage chunk (``choices: []``) when
    asked, then ``[DONE]``.

    Only verified text is streamed: the text is sent once the answer is complete, verified
    (``rag.citations``) and cut (``max_tokens``, ``stop``), sentence by sentence, so a stream
    carries exactly the content of the non-streaming route. A model's draft is never streamed
    as it is generated: when no sentence of it is supported, the pipeline serves quoted notes
    instead (``answered_by: extractive``, ``fallback`` says why) and a draft already on the
    wire could not be taken back. The content starts with "<short answer> — " when there is one,
    as on the non-streaming route."""
    cid, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
    with_usage = bool(req.stream_options and req.stream_options.include_usage)

    def frame(choices: list[dict[str, Any]], **extra: Any) -> str:
        chunk = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": req.model,
                 "choices": choices, **({"usage": None} if with_usage else {}), **extra}
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    def delta(content: dict[str, Any], finish: str | None = None) -> list[dict[str, Any]]:
        return [{"index": 0, "delta": content, "finish_reason": finish, "logprobs": None}]

    yield frame(delta({"role": "assistant", "content": ""}))
    try:
        for event in events:
            if event.kind == "token":
                continue  # unverified: the model's draft waits for verification (see above)
            answer: Answer = event.data  # type: ignore[assignment]
            if on_answer is not None:
                on_answer(answer)
            prefix, shaped = shape_with_short(answer, req.token_limit(), req.stops(), count)
            if prefix:
                yield frame(delta({"content": prefix}))
            for piece in _pieces(shaped.text):
                yield frame(delta({"content": piece}))
            tail = shaped.content[len(shaped.text):]
            yield frame(delta({"content": tail}, shaped.finish_reason), **_extras(answer, shaped, prefix))
            if with_usage:
                yield frame([], usage=usage(req.prompt_text(), prefix + shaped.content, count))
    except RagError as exc:  # the 200 has been sent: report the failure in-band, as OpenAI does
        yield f"data: {json.dumps(error_body(exc.code, exc.message, '/v1/', 503), ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"


def _pieces(text: str) -> list[str]:
    """The text in a few pieces (at spaces after sentence ends), for a streamed look."""
    out, pos = [], 0
    for i, ch in enumerate(text):
        if ch == " " and i > 0 and text[i - 1] in ".?!]다":
            out.append(text[pos : i + 1])
            pos = i + 1
    out.append(text[pos:])
    return [p for p in out if p]


def _citation(c: Any) -> dict[str, Any]:
    return {"n": c.n, "doc": c.doc, "title": c.title, "section": c.section, "page": c.page,
            "start": c.start, "end": c.end, "quote": c.quote, "supported": c.supported,
            "section_path": c.section_path, "where": c.where}
