"""The OpenAI-compatible routes, driven by the official ``openai`` Python client over HTTP."""
from __future__ import annotations

import json
import re

import httpx
import openai
import pytest

from tests.server import Server, assert_error

MODEL = "study-notes-rag"


@pytest.fixture(scope="module")
def client(server: Server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="not-needed", max_retries=0, timeout=60)


def sources_of(obj: object) -> list[dict]:
    extra = getattr(obj, "model_extra", None) or {}
    return extra.get("sources") or []


def test_models_lists_the_service(client: openai.OpenAI) -> None:
    ids = [m.id for m in client.models.list()]
    assert ids == [MODEL]
    model = client.models.retrieve(MODEL)
    assert model.id == MODEL and model.object == "model" and model.owned_by and model.created > 0
    with pytest.raises(openai.NotFoundError) as info:
        client.models.retrieve("gpt-4o")
    assert info.value.body["type"] == "invalid_request_error" and info.value.body["code"] == "model_not_found"


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


def _kiwi_tokens(text: str) -> int:
    from rag.language.korean import morpheme_count

    return morpheme_count(text)


def test_max_tokens_cuts_at_a_sentence_boundary(client: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": "GAN이 뭐야?"}]
    full = client.chat.completions.create(model=MODEL, messages=messages)
    full_text = full.choices[0].message.content or ""
    assert full.choices[0].finish_reason == "stop"
    assert full.usage is not None and full.usage.completion_tokens == _kiwi_tokens(full_text)
    body = full_text.split("\n\nSources:")[0]
    for limit in (full.usage.completion_tokens - 1, full.usage.completion_tokens // 2):
        cut = client.chat.completions.create(model=MODEL, messages=messages, max_tokens=limit)
        text = cut.choices[0].message.content or ""
        assert cut.choices[0].finish_reason == "length", limit
        assert cut.usage is not None and cut.usage.completion_tokens == _kiwi_tokens(text) <= limit
        answer = text.split("\n\nSources:")[0]
        assert body.startswith(answer) and answer.rstrip().endswith(("다.", "]")), answer  # whole sentences
        cited = {int(n) for n in re.findall(r"\[(\d+)\]", answer)}
        assert {s["n"] for s in sources_of(cut)} == cited  # sources only for what is left
    # not even the first sentence fits: its first words, without sources
    tiny = client.chat.completions.create(model=MODEL, messages=messages, max_tokens=8)
    text = tiny.choices[0].message.content or ""
    assert tiny.choices[0].finish_reason == "length" and 0 < tiny.usage.completion_tokens <= 8  # type: ignore[union-attr]
    assert body.startswith(text) and not sources_of(tiny)
    roomy = client.chat.completions.create(model=MODEL, messages=messages, max_completion_tokens=5000)
    assert roomy.choices[0].finish_reason == "stop" and roomy.choices[0].message.content == full_text


def test_stop_ends_the_answer_before_the_sequence(client: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": "GAN이 뭐야?"}]
    full = (client.chat.completions.create(model=MODEL, messages=messages).choices[0].message.content or "")
    cut = client.chat.completions.create(model=MODEL, messages=messages, stop=["Discriminator", "zzz"])
    text = cut.choices[0].message.content or ""
    assert cut.choices[0].finish_reason == "stop" and "Discriminator" not in text.split("\n\nSources:")[0]
    assert full.startswith(text.split("\n\nSources:")[0])


def test_stream_with_usage_and_max_tokens(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(model=MODEL, stream=True, stream_options={"include_usage": True},
                                            max_tokens=60, messages=[{"role": "user", "content": "GAN이 뭐야?"}])
    chunks = list(stream)
    usage = chunks[-1].usage
    assert chunks[-1].choices == [] and usage is not None
    assert all(c.usage is None for c in chunks[:-1])
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert chunks[-2].choices[0].finish_reason == "length"
    assert usage.completion_tokens == _kiwi_tokens(text) <= 60 and "Sources:" in text


def test_a_follow_up_uses_the_conversation(client: openai.OpenAI) -> None:
    alone = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "How was it pre-trained?"}])
    assert (alone.model_extra or {}).get("understood_as") is None
    first = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "What is BERT?"}])
    follow = client.chat.completions.create(model=MODEL, messages=[
        {"role": "system", "content": "Answer in English."},
        {"role": "user", "content": "What is BERT?"},
        {"role": "assistant", "content": first.choices[0].message.content or ""},
        {"role": "user", "content": "How was it pre-trained?"},
    ])
    assert (follow.model_extra or {}).get("understood_as") == "How was BERT pre-trained?"
    text = follow.choices[0].message.content or ""
    assert "BERT" in text.split("\n\nSources:")[0] and "MLM" in text
    assert "GPT" not in text.split("\n\nSources:")[0].split("[1]")[0]  # not the GPT-3 sentence it gave alone
    assert all(s["title"] for s in sources_of(follow))


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
    with pytest.raises(openai.UnprocessableEntityError) as info:
        client.chat.completions.create(model=MODEL, n=2, messages=[{"role": "user", "content": "What is BERT?"}])
    assert info.value.body["param"] == "n" and "n=1" in info.value.body["message"]
    assert info.value.body["type"] == "invalid_request_error"
    with pytest.raises(openai.UnprocessableEntityError) as info:
        client.chat.completions.create(model=MODEL, stream_options={"include_usage": True},
                                       messages=[{"role": "user", "content": "What is BERT?"}])
    assert info.value.body["param"] == "stream_options"


@pytest.mark.parametrize(("extra", "param"), [
    ({"k": True}, "k"), ({"max_tokens": "5"}, "max_tokens"), ({"max_tokens": 0}, "max_tokens"),
    ({"stream": "yes"}, "stream"), ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
    ({"messages": [{"role": "user", "content": [{"type": "text", "text": None}]}]}, "messages.0.content"),
    ({"messages": [{"role": "user", "content": [{"type": "text", "text": {"a": 1}}]}]}, "messages.0.content"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]},
     "messages.0.content"),
    ({"messages": [{"role": "user", "content": ["What is BERT?"]}]}, "messages.0.content"),
    ({"messages": [{"role": "wizard", "content": "What is BERT?"}]}, "messages.0.role"),
])
def test_invalid_fields_are_422s_in_openais_shape(server: Server, extra: dict, param: str) -> None:
    body = {"model": MODEL, "messages": [{"role": "user", "content": "What is BERT?"}], **extra}
    r = httpx.post(server.url + "/v1/chat/completions", json=body, timeout=60)
    error = assert_error(r, 422, "validation_error")
    assert error["param"] == param and error["type"] == "invalid_request_error", error


def test_stream_framing_ends_with_done(server: Server) -> None:
    body = httpx.post(server.url + "/v1/chat/completions", timeout=60,
                      json={"stream": True, "messages": [{"role": "user", "content": "What is BERT?"}]}).text
    frames = [f for f in body.split("\n\n") if f]
    assert all(f.startswith("data: ") for f in frames) and frames[-1] == "data: [DONE]"
    last = json.loads(frames[-2][len("data: "):])
    assert last["choices"][0]["finish_reason"] == "stop" and last["sources"]
