"""The API with the llama.cpp generator (a tiny GGUF the test builds): concurrent requests are
served one generation at a time instead of sharing one llama.cpp context across threads."""
from __future__ import annotations

import json
import threading
from typing import Iterator

import httpx
import pytest

from tests.server import Server, build_index, drafted_by, parse_sse, run_server
from tests.tinymodels import build_tiny_gguf

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    pytest.importorskip("llama_cpp")
    root = tmp_path_factory.mktemp("llm")
    gguf = build_tiny_gguf(root / "tiny.gguf")
    env = {"RAG_LLM_MODEL": str(gguf), "RAG_LLM_CTX": "1024", "RAG_LLM_MAX_TOKENS": "24", "RAG_LLM_THREADS": "1"}
    with run_server(build_index(root), env=env) as srv:
        yield srv


def test_health_names_the_llm(server: Server) -> None:
    assert httpx.get(server.url + "/health").json()["generator"] == "llama.cpp:tiny.gguf"


def test_concurrent_requests_all_succeed(server: Server) -> None:
    results: list[tuple[str, int, dict]] = []
    question = {"question": "YOLO는 객체 탐지를 몇 단계로 처리하는 알고리즘이야?"}

    def plain() -> None:
        r = httpx.post(server.url + "/ask", json=question, timeout=120)
        results.append(("ask", r.status_code, r.json()))

    def stream() -> None:
        r = httpx.post(server.url + "/ask/stream", json=question, timeout=120)
        events = parse_sse(r.text)
        results.append(("stream", r.status_code, json.loads(events[-1][1]) if events[-1][0] == "answer" else {}))

    def chat() -> None:
        r = httpx.post(server.url + "/v1/chat/completions", timeout=120, json={
            "stream": True, "messages": [{"role": "user", "content": question["question"]}]})
        results.append(("chat", r.status_code, {"done": r.text.rstrip().endswith("data: [DONE]")}))

    threads = [threading.Thread(target=f) for f in (plain, stream, chat) * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 9
    for kind, status, body in results:
        assert status == 200, (kind, body)
        if kind == "chat":
            assert body["done"]
        else:
            assert drafted_by(body["generator"], body["debug"]) == "llama.cpp:tiny.gguf"
            assert isinstance(body["refused"], bool)
