"""The remote OpenAI-compatible generator against a real server: llama-cpp-python's own
``llama_cpp.server`` on 127.0.0.1 over the tiny GGUF (with an API key), chosen by RAG_LLM_URL
through the wiring, its answers verified like llama.cpp's; an unreachable server or a refused
key means extractive answers that say so. (Cancellation and streaming: tests/contract/test_contract_generators.py.)"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterator

import pytest
from pydantic import SecretStr

from rag.generators.extractive import ExtractiveGenerator
from rag.generators.openai_remote import OpenAIRemoteGenerator
from rag.settings import Settings
from rag.wiring import Wiring
from tests.llm_server import API_KEY, LlamaServer, run_llama_server
from tests.server import drafted_by, free_port
from tests.tinymodels import build_tiny_gguf

pytestmark = pytest.mark.slow
QUESTION = "YOLO는 객체를 어떻게 탐지해?"


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    gguf = build_tiny_gguf(tmp_path_factory.mktemp("remote-gguf") / "tiny.gguf", seed=2)
    with run_llama_server(gguf) as server:
        yield server


def remote(settings: Settings, url: str, key: str = API_KEY) -> Settings:
    return settings.model_copy(update={"llm_url": url, "llm_api_key": SecretStr(key), "llm_max_tokens": 24, "llm_ctx": 2048,
                                       "llm_temperature": 0.0, "refusal_threshold": 0.0})


def test_rag_llm_url_wires_the_remote_generator_and_its_answers_are_verified(
        notes_settings: Settings, llama_server: LlamaServer) -> None:
    wired = Wiring(remote(notes_settings, llama_server.url))
    assert isinstance(wired.generator, OpenAIRemoteGenerator)
    answer = wired.pipeline.run(QUESTION)
    assert drafted_by(answer.generator, answer.debug) == "openai-compatible:default"
    assert "cannot be reached" not in answer.debug.get("fallback", "") and answer.debug["llm_url"] == llama_server.url
    assert answer.debug["finish_reason"] == "length" and answer.debug["pieces"] > 0
    for c in answer.citations:  # whatever the random model cited survived verification
        assert c.supported
    events = list(wired.pipeline.stream(QUESTION))
    final = events[-1].data
    assert events[-1].kind == "answer" and drafted_by(final.generator, final.debug) == "openai-compatible:default"
    assert len(events) > 2 and all(e.kind == "token" and isinstance(e.data, str) for e in events[:-1])


def test_the_condense_step_of_a_follow_up_runs_on_the_server(notes_settings: Settings,
                                                              llama_server: LlamaServer) -> None:
    generator = OpenAIRemoteGenerator(remote(notes_settings, llama_server.url))
    text = generator.complete([{"role": "user", "content": "hello"}], max_tokens=8)
    assert isinstance(text, str) and text  # the tiny model never stops before max_tokens


def test_a_refused_api_key_falls_back_to_extractive_answers_saying_why(
        notes_settings: Settings, llama_server: LlamaServer, caplog: pytest.LogCaptureFixture) -> None:
    wired = Wiring(remote(notes_settings, llama_server.url, key="wrong-key"))
    with caplog.at_level(logging.WARNING):
        answer = wired.pipeline.run(QUESTION)
    assert answer.generator == ExtractiveGenerator.name and not answer.refused and answer.citations
    assert "HTTP 401" in answer.debug["fallback"] and "answering extractively" in caplog.text


def test_an_unreachable_server_means_extractive_answers_that_say_so(
        notes_settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    with caplog.at_level(logging.WARNING):
        wired = Wiring(remote(notes_settings, url))
        assert isinstance(wired.generator, OpenAIRemoteGenerator)  # kept: the server may come up later
        assert f"LLM server {url} is not answering" in caplog.text
        answer = wired.pipeline.run(QUESTION)
        streamed = list(wired.pipeline.stream(QUESTION))
    assert answer.generator == "extractive" and answer.citations and "cannot be reached" in answer.debug["fallback"]
    assert streamed[-1].data.generator == "extractive" and streamed[-1].data.answer == answer.answer


def test_a_server_that_comes_up_later_is_used_then(notes_settings: Settings, tmp_path: Path) -> None:
    gguf = build_tiny_gguf(tmp_path / "tiny.gguf", seed=2)
    port = free_port()
    generator = Wiring(remote(notes_settings, f"http://127.0.0.1:{port}/v1")).generator
    assert not generator.reachable()
    with run_llama_server(gguf, port=port) as server:
        assert server.url == generator.url and generator.reachable()


def test_a_stream_the_server_breaks_off_is_not_taken_for_an_empty_answer(
        notes_settings: Settings, llama_server: LlamaServer) -> None:
    """RAG_LLM_CTX larger than the server's context: llama_cpp.server fails after the headers
    and closes the stream without [DONE]; that is a failure (extractive answer), not an empty
    answer refused as unsupported."""
    settings = remote(notes_settings, llama_server.url).model_copy(update={"llm_ctx": 16384})
    answer = Wiring(settings).pipeline.run(QUESTION)
    assert answer.generator == "extractive" and not answer.refused
    assert "ended the stream before the answer was finished" in answer.debug["fallback"]
