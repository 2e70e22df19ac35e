"""Short answers (issue 28) end to end on the real notes: the answer pipeline gives the exact
fact for a count question, none for a definition or a refused question; the span lies inside
its cited, quoted sentence; `rag ask` prints it first; /ask, /ask/stream and the OpenAI-
compatible route carry it, the latter's content starting with "<short> — "."""
from __future__ import annotations

import json
from typing import Iterator

import httpx
import pytest
from typer.testing import CliRunner

from rag.answer import Answer
from rag.generators.extractive import ExtractiveGenerator
from rag.live import LiveSnapshot
from rag.pipeline import AnswerPipeline
from rag.search import Searcher
from rag.settings import Settings
from api.openai_compat import MODEL_ID
from tests.server import Server, build_index, run_server

pytestmark = pytest.mark.slow

COUNT = "라마2는 몇 개의 토큰으로 학습했어?"  # the notes: "... 40% 더 많은 2조 개의 토큰으로 학습됨"
DEFINITION = "트랜스포머가 뭐야?"
OFF_TOPIC = "김치찌개 끓이는 법 알려줘"
KEYS = {"text", "doc", "start", "end", "citation", "probability"}


@pytest.fixture(scope="module")
def pipeline(notes_settings: Settings) -> AnswerPipeline:
    live = LiveSnapshot.from_settings(notes_settings)
    return AnswerPipeline(notes_settings, Searcher(notes_settings, live.get),
                          ExtractiveGenerator(notes_settings.answer_max_chars))


def check_inside_its_quote(answer: Answer) -> None:
    """The short answer is verbatim in the document, inside one sentence its citation quotes."""
    short = answer.short_answer
    assert short is not None and set(short) == KEYS
    cite = next(c for c in answer.citations if c.n == short["citation"])
    assert cite.doc == short["doc"] and cite.start <= short["start"] < short["end"] <= cite.end
    assert cite.quote[short["start"] - cite.start:short["end"] - cite.start] == short["text"]
    holding = [s for s in cite.spans if s.start <= short["start"] and short["end"] <= s.end]
    assert holding, (short, [(s.start, s.end) for s in cite.spans])
    sentence = cite.quote[holding[0].start - cite.start:holding[0].end - cite.start]
    assert short["text"] in sentence
    assert any(short["citation"] in s.citations and " ".join(sentence.split()) in " ".join(s.text.split())
               for s in answer.sentences)  # a sentence the answer itself quotes
    assert 0.0 <= short["probability"] <= 1.0


def test_a_count_question_gets_the_count(pipeline: AnswerPipeline) -> None:
    answer = pipeline.run(COUNT)
    assert not answer.refused
    assert answer.short_answer is not None, answer.answer
    assert answer.short_answer["text"] == "2조 개", answer.short_answer
    check_inside_its_quote(answer)


def test_a_definition_question_gets_none(pipeline: AnswerPipeline) -> None:
    answer = pipeline.run(DEFINITION)
    assert not answer.refused and answer.citations
    assert answer.short_answer is None


def test_a_refused_question_gets_none(pipeline: AnswerPipeline) -> None:
    answer = pipeline.run(OFF_TOPIC)
    assert answer.refused
    assert answer.short_answer is None and answer.to_dict()["short_answer"] is None


def test_the_streamed_answer_carries_it(pipeline: AnswerPipeline) -> None:
    final = [e.data for e in pipeline.stream(COUNT) if e.kind == "answer"]
    assert len(final) == 1 and final[0].short_answer == pipeline.run(COUNT).short_answer


