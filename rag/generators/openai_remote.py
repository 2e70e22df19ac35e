"""Generative answers from a remote OpenAI-compatible server (llama.cpp's server, vLLM, Ollama):
``RAG_LLM_URL`` is its base URL (``http://127.0.0.1:8080/v1``), ``RAG_LLM_API_KEY`` an optional
bearer token, ``RAG_LLM_REMOTE_MODEL`` the model name sent. Answers stream from
``POST {url}/chat/completions`` with ``stream: true`` (server-sent events, parsed by httpx-sse)
and are verified like llama.cpp's. While the server cannot be reached, answers are extractive,
saying so in the answer's ``generator`` and in the log.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Callable, Iterator

import httpx
from httpx_sse import EventSource

from rag.errors import ModelUnavailable
from rag.generators.base import Cancellation, Generation, never
from rag.generators.extractive import ExtractiveGenerator
from rag.generators.worker import stream_from_worker
from rag.prompts import format_passage, messages as chat_messages
from rag.language.query import AnalyzedQuery
from rag.settings import Settings
from rag.types import Passage

log = logging.getLogger(__name__)
CONNECT_TIMEOUT_S = 5.0  # a server that takes longer to accept a connection is taken as unreachable
TEMPLATE_OVERHEAD = 32  # tokens a chat template adds around the two messages (as for llama.cpp)


class RemoteUnavailable(ModelUnavailable):
    """The server could not be reached or answered with an error (before any text)."""


class OpenAIRemoteGenerator:
    follows_instructions = True  # a client's system message is passed on (after our rules)

    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None) -> None:
        if not settings.llm_url:
            raise ModelUnavailable("RAG_LLM_URL is not set")
        self.url = settings.llm_url.rstrip("/")
        self.model = settings.llm_remote_model
        self.name = f"openai-compatible:{self.model}"
        self.n_ctx = settings.llm_ctx
        self.max_tokens = min(settings.llm_max_tokens, self.n_ctx // 2)
        self.temperature = settings.llm_temperature
        self.timeout_s = settings.llm_timeout_s
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        self.client = httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {key}"} if key else {}, transport=transport,
            timeout=httpx.Timeout(self.timeout_s, connect=min(CONNECT_TIMEOUT_S, self.timeout_s)),
        )
        self.fallback = ExtractiveGenerator(settings.answer_max_chars)
        self.reachable()

    @classmethod
    def configured(cls, settings: Settings) -> bool:
        return bool(settings.llm_url)

    @classmethod
    def from_settings(cls, settings: Settings) -> "OpenAIRemoteGenerator":
        return cls(settings)

    def reachable(self) -> bool:
        """GET {url}/models answers; logged when it does not (answers are then extractive)."""
        try:
            self.client.get("/models", timeout=CONNECT_TIMEOUT_S).raise_for_status()
            return True
        except httpx.HTTPError as exc:
            log.warning("LLM server %s is not answering (%s): answers are extractive until it does", self.url, exc)
            return False

    def pack(self, query: AnalyzedQuery, passages: list[Passage],
             instructions: str | None = None) -> tuple[list[dict[str, str]], list[Passage]]:
        """Our rules and worked example (`rag.prompts.messages`), then the numbered passages and the question, within
        RAG_LLM_CTX less the answer's max_tokens; lowest-ranked passages are dropped whole.
        Without the server's tokenizer, a text's UTF-8 length in bytes stands for its token count:
        an upper bound, since every token of a byte-level BPE or byte-fallback SentencePiece
        vocabulary covers at least one byte."""
        first = _size(format_passage(1, passages[0]) + "\n\n") if passages else 0
        for example in (True, False):  # the worked example only when it leaves room for a passage
            base = chat_messages(query.lang, query.text, "", instructions, example)
            budget = self.n_ctx - self.max_tokens - sum(_size(m["content"]) for m in base) - TEMPLATE_OVERHEAD * len(base) // 2
            if budget >= first:
                break
        kept: list[Passage] = []
        blocks: list[str] = []
        for p in passages:
            block = format_passage(len(kept) + 1, p)
            budget -= _size(block + "\n\n")
            if budget < 0:
                break
            kept.append(p)
            blocks.append(block)
        return chat_messages(query.lang, query.text, "\n\n".join(blocks), instructions, example), kept

    def complete(self, messages: list[dict[str, str]], max_tokens: int = 96) -> str:
        """One short completion, not streamed (the follow-up condense step); raises RemoteUnavailable."""
        body = {"model": self.model, "messages": messages, "max_tokens": max_tokens, "temperature": 0.0}
        try:
            response = self.client.post("/chat/completions", json=body)
            response.raise_for_status()
            return response.json()["choices"][0]["message"].get("content") or ""
        except (httpx.HTTPError, ValueError, KeyError, IndexError) as exc:
            raise RemoteUnavailable(f"LLM server {self.url}: {exc}") from exc

    def _complete(self, messages: list[dict[str, str]], passages: list[Passage], cancel: Cancellation,
                  on_piece: Callable[[str], None]) -> Generation:
        """One streamed completion, in the worker thread: stops between events once ``cancel``
        or RAG_LLM_TIMEOUT_S is past, closing the connection (the server then stops generating)."""
        limit = Cancellation.after(self.timeout_s)
        body = {"model": self.model, "messages": messages, "max_tokens": self.max_tokens,
                "temperature": self.temperature, "stream": True}
        pieces: list[str] = []
        halted: Cancellation | None = None
        finish: str | None = None
        try:
            with self.client.stream("POST", "/chat/completions", json=body,
                                    headers={"Accept": "text/event-stream"}) as response:
                if response.status_code != 200:
                    raise RemoteUnavailable(f"LLM server {self.url} answered HTTP {response.status_code}: "
                                            f"{response.read().decode('utf-8', 'replace')[:300]}")
                for event in EventSource(response).iter_sse():
                    halted = halted or next((c for c in (cancel, limit) if c.stopped()), None)
                    if halted is not None or event.data.strip() == "[DONE]":
                        break
                    piece, finish = _delta(json.loads(event.data), finish)
                    if piece:
                        pieces.append(piece)
                        on_piece(piece)
                else:  # the server closed the stream without [DONE] (it failed mid-way, e.g. prompt too long)
                    if finish is None:
                        raise ValueError("the server ended the stream before the answer was finished")
        except httpx.TimeoutException as exc:
            halted = limit
            log.warning("LLM server %s: %s", self.url, exc)
        except (httpx.HTTPError, ValueError) as exc:
            if pieces:  # the answer broke off: there is no honest fallback for half an answer
                raise ModelUnavailable(f"LLM server {self.url} stopped mid-answer: {exc}") from exc
            what = "cannot be reached" if isinstance(exc, httpx.TransportError) else "failed"
            raise RemoteUnavailable(f"LLM server {self.url} {what}: {exc}") from exc
        if halted is not None:
            log.warning("remote generation stopped after %d pieces: %s", len(pieces),
                        halted.reason or "it ran past its deadline (RAG_LLM_TIMEOUT_S)")
            halted.raise_if_stopped()
        return Generation("".join(pieces).strip(), passages, "",
                          {"llm_url": self.url, "finish_reason": finish, "pieces": len(pieces)})

    def _fallback(self, query: AnalyzedQuery, passages: list[Passage], cancel: Cancellation,
                  exc: RemoteUnavailable) -> Generation:
        log.warning("%s; answering extractively", exc.message)
        generation = self.fallback.generate(query, passages, cancel)
        generation.answered_by = self.fallback.name
        generation.debug["fallback"] = exc.message
        return generation

    def generate(self, query: AnalyzedQuery, passages: list[Passage],
                 cancel: Cancellation | None = None, instructions: str | None = None) -> Generation:
        final: Generation | None = None
        for piece in self.stream(query, passages, cancel, instructions):
            if isinstance(piece, Generation):
                final = piece
        assert final is not None  # stream always ends with its Generation or raises
        return final

    def stream(self, query: AnalyzedQuery, passages: list[Passage],
               cancel: Cancellation | None = None, instructions: str | None = None) -> Iterator[str | Generation]:
        """Pieces as the server sends them, then the Generation; extractive (whole) when the
        server cannot be reached before the first piece."""
        cancel = cancel or never()
        messages, kept = self.pack(query, passages, instructions)
        pieces = stream_from_worker(lambda on_piece: self._complete(messages, kept, cancel, on_piece),
                                    cancel, "remote-generation")
        try:
            yield from pieces
        except RemoteUnavailable as exc:
            yield from self._fallback_stream(query, passages, cancel, exc)

    def _fallback_stream(self, query: AnalyzedQuery, passages: list[Passage], cancel: Cancellation,
                        exc: RemoteUnavailable) -> Iterator[str | Generation]:
        generation = self._fallback(query, passages, cancel, exc)
        if generation.preamble:
            yield generation.preamble + "\n"
        yield generation.text
        yield generation


def _delta(chunk: dict[str, Any], finish: str | None) -> tuple[str, str | None]:
    """(text, finish reason) of one chat.completion.chunk; an error event raises ValueError."""
    if "error" in chunk:
        raise ValueError(f"the server reported an error: {chunk['error']}")
    choices = chunk.get("choices") or [{}]
    delta = choices[0].get("delta") or {}
    return delta.get("content") or "", choices[0].get("finish_reason") or finish


def _size(text: str) -> int:
    return len(text.encode("utf-8"))
