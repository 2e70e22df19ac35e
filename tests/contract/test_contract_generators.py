"""Contract test of the generator registry: one test body run over every registered generator
(extractive; llama.cpp on the tiny GGUF; the remote OpenAI-compatible one against
llama-cpp-python's own server on 127.0.0.1). A new generator is one module and one registry
line, and must pass these unchanged."""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest
from pydantic import SecretStr

from rag.errors import GenerationCancelled, GenerationTimeout
from rag.generators.base import Cancellation, Generation, Generator
from rag.generators.registry import GENERATORS, generator_name
from rag.language.query import AnalyzedQuery
from rag.settings import Settings
from rag.types import Passage
from rag.wiring import Wiring
from tests.llm_server import API_KEY, LlamaServer, run_llama_server
from tests.tinymodels import build_tiny_gguf

pytestmark = pytest.mark.slow
QUESTION = "YOLO는 객체를 어떻게 탐지해?"
MODEL_BACKED = ["llamacpp", "openai"]  # they run long enough to be stopped in the middle
FREE_BOUND_S = 60.0  # generous: tells "the generator is free again" from "it hangs"
assert set(GENERATORS) == {"extractive", *MODEL_BACKED}, "a new generator: add it to these parameters"


@pytest.fixture(scope="module")
def gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_gguf(tmp_path_factory.mktemp("contract-gguf") / "tiny.gguf", seed=2)


@pytest.fixture(scope="module")
def llama_server(gguf: Path) -> Iterator[LlamaServer]:
    with run_llama_server(gguf) as server:
        yield server


@pytest.fixture(scope="module")
def settings_for(notes_settings: Settings, gguf: Path, llama_server: LlamaServer) -> Callable[..., Settings]:
    def make(name: str, **update: object) -> Settings:
        values: dict[str, object] = {"llm_ctx": 2048, "llm_max_tokens": 48, "llm_threads": 1, "llm_temperature": 0.0}
        if name == "llamacpp":
            values["llm_model"] = str(gguf)
        elif name == "openai":
            values.update(llm_url=llama_server.url, llm_api_key=SecretStr(API_KEY))
        return notes_settings.model_copy(update={**values, **update})

    return make


@pytest.fixture(scope="module")
def question(notes_settings: Settings) -> tuple[AnalyzedQuery, list[Passage]]:
    result = Wiring(notes_settings).searcher.run(QUESTION, k=2)
    assert len(result.passages) == 2
    return result.query, result.passages


@pytest.fixture(scope="module", params=list(GENERATORS))
def generator(request: pytest.FixtureRequest, settings_for: Callable[..., Settings]) -> Generator:
    settings = settings_for(request.param)
    assert generator_name(settings) == request.param  # RAG_GENERATOR=auto picks it from its settings
    return Wiring(settings).generator


def test_generate_returns_an_answer_over_the_given_passages(generator: Generator, question) -> None:  # noqa: ANN001
    query, passages = question
    out = generator.generate(query, passages)
    assert isinstance(out, Generation) and isinstance(out.text, str) and out.text
    assert out.passages and all(p in passages for p in out.passages)
    assert "fallback" not in out.debug and out.answered_by is None  # it answered itself


def test_stream_yields_text_pieces_then_the_generation_they_make(generator: Generator, question) -> None:  # noqa: ANN001
    query, passages = question
    events = list(generator.stream(query, passages))
    pieces, final = events[:-1], events[-1]
    assert isinstance(final, Generation) and pieces and all(isinstance(p, str) for p in pieces)
    assert "".join(pieces).strip() == final.text


@pytest.mark.parametrize("stop, error", [(lambda c: c.cancel(), GenerationCancelled),
                                          (lambda c: setattr(c, "deadline", time.monotonic() - 1), GenerationTimeout)])
def test_a_stopped_cancellation_stops_generate_and_stream(generator: Generator, question, stop, error) -> None:  # noqa: ANN001
    query, passages = question
    for call in (lambda c: generator.generate(query, passages, c), lambda c: list(generator.stream(query, passages, c))):
        cancel = Cancellation()
        stop(cancel)
        with pytest.raises(error):
            call(cancel)


def test_a_reader_that_stops_reading_leaves_the_generator_free(generator: Generator, question) -> None:  # noqa: ANN001
    query, passages = question
    abandoned = generator.stream(query, passages, Cancellation())
    assert isinstance(next(abandoned), str)  # then never read again, never closed, still referenced
    done = threading.Event()
    threading.Thread(target=lambda: (generator.generate(query, passages), done.set()), daemon=True).start()
    assert done.wait(FREE_BOUND_S), "a suspended stream kept the generator"
    assert abandoned is not None


@pytest.mark.parametrize("name", MODEL_BACKED)
def test_a_long_generation_is_stopped_in_the_middle(name: str, settings_for: Callable[..., Settings],
                                                    question) -> None:  # noqa: ANN001
    """Cancelled from another thread (the client went away), or past RAG_LLM_TIMEOUT_S: the
    call raises long before the 240 tokens it would take, and the generator is free after."""
    query, passages = question
    generator = Wiring(settings_for(name, llm_max_tokens=240)).generator
    t = time.monotonic()
    generator.generate(query, passages)
    full_s = time.monotonic() - t
    cancel = Cancellation()
    threading.Timer(full_s / 4, cancel.cancel).start()
    t = time.monotonic()
    with pytest.raises(GenerationCancelled):
        list(generator.stream(query, passages, cancel))
    assert time.monotonic() - t < full_s * 0.75, (full_s, time.monotonic() - t)
    timed = Wiring(settings_for(name, llm_max_tokens=240, llm_timeout_s=full_s / 4)).generator
    with pytest.raises(GenerationTimeout, match="RAG_LLM_TIMEOUT_S"):
        timed.generate(query, passages)
    assert generator.generate(query, passages).text  # free again
