"""The OpenAI route names what it cannot do, feedback storage is private, and the feedback rate
limit counts the peer, not a header a client writes (issue 29). A real uvicorn server."""
from __future__ import annotations

import os
import stat
from typing import Iterator

import httpx
import pytest

from tests.server import Server, assert_error, build_index, run_server

PER_MINUTE = 3
ASK = [{"role": "user", "content": "드롭아웃은 무엇을 막아?"}]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with run_server(build_index(tmp_path_factory.mktemp("params")),
                    env={"RAG_FEEDBACK_PER_MINUTE": str(PER_MINUTE)}) as s:
        yield s


@pytest.mark.parametrize(("extra", "param"), [
    ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]}, "tools"),
    ({"response_format": {"type": "json_object"}}, "response_format"),
    ({"logprobs": True}, "logprobs"),
    ({"frobnicate": 1}, "frobnicate"),
])
def test_unsupported_parameters_are_400s_naming_them(server: Server, extra: dict, param: str) -> None:
    r = httpx.post(server.url + "/v1/chat/completions", json={"messages": ASK, **extra}, timeout=60)
    err = assert_error(r, 400)
    assert err["param"] == param and param in err["message"]


def test_off_values_and_sampling_options_are_accepted(server: Server) -> None:
    r = httpx.post(server.url + "/v1/chat/completions", timeout=60, json={
        "messages": ASK, "logprobs": False, "tools": [], "response_format": {"type": "text"}, "temperature": 0.3,
        "seed": 4})
    assert r.status_code == 200, r.text


def test_the_model_name_is_bounded_and_must_be_the_listed_one(server: Server) -> None:
    listed = httpx.get(server.url + "/v1/models").json()["data"][0]["id"]
    assert httpx.post(server.url + "/v1/chat/completions", json={"model": listed, "messages": ASK},
                      timeout=60).json()["model"] == listed
    err = assert_error(httpx.post(server.url + "/v1/chat/completions", json={"model": "gpt-9", "messages": ASK},
                                  timeout=60), 404, code="model_not_found")
    assert err["param"] == "model" and listed in err["message"]
    r = httpx.post(server.url + "/v1/chat/completions", json={"model": "m" * 5000, "messages": ASK}, timeout=60)
    err = assert_error(r, 422)
    assert err["param"] == "model" and "m" * 300 not in r.text


def test_feedback_is_private_and_limited_by_peer(server: Server) -> None:
    body = {"verdict": "helpful", "question": "드롭아웃은?", "answer": "과적합을 막는다. [1]"}
    statuses = [httpx.post(server.url + "/feedback", json=body, timeout=30,
                           headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(PER_MINUTE + 2)]
    assert statuses[:PER_MINUTE] == [201] * PER_MINUTE and statuses[PER_MINUTE:] == [429, 429], statuses
    assert server.feedback_db is not None and server.feedback_db.exists()
    mode = stat.S_IMODE(os.stat(server.feedback_db).st_mode)
    assert mode == 0o600, oct(mode)
