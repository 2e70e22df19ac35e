"""Generative answers with llama.cpp over a GGUF model, streamed, within the context window.

The model is ``RAG_LLM_MODEL`` (a path or a hub file), else the packaged Qwen2.5-Coder-1.5B-
Instruct once `rag models build llm` has assembled it (`rag.generators.packaged_llm`).

Speed: every chat starts with the same messages for its language (rules and worked example,
`rag.prompts.messages`), so consecutive questions share that prefix; llama-cpp-python keeps the
evaluated tokens of the last prompt and only evaluates what differs, and a ``LlamaRAMCache``
holds the state of earlier prompts so that a question in the other language also starts from
its evaluated prefix instead of token 0.
"""
from __future__ import annotations

import logging
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from rag.errors import ModelUnavailable
from rag.generators.base import Cancellation, Generation, never
from rag.generators.worker import stream_from_worker
from rag.generators.excerpts import excerpts
from rag.generators import packaged_llm
from rag.prompts import format_passage, is_refusal, messages as chat_messages
from rag.language.query import AnalyzedQuery
from rag.settings import Settings
from rag.types import Passage

log = logging.getLogger(__name__)
TEMPLATE_OVERHEAD_TOKENS = 32  # role markers the chat template adds around the two messages
LOCK_POLL_S = 0.05  # how often a generation waiting for the model checks whether it is still wanted
STATE_CACHE_BYTES = 256 << 20  # LlamaRAMCache: a few prompt states (about 28 KB per token for the 1.5B model)


def resolve_model_path(spec: str) -> Path:
    """A local GGUF path, or 'owner/repo/file.gguf' fetched from the hub (when online)."""
    path = Path(spec).expanduser()
    if path.is_file():
        return path
    parts = spec.split("/")
    if len(parts) < 3 or not spec.endswith(".gguf"):
        raise ModelUnavailable(f"LLM model {spec!r} is neither a GGUF file nor 'owner/repo/file.gguf'")
    from huggingface_hub import hf_hub_download

    from rag.hub import hub_reachable

    repo, filename = "/".join(parts[:2]), "/".join(parts[2:])
    try:
        return Path(hf_hub_download(repo, filename, local_files_only=not hub_reachable()))
    except Exception as exc:
        raise ModelUnavailable(f"LLM model {spec!r} is not available: {exc}") from exc


def _model_file(settings: Settings) -> Path:
    """RAG_LLM_MODEL when set, else the packaged model when built; ModelUnavailable saying how
    to get one otherwise."""
    if settings.llm_model:
        return resolve_model_path(str(settings.llm_model))
    if packaged_llm.is_built(settings.model_cache_dir):
        return packaged_llm.model_path(settings.model_cache_dir)
    raise ModelUnavailable("no LLM: set RAG_LLM_MODEL to a GGUF file, or build the packaged one with "
                           "`rag models build llm` (it needs the 'llm' extra: pip install -e '.[llm]')")


def _perf_reset(llm: Any) -> None:
    import llama_cpp

    llama_cpp.llama_perf_context_reset(llm._ctx.ctx)


def _perf(llm: Any) -> dict[str, float]:
    """llama.cpp's own counters since the last reset: prompt tokens it evaluated (the reused
    prefix not counted) and tokens it generated, with their times and rates."""
    import llama_cpp

    d = llama_cpp.llama_perf_context(llm._ctx.ctx)
    out = {"prompt_tokens": int(d.n_p_eval), "prompt_ms": round(d.t_p_eval_ms, 1),
           "generated_tokens": int(d.n_eval), "generation_ms": round(d.t_eval_ms, 1)}
    out["prompt_tokens_per_s"] = round(d.n_p_eval / d.t_p_eval_ms * 1000, 1) if d.t_p_eval_ms > 0 else None
    out["generation_tokens_per_s"] = round(d.n_eval / d.t_eval_ms * 1000, 2) if d.t_eval_ms > 0 else None
    return out


