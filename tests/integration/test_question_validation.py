"""Issue 12, case 5: invalid Unicode in a question (a lone UTF-16 surrogate, valid JSON as
``"\\udfff"``) is a 422 with a reason on every surface, decided before a stream starts; the CLI
says so and exits 2. One validator (``rag.validation``) decides for all of them."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from rag.settings import Settings
from rag.validation import QUESTION_RULES, InvalidQuestion, Limits, check_question
from tests.server import ROOT, Server, assert_error, build_index, run_server

SURROGATES = ["YOLO \udfff", "\ud800 는?", "BERT \udcff\udcfe 무엇"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with run_server(build_index(tmp_path_factory.mktemp("validation"))) as srv:
        yield srv


def post_escaped(client: httpx.Client, path: str, body: dict) -> httpx.Response:
    """JSON with \\u escapes, as a client sends a lone surrogate (valid JSON, invalid Unicode)."""
    return client.post(path, content=json.dumps(body).encode("ascii"), headers={"content-type": "application/json"})


@pytest.mark.slow
@pytest.mark.parametrize("question", SURROGATES)
def test_surrogates_are_422_on_every_route(server: Server, question: str) -> None:
    with server.client() as c:
        for path in ("/ask", "/ask/stream"):
            error = assert_error(post_escaped(c, path, {"question": question}), 422, "validation_error")
            assert error["message"].startswith("question: invalid Unicode: lone surrogate U+"), error
        for stream in (False, True):
            r = post_escaped(c, "/v1/chat/completions",
                             {"stream": stream, "messages": [{"role": "user", "content": question}]})
            assert "lone surrogate" in assert_error(r, 422, "validation_error")["message"]
        # An earlier turn is text the route receives too: the same rule, with its position.
        r = post_escaped(c, "/v1/chat/completions", {"messages": [
            {"role": "user", "content": question}, {"role": "assistant", "content": "?"},
            {"role": "user", "content": "YOLO는 무엇인가?"}]})
        assert assert_error(r, 422)["message"].startswith("messages.0.content: invalid Unicode")
        # In a URL the surrogate is UTF-8 of a surrogate (invalid UTF-8): decoded as U+FFFD, so it
        # is searchable text; the escaped form is what a JSON client sends.
        assert c.get("/search", params={"q": "YOLO"}).status_code == 200
    assert "Traceback" not in server.output(), server.output()[-2000:]


@pytest.mark.slow
def test_the_server_still_answers_after_them(server: Server) -> None:
    with server.client() as c:
        for question in SURROGATES:
            post_escaped(c, "/ask/stream", {"question": question})
        answer = c.post("/ask", json={"question": "YOLO는 객체 탐지를 몇 단계로 처리하는 알고리즘이야?"}).json()
        assert not answer["refused"] and answer["citations"]


@pytest.mark.slow
@pytest.mark.parametrize("command", ["ask", "search"])
def test_cli_refuses_undecodable_arguments(tmp_path: Path, command: str) -> None:
    """A command line's undecodable bytes arrive as lone surrogates (surrogateescape)."""
    settings = build_index(tmp_path)
    env = {**os.environ, "RAG_NOTES_DIR": str(settings.notes_dir), "RAG_INDEX_DIR": str(settings.index_dir),
           "RAG_EMBEDDER": "offline", "PYTHONPATH": str(ROOT), "LC_ALL": "C.UTF-8"}
    out = subprocess.run([sys.executable.encode(), b"-m", b"api.cli", command.encode(), b"YOLO \xff\xfe?"],
                         capture_output=True, env=env, cwd=ROOT, timeout=120)
    err = out.stderr.decode("utf-8", "replace")
    assert out.returncode == 2, err
    assert "error: question: invalid Unicode: lone surrogate U+DCFF" in err and "Traceback" not in err


def test_rules_are_one_list_others_extend() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    with pytest.raises(InvalidQuestion) as info:
        check_question("\udfff", settings.max_question_chars, field="q")
    assert (info.value.field, info.value.message) == ("q", "q: invalid Unicode: lone surrogate U+DFFF at character 0 "
                                                           "(send UTF-8 text)")

    def no_xyz(text: str, _: Limits) -> str | None:
        return "must not mention xyz" if "xyz" in text else None

    QUESTION_RULES.append(no_xyz)
    try:
        with pytest.raises(InvalidQuestion, match="must not mention xyz"):
            check_question("what is xyz?", 100)
    finally:
        QUESTION_RULES.remove(no_xyz)
    assert check_question("what is xyz?", 100) == "what is xyz?"
    for ok in ("\ufffe noncharacter", "\ue000 private use", "한국어 질문", "emoji 🤖"):
        assert check_question(ok, 100) == ok
