"""The OpenAI stream serves only verified text (issue 29): with a real llama.cpp model (a tiny
random GGUF the test writes, whose drafts the notes never support), ``stream: true`` sends the
same content as the non-streaming route, never the model's unsupported draft, and its final
chunk says what was served."""
from __future__ import annotations

import json
from typing import Iterator

import httpx
import pytest

from tests.server import Server, build_index, run_server
from tests.tinymodels import build_tiny_gguf

pytestmark = pytest.mark.slow
QUESTION = "GAN의 판별자는 무슨 일을 해?"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    pytest.importorskip("llama_cpp")
    root = tmp_path_factory.mktemp("llm-stream")
    gguf = build_tiny_gguf(root / "tiny.gguf", seed=7)
    env = {"RAG_LLM_MODEL": str(gguf), "RAG_LLM_CTX": "1024", "RAG_LLM_MAX_TOKENS": "24", "RAG_LLM_THREADS": "1",
           "RAG_LLM_TEMPERATURE": "0"}
    with run_server(build_index(root), env=env) as srv:
        yield srv


def _chunks(body: str) -> list[dict]:
    frames = [f.removeprefix("data: ") for f in body.split("\n\n") if f.startswith("data: ")]
    assert frames[-1] == "[DONE]", frames[-3:]
    return [json.loads(f) for f in frames[:-1]]


def test_the_stream_sends_what_the_plain_route_returns_and_says_what_was_served(server: Server) -> None:
    messages = [{"role": "user", "content": QUESTION}]
    plain = httpx.post(server.url + "/v1/chat/completions", json={"messages": messages}, timeout=180).json()
    r = httpx.post(server.url + "/v1/chat/completions", json={"messages": messages, "stream": True}, timeout=180)
    assert r.status_code == 200, r.text
    chunks = _chunks(r.text)
    streamed = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    final = next(c for c in chunks if c["choices"] and c["choices"][0]["finish_reason"])
    assert plain["refused"] is False, plain
    # the random model's draft is unsupported: both routes serve the notes, quoted, and say so
    assert plain["answered_by"] == "extractive" and plain["fallback"], plain
    assert streamed == plain["choices"][0]["message"]["content"]
    assert final["answered_by"] == "extractive" and final["fallback"] == plain["fallback"]
    assert [s["quote"] for s in final["sources"]] == [s["quote"] for s in plain["sources"]]
    assert all(s["supported"] for s in final["sources"])
    assert final is chunks[-1] or not chunks[-1]["choices"]  # nothing is sent after the final chunk