class LlamaCppGenerator:
    follows_instructions = True  # a client's system message is passed on (see ``pack``)

    @classmethod
    def configured(cls, settings: Settings) -> bool:
        """``auto`` takes llama.cpp for RAG_LLM_MODEL, or for the packaged model once it is built
        (unless RAG_LLM_PACKAGED=false)."""
        return bool(settings.llm_model) or (settings.llm_packaged and packaged_llm.is_built(settings.model_cache_dir))

    @classmethod
    def from_settings(cls, settings: Settings) -> "LlamaCppGenerator":
        return cls(settings)

    def __init__(self, settings: Settings, model_path: Path | None = None) -> None:
        from llama_cpp import Llama

        self.path = model_path or _model_file(settings)
        try:
            self.llm = Llama(model_path=str(self.path), n_ctx=settings.llm_ctx, n_threads=settings.llm_threads or os.cpu_count(),
                             verbose=False)
        except Exception as exc:
            raise ModelUnavailable(f"LLM {self.path} did not load: {exc}") from exc
        from llama_cpp import LlamaRAMCache

        self.llm.set_cache(LlamaRAMCache(capacity_bytes=STATE_CACHE_BYTES))
        self.chat_template = self._choose_chat_template(settings.llm_chat_format)
        self.name = f"llama.cpp:{self.path.name}"
        self.n_ctx = int(self.llm.n_ctx())
        self.max_tokens = min(settings.llm_max_tokens, self.n_ctx // 2)
        self.temperature = settings.llm_temperature
        self.timeout_s = settings.llm_timeout_s
        # One llama.cpp context serves one generation at a time; concurrent calls would corrupt it.
        self._lock = threading.Lock()

    def _choose_chat_template(self, fallback: str) -> str:
        """The GGUF's own chat template when it has one; else the named fallback format. Without
        this, llama-cpp-python silently formats a template-less model's chat as Llama-2's."""
        from llama_cpp import llama_chat_format

        if self.llm.metadata.get("tokenizer.chat_template"):
            self.llm.chat_format = "chat_template.default"  # what llama-cpp-python registered from the GGUF
            log.info("LLM %s: chat template from the GGUF", self.path.name)
            return "gguf"
        try:
            llama_chat_format.get_chat_completion_handler(fallback)
        except Exception as exc:
            raise ModelUnavailable(f"RAG_LLM_CHAT_FORMAT={fallback!r} is not a llama-cpp-python chat format "
                                   f"({exc}); {self.path.name} has no chat template of its own") from exc
        self.llm.chat_format = fallback
        self.llm.chat_handler = None
        log.warning("LLM %s has no chat template: using the fallback chat format %r (RAG_LLM_CHAT_FORMAT)",
                    self.path.name, fallback)
        return fallback

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def complete(self, messages: list[dict[str, str]], max_tokens: int = 96) -> str:
        """One short chat completion in the model's chat template (the follow-up condense step)."""
        with self._lock:
            out = self.llm.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=0.0)
        return out["choices"][0]["message"].get("content") or ""

    def pack(self, query: AnalyzedQuery, passages: list[Passage], instructions: str | None = None,
             ) -> tuple[list[dict[str, str]], list[Passage], dict[str, Any]]:
        """Messages that fit n_ctx with the answer budget: the fixed rules and worked example, then
        the reader's sentences with their context from each passage it chose from
        (`rag.generators.excerpts`), renumbered 1..m in rank order; lowest-ranked excerpts are
        dropped whole. ``info["dropped"]``: every passage not given, in rank order, with why. A client's ``instructions`` (its system message) follow the rules, which
        they cannot change."""
        chosen = excerpts(query, passages)
        first_cost = self.count_tokens(format_passage(1, *chosen[0]) + "\n\n") if chosen else 0
        for example in (True, False):  # the worked example only when it leaves room for an excerpt
            base = chat_messages(query.lang, query.text, "", instructions, example)
            fixed = sum(self.count_tokens(m["content"]) for m in base) + TEMPLATE_OVERHEAD_TOKENS * len(base) // 2
            budget = self.n_ctx - self.max_tokens - fixed
            if budget >= first_cost:
                break
        if budget < 0:
            raise ModelUnavailable(f"RAG_LLM_CTX={self.n_ctx} cannot hold the rules ({fixed} tokens) and an answer of "
                                   f"{self.max_tokens} tokens: raise RAG_LLM_CTX or lower RAG_LLM_MAX_TOKENS")
        kept: list[Passage] = []
        blocks: list[str] = []
        used = 0
        for p, text in chosen:
            block = format_passage(len(kept) + 1, p, text)
            cost = self.count_tokens(block + "\n\n")
            if used + cost > budget:
                break
            kept.append(p)
            blocks.append(block)
            used += cost
        excerpted = {id(p) for p, _ in chosen}
        kept_ids = {id(p) for p in kept}
        dropped = [{"doc": p.chunk.doc, "start": p.chunk.start, "end": p.chunk.end,
                    "why": "no room" if id(p) in excerpted else "no sentence chosen"}
                   for p in passages if id(p) not in kept_ids]
        messages = chat_messages(query.lang, query.text, "\n\n".join(blocks), instructions, example)
        info = {"chat_template": self.chat_template, "worked_example": example, "prompt_tokens_budget": budget + fixed, "prompt_tokens": used + fixed,
                "n_ctx": self.n_ctx, "max_tokens": self.max_tokens, "dropped": dropped,
                "excerpted_chars": sum(len(t) for _, t in chosen[:len(kept)]),
                "passage_chars": sum(len(p.chunk.text) for p in kept)}
        return messages, kept, info

    @contextmanager
    def _model(self, cancel: Cancellation) -> Iterator[None]:
        """Hold the model lock; waiting for it ends as soon as ``cancel`` is stopped."""
        while not self._lock.acquire(timeout=LOCK_POLL_S):
            cancel.raise_if_stopped("waiting for the model")
        try:
            yield
        finally:
            self._lock.release()

    def _complete(self, query: AnalyzedQuery, passages: list[Passage], cancel: Cancellation,
                  on_piece: Callable[[str], None] | None, instructions: str | None = None) -> Generation:
        """One generation under the lock, in the calling thread, which never suspends: it ends
        done, cancelled or at the deadline (both checked before every token by a logits
        processor, which then allows only end-of-text, and between streamed pieces), and the
        lock is released in this frame's ``finally``. Prompt evaluation itself cannot be
        interrupted; the check runs again right after it."""
        import numpy as np
        from llama_cpp import LogitsProcessorList

        halted: Cancellation | None = None  # the check that stopped the generation
        with self._model(cancel):
            limit = Cancellation.after(self.timeout_s)  # measured from when the model is ours
            messages, kept, info = self.pack(query, passages, instructions)
            pieces: list[str] = []
            tokens = 0
            eos = self.llm.token_eos()

            def end_when_stopped(_ids: Any, scores: Any) -> Any:
                """Runs before every sampled token, even those that yield no text yet (a
                multi-byte character in progress): once stopped, only end-of-text can follow."""
                nonlocal halted, tokens
                tokens += 1
                halted = halted or next((c for c in (cancel, limit) if c.stopped()), None)
                if halted is not None:
                    scores[:] = -np.inf
                    scores[eos] = 0.0
                return scores

            _perf_reset(self.llm)
            chunks = self.llm.create_chat_completion(messages=messages, max_tokens=self.max_tokens,
                                                     temperature=self.temperature, stream=True,
                                                     logits_processor=LogitsProcessorList([end_when_stopped]))
            try:
                for chunk in chunks:
                    halted = halted or next((c for c in (cancel, limit) if c.stopped()), None)
                    if halted is not None:
                        break
                    piece = chunk["choices"][0].get("delta", {}).get("content")
                    if piece:
                        pieces.append(piece)
                        if on_piece is not None:
                            on_piece(piece)
            finally:
                chunks.close()  # llama.cpp stops here; its state is reset by the next call
            # The prompt as the chat template rendered it, counted by llama.cpp: the tokens in
            # the context less those it sampled.
            info["prompt_tokens_used"] = max(int(self.llm.n_tokens) - tokens, 0)
            info["llama_perf"] = _perf(self.llm)
        if halted is not None:
            log.warning("generation stopped after %d tokens: %s; the model is free", tokens,
                        halted.reason or "it ran past its deadline (RAG_LLM_TIMEOUT_S)")
            halted.raise_if_stopped()
        info["completion_tokens"] = tokens
        text = "".join(pieces).strip()
        if is_refusal(text):
            # The model found no answer in the passages: the pipeline answers with a refusal
            # (the line has no citation, and is not a draft to replace with quotes).
            info["model_refused"] = True
        return Generation(text, kept, "", info)

    def generate(self, query: AnalyzedQuery, passages: list[Passage],
                 cancel: Cancellation | None = None, instructions: str | None = None) -> Generation:
        return self._complete(query, passages, cancel or never(), None, instructions)

    def stream(self, query: AnalyzedQuery, passages: list[Passage],
               cancel: Cancellation | None = None, instructions: str | None = None) -> Iterator[str | Generation]:
        """Pieces from a worker thread that owns the generation (and the lock); this iterator
        only reads them, so a consumer that stops reading, closes it or forgets it never keeps
        the model: closing cancels, and a forgotten one ends at the deadline or max_tokens."""
        cancel = cancel or never()
        return stream_from_worker(lambda on_piece: self._complete(query, passages, cancel, on_piece, instructions),
                                  cancel, "llama-generation")
