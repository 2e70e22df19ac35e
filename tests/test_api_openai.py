"""The OpenAI-compatible routes, driven by the official ``openai`` Python client over HTTP."""
from __future__ import annotations

import json
import re
from typing import Iterator

import httpx
import openai
import pytest

from tests.server import Server, assert_error, build_index, run_server

MODEL = "study-notes-rag"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    settings = build_index(tmp_path_factory.mktemp("openai"))
    with run_server(settings) as srv:
        yield srv


@pytest.fixture(scope="module")
def client(server: Server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="not-needed", max_retries=0, timeout=60)


def sources_of(obj: object) -> list[dict]:
    extra = getattr(obj, "model_extra", None) or {}
    return extra.get("sources") or []


def test_models_lists_the_service(client: openai.OpenAI) -> None:
    ids = [m.id for m in client.models.list()]
    assert ids == [MODEL]


def test_chat_completion_answers_the_last_user_message_with_sources(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(model=MODEL, messages=[
        {"role": "system", "content": "You are a helpful tutor."},
        {"role": "user", "content": "What is YOLO?"},
        {"role": "assistant", "content": "An object detector."},
        {"role": "user", "content": "BERT는 어디서 언제 발표한 모델이에요?"},
    ])
    assert completion.object == "chat.completion" and completion.model == MODEL and completion.id
    choice = completion.choices[0]
    assert choice.message.role == "assistant" and choice.finish_reason == "stop"
    text = choice.message.content or ""
    assert "2018" in text and "구글" in text
    numbers = {int(n) for n in re.findall(r"\[(\d+)\]", text)}
    sources = sources_of(completion)
    assert numbers and numbers == {s["n"] for s in sources}
    assert all(s["doc"] and s["quote"] for s in sources)
    assert "Sources:" in text
    assert completion.usage is not None and completion.usage.total_tokens > 0


def test_chat_completion_stream(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(model=MODEL, stream=True,
                                            messages=[{"role": "user", "content": "What is BERT?"}])
    chunks = list(stream)
    assert len(chunks) > 3
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])
    sources = sources_of(last)
    assert sources and {s["n"] for s in sources} == {int(n) for n in re.findall(r"\[(\d+)\]", text)}
    plain = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "What is BERT?"}])
    squash = lambda s: re.sub(r"\s+", " ", s).strip()  # noqa: E731
    assert squash(text) == squash(plain.choices[0].message.content or "")


def test_chat_completion_refusal_has_no_sources(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "How do I bake sourdough bread?"}])
    assert (completion.model_extra or {}).get("refused") is True and sources_of(completion) == []
    assert "notes do not cover" in (completion.choices[0].message.content or "")


def test_chat_completion_accepts_content_parts(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": [{"type": "text", "text": "What is BERT?"}]}])
    assert sources_of(completion)


def test_chat_completion_errors(client: openai.OpenAI, server: Server) -> None:
    with pytest.raises(openai.UnprocessableEntityError) as info:
        client.chat.completions.create(model=MODEL, messages=[{"role": "system", "content": "no user"}])
    assert "messages" in str(info.value)
    with pytest.raises(openai.UnprocessableEntityError):
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "  "}])
    with pytest.raises(openai.UnprocessableEntityError):
        client.chat.completions.create(model=MODEL, messages=[])
    r = httpx.post(server.url + "/v1/chat/completions", json={"messages": [{"role": "user", "content": "x" * 5000}]})
    assert_error(r, 422, "validation_error", mentions="2000")


def test_stream_framing_ends_with_done(server: Server) -> None:
    body = httpx.post(server.url + "/v1/chat/completions", timeout=60,
                      json={"stream": True, "messages": [{"role": "user", "content": "What is BERT?"}]}).text
    frames = [f for f in body.split("\n\n") if f]
    assert all(f.startswith("data: ") for f in frames) and frames[-1] == "data: [DONE]"
    last = json.loads(frames[-2][len("data: "):])
    assert last["choices"][0]["finish_reason"] == "stop" and last["sources"]
