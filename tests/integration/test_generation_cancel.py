"""Issue 12, case 11: a client that goes away stops its generation and frees the model at once,
on /ask/stream, streaming and plain /v1/chat/completions and plain /ask; a generation past
RAG_LLM_TIMEOUT_S is stopped. Real llama.cpp (the tests' tiny GGUF) behind a real server.

Before: the first client reads one token and closes; its generation stays suspended holding the
model lock, and the next student's stream gets no token at all (a hang). The bound below (30 s)
is generous: it only tells "answers" from "hangs"."""
from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from rag.errors import GenerationCancelled, GenerationTimeout
from rag.generators.base import Cancellation
from tests.server import Server, build_index, parse_sse, run_server
from tests.tinymodels import build_tiny_gguf

pytestmark = pytest.mark.slow

QUESTION = "YOLO는 객체 탐지를 몇 단계로 처리하는 알고리즘이야?"
NEXT_STUDENT_BOUND_S = 30.0  # to the next student's first token
# Greedy decoding of the seed-2 tiny model never samples end-of-text on these prompts, so each
# answer runs to its 200 tokens (about 3.5 s on a quiet 2-core machine, more on busy cores; 120
# tokens took under a second there, too short to leave in the middle of): an abandoned generation that was
# not stopped would still hold the model when the next student asks. (Its byte tokens do not
# form whole characters, so llama.cpp streams the text only at the end: the one-token readers
# below leave a finished generation whose stream they stopped reading.)
SEED = 2
LLM_ENV = {"RAG_LLM_CTX": "2048", "RAG_LLM_MAX_TOKENS": "200", "RAG_LLM_THREADS": "1", "RAG_LLM_TEMPERATURE": "0"}


@pytest.fixture(scope="module")
def gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("llama_cpp")
    return build_tiny_gguf(tmp_path_factory.mktemp("gguf") / "tiny.gguf", seed=SEED)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, gguf: Path) -> Iterator[Server]:
    env = {**LLM_ENV, "RAG_LLM_MODEL": str(gguf)}
    with run_server(build_index(tmp_path_factory.mktemp("cancel")), env=env) as srv:
        yield srv


def read_one_token_and_leave(server: Server, path: str, body: dict) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as c, c.stream("POST", path, json=body) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if line.startswith("data:") and ("text" in line or "content" in line) and '"content": ""' not in line:
                return  # leaving the block closes the connection mid-stream


def leave_before_the_answer(server: Server, path: str, body: dict, after_s: float = 1.0) -> None:
    """A plain request whose client closes the socket while the answer is being generated."""
    payload = json.dumps(body).encode()
    with socket.create_connection((urlsplit(server.url).hostname, urlsplit(server.url).port)) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(payload)}\r\n\r\n".encode() + payload)
        time.sleep(after_s)


def next_student_streams(server: Server) -> tuple[float, list[tuple[str, str]]]:
    """(seconds to the first token, events) of a whole /ask/stream; fails when no byte of it
    comes for NEXT_STUDENT_BOUND_S (the hang this issue is about)."""
    t0 = time.monotonic()
    first, text = None, ""
    with httpx.Client(base_url=server.url, timeout=NEXT_STUDENT_BOUND_S) as c, \
            c.stream("POST", "/ask/stream", json={"question": QUESTION}) as r:
        assert r.status_code == 200
        for chunk in r.iter_text():
            if first is None and "event: token" in chunk:
                first = time.monotonic() - t0
            text += chunk
    assert first is not None and first < NEXT_STUDENT_BOUND_S
    return first, parse_sse(text)


def stopped_generations(server: Server) -> int:
    """Answers stopped because their client went away: during generation, or before it began."""
    return server.output().count("the client went away")


@pytest.mark.parametrize(("path", "body"), [
    ("/ask/stream", {"question": QUESTION}),
    ("/v1/chat/completions", {"stream": True, "messages": [{"role": "user", "content": QUESTION}]}),
])
def test_a_stream_abandoned_after_one_token_frees_the_model(server: Server, path: str, body: dict) -> None:
    read_one_token_and_leave(server, path, body)
    _, events = next_student_streams(server)  # before: no token at all, the model stayed locked
    assert events[-1][0] == "answer", events[-3:]