def test_rag_ask_prints_it_first_and_in_json(notes_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from api.cli import app

    monkeypatch.setenv("RAG_NOTES_DIR", str(notes_settings.notes_dir))
    monkeypatch.setenv("RAG_INDEX_DIR", str(notes_settings.index_dir))
    monkeypatch.setenv("RAG_EMBEDDER", "offline")
    runner = CliRunner()
    plain = runner.invoke(app, ["ask", COUNT])
    assert plain.exit_code == 0, plain.output
    lines = plain.stdout.splitlines()
    assert lines[0] == "2조 개" and "2조 개의 토큰" in lines[1]
    as_json = runner.invoke(app, ["ask", "--json", COUNT])
    assert as_json.exit_code == 0, as_json.output
    short = json.loads(as_json.stdout)["short_answer"]
    assert set(short) == KEYS and short["text"] == "2조 개"
    definition = runner.invoke(app, ["ask", "--json", DEFINITION])
    assert json.loads(definition.stdout)["short_answer"] is None


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with run_server(build_index(tmp_path_factory.mktemp("short"))) as srv:
        yield srv


def test_http_ask_stream_and_openai_route(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=120) as c:
        body = c.post("/ask", json={"question": COUNT}).json()
        short = body["short_answer"]
        assert set(short) == KEYS and short["text"] == "2조 개" and isinstance(short["start"], int)
        assert c.post("/ask", json={"question": DEFINITION}).json()["short_answer"] is None
        assert c.post("/ask", json={"question": OFF_TOPIC}).json()["short_answer"] is None
        schema = c.get("/openapi.json").json()["components"]["schemas"]
        assert "short_answer" in schema["AnswerOut"]["properties"] and "ShortAnswerOut" in schema

        events = c.post("/ask/stream", json={"question": COUNT}).text
        final = [json.loads(block.split("data: ", 1)[1]) for block in events.split("\n\n")
                 if block.startswith("event: answer")]
        assert len(final) == 1 and final[0]["short_answer"] == short

        chat = {"model": MODEL_ID, "messages": [{"role": "user", "content": COUNT}]}
        done = c.post("/v1/chat/completions", json=chat).json()
        content = done["choices"][0]["message"]["content"]
        assert content.startswith("2조 개 — ") and "2조 개의 토큰" in content and "[1]" in content
        assert done["short_answer"] == short
        exact = c.post("/v1/chat/completions", json={**chat, "max_tokens": done["usage"]["completion_tokens"]}).json()
        assert exact["choices"][0]["message"]["content"] == content  # the prefix counts, and fits
        tight = c.post("/v1/chat/completions", json={**chat, "max_tokens": 6}).json()
        assert tight["usage"]["completion_tokens"] <= 6  # never over the budget for the prefix
        plain = c.post("/v1/chat/completions", json={**chat, "messages": [{"role": "user", "content": DEFINITION}]})
        definition = c.post("/ask", json={"question": DEFINITION}).json()["answer"]
        assert plain.json()["choices"][0]["message"]["content"].startswith(definition)  # no prefix
        assert plain.json()["short_answer"] is None

        streamed = c.post("/v1/chat/completions", json={**chat, "stream": True, "max_tokens": 400}).text
        chunks = [json.loads(line[6:]) for line in streamed.splitlines()
                  if line.startswith("data: {")]
        text = "".join(ch["choices"][0]["delta"].get("content", "") for ch in chunks if ch["choices"])
        assert text.startswith("2조 개 — ") and chunks[-1]["short_answer"] == short


def test_korquad_score_reports_short_answers(pipeline: AnswerPipeline) -> None:
    from rag.evaluation.korquad import KorQuadItem, score

    count = KorQuadItem("count", COUNT, ("《2조 개》",), "003_47161544f8428e78.txt", 0)  # normalised: equal
    definition = KorQuadItem("definition", DEFINITION, ("어텐션",), "000_6894a9c6475e8976.txt", 0)
    right = score(pipeline, [count], progress=False)["answer"]
    assert (right["short_answer_em"], right["short_answer_f1"], right["short_answer_coverage"]) == (1.0, 1.0, 1.0)
    both = score(pipeline, [count, definition], progress=False)["answer"]
    assert (both["short_answer_em"], both["short_answer_f1"], both["short_answer_coverage"]) == (0.5, 0.5, 0.5)
