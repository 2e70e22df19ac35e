"""The read-only routes over HTTP against a real uvicorn server and a real snapshot."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.server import NO_BUILT_LLM, ROOT, Server, assert_error, parse_sse

KO_QUESTION = "YOLO는 객체 탐지를 몇 단계로 처리하는 알고리즘이야?"
EN_QUESTION = "What is BERT?"
OFF_TOPIC = "How do I bake sourdough bread?"
CITE = re.compile(r"\[(\d+)\]")


def assert_answer(answer: dict) -> None:
    assert set(answer) >= {"answer", "refused", "generator", "citations", "sentences", "timings_ms", "lang"}
    assert set(answer["timings_ms"]) >= {"retrieval", "generation", "total"}
    if answer["refused"]:
        assert answer["citations"] == []
        return
    numbers = {c["n"] for c in answer["citations"]}
    assert numbers and {int(n) for n in CITE.findall(answer["answer"])} <= numbers
    for c in answer["citations"]:
        assert c["doc"] and c["quote"] and c["end"] > c["start"]


def test_health_reports_the_live_snapshot_and_models(client: httpx.Client, server: Server) -> None:
    body = client.get("/health").json()
    current = (server.index_dir / "CURRENT").read_text().strip()
    assert body["status"] == "ok" and body["snapshot"] == current
    assert body["documents"] == len(list(server.notes_dir.iterdir())) and body["chunks"] > 0
    assert body["embedder"].startswith("offline") and body["generator"] == "extractive"
    assert body["index_backend"] == "faiss"


def test_ask_answers_in_korean_with_citations(client: httpx.Client, server: Server) -> None:
    r = client.post("/ask", json={"question": KO_QUESTION})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert_answer(answer)
    assert not answer["refused"] and answer["lang"] == "ko"
    assert "단일 단계" in answer["answer"]
    assert r.headers["x-snapshot-id"] == (server.index_dir / "CURRENT").read_text().strip()


def test_ask_answers_english_and_takes_k_and_retriever(client: httpx.Client) -> None:
    for retriever in ("dense", "bm25", "hybrid"):
        answer = client.post("/ask", json={"question": EN_QUESTION, "k": 3, "retriever": retriever}).json()
        assert_answer(answer)
        assert answer["lang"] == "en"
    assert not answer["refused"]


def test_ask_refuses_when_the_notes_do_not_cover_it(client: httpx.Client) -> None:
    answer = client.post("/ask", json={"question": OFF_TOPIC}).json()
    assert answer["refused"] is True and answer["citations"] == [] and answer["answer"]


@pytest.mark.parametrize(("body", "field"), [
    ({"question": ""}, "question"),
    ({"question": "   \n "}, "question"),
    ({"question": "가" * 2001}, "question"),
    ({}, "question"),
    ({"question": "YOLO?", "k": 0}, "k"),
    ({"question": "YOLO?", "k": "many"}, "k"),
    ({"question": "YOLO?", "retriever": "magic"}, "retriever"),
    ({"question": "YOLO?", "extra": 1}, "extra"),
])
def test_ask_validation_errors_name_the_field(client: httpx.Client, body: dict, field: str) -> None:
    for route in ("/ask", "/ask/stream"):
        error = assert_error(client.post(route, json=body), 422, "validation_error")
        assert error["message"].startswith(f"{field}:"), error


def test_ask_rejects_malformed_json(client: httpx.Client) -> None:
    r = client.post("/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert_error(r, 422, "validation_error")


def test_ask_stream_sends_tokens_then_one_answer(client: httpx.Client) -> None:
    with client.stream("POST", "/ask/stream", json={"question": KO_QUESTION}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        body = r.read().decode("utf-8")
    events = parse_sse(body)
    kinds = [e for e, _ in events]
    assert kinds[-1] == "answer" and kinds.count("answer") == 1
    assert kinds[:-1] and set(kinds[:-1]) == {"token"}
    tokens = "".join(json.loads(d)["text"] for _, d in events[:-1])
    answer = json.loads(events[-1][1])
    assert_answer(answer)
    assert not answer["refused"]
    squash = lambda s: re.sub(r"\s+", " ", s).strip()  # noqa: E731
    assert squash(tokens) == squash(answer["answer"])  # extractive: the stream is the verified text
    plain = client.post("/ask", json={"question": KO_QUESTION}).json()
    assert plain["answer"] == answer["answer"] and plain["citations"] == answer["citations"]


def test_ask_stream_refusal_is_an_answer_event(client: httpx.Client) -> None:
    events = parse_sse(client.post("/ask/stream", json={"question": OFF_TOPIC}).text)
    assert [e for e, _ in events] == ["token", "answer"]
    assert json.loads(events[-1][1])["refused"] is True


def test_search_is_the_cli_search_json(client: httpx.Client, server: Server) -> None:
    q = "YOLO는 어떻게 객체를 찾나요?"
    r = client.get("/search", params={"q": q, "k": 3})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"refused", "evidence", "passages", "timings_ms"} and len(body["passages"]) == 3
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")} | NO_BUILT_LLM
    env.update(RAG_NOTES_DIR=str(server.notes_dir), RAG_INDEX_DIR=str(server.index_dir), RAG_EMBEDDER="offline",
               HF_HUB_OFFLINE="1")
    out = subprocess.run([sys.executable, "-m", "api.cli", "search", q, "-k", "3", "--json"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    cli = json.loads(out.stdout)
    assert set(cli) == set(body)
    key = lambda p: (p["doc"], p["start"], p["end"])  # noqa: E731
    assert [key(p) for p in cli["passages"]] == [key(p) for p in body["passages"]]
    assert cli["refused"] == body["refused"] and cli["evidence"] == body["evidence"]


@pytest.mark.parametrize(("params", "field"), [
    ({}, "q"), ({"q": " "}, "q"), ({"q": "x" * 2001}, "q"), ({"q": "YOLO", "k": 0}, "k"),
    ({"q": "YOLO", "k": 51}, "k"), ({"q": "YOLO", "retriever": "x"}, "retriever"),
])
def test_search_validation_errors(client: httpx.Client, params: dict, field: str) -> None:
    error = assert_error(client.get("/search", params=params), 422, "validation_error")
    assert error["message"].startswith(f"{field}:")


def test_documents_lists_every_document(client: httpx.Client, server: Server) -> None:
    body = client.get("/documents").json()
    assert body["snapshot"] == client.get("/health").json()["snapshot"]
    ids = sorted(d["id"] for d in body["documents"])
    assert ids == sorted(p.name for p in server.notes_dir.iterdir())
    for d in body["documents"]:
        assert set(d) >= {"id", "title", "type", "pages", "chunks", "hash", "updated"}
        assert d["type"] == "txt" and d["chunks"] > 0 and len(d["hash"]) == 64 and d["updated"]


def test_metrics_count_requests_stages_refusals_and_snapshot(client: httpx.Client) -> None:
    client.post("/ask", json={"question": KO_QUESTION})
    client.post("/ask", json={"question": OFF_TOPIC})
    client.get("/search", params={"q": "BERT"})
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert re.search(r'rag_http_requests_total\{method="POST",route="/ask",status="200"\} [1-9]', text)
    assert re.search(r'rag_http_requests_total\{method="GET",route="/search",status="200"\} [1-9]', text)
    assert 'rag_http_request_duration_seconds_bucket{le="0.5",method="POST",route="/ask"}' in text
    assert re.search(r'rag_stage_duration_seconds_count\{stage="retrieval"\} [1-9]', text)
    assert re.search(r'rag_stage_duration_seconds_count\{stage="generation"\} [1-9]', text)
    assert re.search(r'rag_refusals_total\{surface="ask"\} [1-9]', text)
    assert re.search(r"rag_snapshot_documents \d", text) and re.search(r"rag_snapshot_chunks [1-9]", text)
    assert re.search(r"rag_snapshot_bytes [1-9]", text) and 'rag_snapshot_info{snapshot="' in text


def test_unknown_route_and_wrong_method_use_the_error_shape(client: httpx.Client) -> None:
    assert_error(client.get("/nope"), 404, "not_found")
    assert_error(client.get("/ask"), 405, "method_not_allowed")


def test_openapi_describes_every_route_with_examples(client: httpx.Client) -> None:
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    expected = {("/ask", "post"), ("/ask/stream", "post"), ("/search", "get"), ("/documents", "get"),
                ("/documents", "post"), ("/documents/{doc_id}", "put"), ("/documents/{doc_id}", "delete"),
                ("/reindex", "post"), ("/health", "get"), ("/metrics", "get"), ("/v1/chat/completions", "post"),
                ("/v1/models", "get")}
    found = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert expected <= found, expected - found
    text = json.dumps(spec)
    for path, method in expected:
        op = spec["paths"][path][method]
        assert op.get("summary"), (path, method)
        assert "200" in op["responses"] or "201" in op["responses"]
    for schema in ("AskRequest", "AnswerOut", "SearchOut", "DocumentList", "IngestSummaryOut", "HealthOut",
                   "ChatRequest", "ChatCompletion", "ErrorOut"):
        assert spec["components"]["schemas"][schema].get("examples"), schema
    assert "text/event-stream" in text and "bearer" in text.lower()


def test_web_page_and_static_files_are_served(client: httpx.Client) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'id="question"' in page.text and "/static/app.js" in page.text and 'name="viewport"' in page.text
    for name, kind in (("app.js", "javascript"), ("style.css", "text/css")):
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and kind in r.headers["content-type"]
    assert_error(client.get("/static/missing.js"), 404)


def test_package_ships_the_static_files() -> None:
    static = Path(ROOT / "api" / "static")
    assert {"index.html", "app.js", "style.css"} <= {p.name for p in static.iterdir()}


def test_cors_is_off_by_default_and_on_when_configured(server: Server) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from rag.settings import Settings

    preflight = {"Origin": "https://notes.example", "Access-Control-Request-Method": "POST"}
    r = httpx.options(server.url + "/ask", headers=preflight)
    assert "access-control-allow-origin" not in r.headers
    settings = Settings(notes_dir=server.notes_dir, index_dir=server.index_dir, embedder="offline",  # type: ignore[call-arg]
                        cors_origins=["https://notes.example"], _env_file=None)
    r = TestClient(create_app(settings)).options("/ask", headers=preflight)
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "https://notes.example"