@pytest.mark.parametrize(("path", "body"), [
    ("/ask", {"question": QUESTION}),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": QUESTION}]}),
])
def test_a_plain_request_abandoned_mid_answer_frees_the_model(server: Server, path: str, body: dict) -> None:
    before = stopped_generations(server)
    leave_before_the_answer(server, path, body, after_s=1.5)  # an answer takes 5-10 s
    _, events = next_student_streams(server)
    assert events[-1][0] == "answer"
    deadline = time.monotonic() + 10
    while stopped_generations(server) == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert stopped_generations(server) > before, "the abandoned generation was not stopped"


def test_many_abandoned_streams_then_every_student_is_answered(server: Server) -> None:
    leavers = [threading.Thread(target=read_one_token_and_leave, args=(server, "/ask/stream", {"question": QUESTION}))
               for _ in range(4)]
    for t in leavers:
        t.start()
    for t in leavers:
        t.join(60)
    results: list[str] = []

    def student() -> None:
        results.append(next_student_streams(server)[1][-1][0])

    students = [threading.Thread(target=student) for _ in range(2)]
    for t in students:
        t.start()
    for t in students:
        t.join(6 * NEXT_STUDENT_BOUND_S)
    assert results == ["answer"] * 2


def test_a_generation_past_its_deadline_is_stopped(tmp_path: Path, gguf: Path) -> None:
    env = {**LLM_ENV, "RAG_LLM_MODEL": str(gguf), "RAG_LLM_TIMEOUT_S": "0.05"}
    with run_server(build_index(tmp_path), env=env) as srv, srv.client() as c:
        r = c.post("/ask", json={"question": QUESTION})
        assert r.status_code == 504 and r.json()["error"]["code"] == "generation_timeout", r.text
        assert "RAG_LLM_TIMEOUT_S" in r.json()["error"]["message"]
        events = parse_sse(c.post("/ask/stream", json={"question": QUESTION}).text)
        assert events[-1][0] == "error" and json.loads(events[-1][1])["error"]["code"] == "generation_timeout"
        chat = c.post("/v1/chat/completions", json={"stream": True, "messages": [{"role": "user", "content": QUESTION}]})
        assert chat.text.rstrip().endswith("data: [DONE]") and "generation_timeout" in chat.text


def test_the_generator_interface_stops_between_tokens(gguf: Path, make_settings) -> None:  # noqa: ANN001
    """The seam itself: a cancelled or expired Cancellation stops generate() and stream(), and
    a stream whose reader stops reading (neither closing nor dropping it) does not keep the
    model past its own end: before, the lock stayed in its suspended frame for good."""
    from rag.generators.llamacpp import LlamaCppGenerator
    from rag.language.glossary import load_glossary
    from rag.language.query import analyze
    from rag.types import Chunk, Passage

    settings = make_settings(llm_model=str(gguf), llm_ctx=1024, llm_max_tokens=200, llm_threads=1,
                             llm_temperature=0.0)
    gen = LlamaCppGenerator(settings)
    query = analyze("YOLO는 무엇인가?", load_glossary())
    passages = [Passage(Chunk("a.txt", 0, 40, "YOLO는 단일 단계 객체 탐지 알고리즘이다.", None, None, 0), 1.0, {})]
    with pytest.raises(GenerationTimeout):  # stopped between tokens, though no text was streamed yet
        gen.generate(query, passages, Cancellation.after(1.0))
    with pytest.raises(GenerationTimeout):
        list(gen.stream(query, passages, Cancellation.after(1.0)))
    cancel = Cancellation()
    threading.Timer(1.0, cancel.cancel).start()
    with pytest.raises(GenerationCancelled):
        list(gen.stream(query, passages, cancel))
    suspended = gen.stream(query, passages, Cancellation())
    assert isinstance(next(suspended), str)  # then never read again, never closed, still referenced
    done = threading.Event()
    threading.Thread(target=lambda: (gen.generate(query, passages), done.set()), daemon=True).start()
    assert done.wait(120), "the model stayed locked by a suspended stream"
    assert suspended is not None
