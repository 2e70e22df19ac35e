"""POST /feedback on a real server, its own SQLite file, the rate limit, and `rag feedback export`."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from rag.evaluation.testset import load_testset
from tests.server import ROOT, Server, assert_error, build_index, run_server

pytestmark = pytest.mark.slow
PER_MINUTE = 4


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with run_server(build_index(tmp_path_factory.mktemp("feedback")),
                    env={"RAG_FEEDBACK_PER_MINUTE": str(PER_MINUTE)}) as srv:
        yield srv


def _rows(db: Path) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT verdict, comment, question, understood_as, answer, refused, sources, snapshot "
                           "FROM feedback ORDER BY id").fetchall()
    finally:
        con.close()


def test_feedback_is_stored_as_sent_then_rate_limited(server: Server) -> None:
    with server.client() as c:
        first = c.post("/ask", json={"question": "GAN이 뭐야?"})
        answer, snapshot = first.json(), first.headers["X-Snapshot-Id"]
        follow = c.post("/ask", json={"question": "그럼 그 두 번째 것은 무슨 일을 해?",
                                      "history": [{"question": "GAN이 뭐야?", "answer": answer["answer"]}]}).json()
        assert follow["debug"]["understood_as"] == "그럼 Discriminator는 무슨 일을 해?"
        body = {"verdict": "wrong", "comment": "  판별자 이야기가 아니에요  ", "question": "그럼 그 두 번째 것은 무슨 일을 해?",
                "understood_as": follow["debug"]["understood_as"], "answer": follow["answer"], "refused": False,
                "sources": follow["citations"], "snapshot": snapshot}
        r = c.post("/feedback", json=body)
        assert r.status_code == 201, r.text
        assert r.json()["verdict"] == "wrong" and r.json()["id"] == 1
        assert c.post("/feedback", json={**body, "verdict": "helpful", "comment": None}).status_code == 201
        assert server.feedback_db is not None and server.feedback_db.is_file()
        assert not any(p.name.startswith("feedback") for p in server.index_dir.rglob("*"))  # not under the index
        rows = _rows(server.feedback_db)
        verdict, comment, question, understood, text, refused, sources, snap = rows[0]
        assert (verdict, comment, question, understood, text, refused, snap) == (
            "wrong", "판별자 이야기가 아니에요", body["question"], body["understood_as"], follow["answer"], 0, snapshot)
        kept = json.loads(sources)  # only the citation's address is kept, not its quote
        assert kept and set(kept[0]) <= {"n", "doc", "title", "section", "page", "start", "end"}
        assert rows[1][0] == "helpful" and rows[1][1] is None
        statuses = [c.post("/feedback", json=body).status_code for _ in range(PER_MINUTE)]
        assert statuses.count(201) == PER_MINUTE - 2 and statuses[-1] == 429
        limited = c.post("/feedback", json=body)
        assert_error(limited, 429, "rate_limited", mentions="try again")
        assert int(limited.headers["Retry-After"]) >= 1
        assert len(_rows(server.feedback_db)) == PER_MINUTE  # the refused ones were not stored


@pytest.mark.parametrize("bad", [
    {"verdict": "meh"}, {"question": ""}, {"comment": "x" * 1001}, {"snapshot": "../../etc"},
    {"sources": [{"n": 1}]}, {"refused": "no"}, {"extra": 1}, {"answer": None},
])
def test_bad_feedback_is_a_422(server: Server, bad: dict) -> None:
    body = {"verdict": "wrong", "question": "q", "answer": "a", **bad}
    assert_error(httpx.post(server.url + "/feedback", json=body), 422, "validation_error")


def test_export_writes_qa_candidates_that_rag_eval_reads(tmp_path: Path) -> None:
    from rag.feedback import Feedback, FeedbackStore

    db = tmp_path / "fb" / "feedback.sqlite"
    store = FeedbackStore(db)
    store.add(Feedback("wrong", "How was it pre-trained?", "GPT-3 is ... [1]", understood_as="How was BERT pre-trained?",
                       comment="that is GPT-3", sources=[{"n": 1, "doc": "a.txt"}], snapshot="s1"))
    store.add(Feedback("helpful", "What is BERT?", "BERT is ... [1]"))
    store.add(Feedback("wrong", "빵은 어떻게 구워?", "노트에는 없습니다.", refused=True))
    env = {**os.environ, "RAG_FEEDBACK_DB": str(db), "HF_HUB_OFFLINE": "1"}
    out = tmp_path / "qa" / "feedback.jsonl"
    done = subprocess.run([sys.executable, "-m", "api.cli", "feedback", "export", str(out), "--json"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["exported"] == 2
    items = load_testset(out)  # the QA loader accepts every line as it is
    assert [i.id for i in items] == ["feedback-1", "feedback-3"]
    assert items[0].question == "How was BERT pre-trained?" and items[0].lang == "en" and items[0].answers == []
    review = [json.loads(line) for line in out.with_name("feedback.review.jsonl").read_text(encoding="utf-8").splitlines()]
    assert review[0]["comment"] == "that is GPT-3" and review[0]["asked"] == "How was it pre-trained?"
    empty = subprocess.run([sys.executable, "-m", "api.cli", "feedback", "export", str(tmp_path / "none.jsonl")], cwd=ROOT,
                           env={**env, "RAG_FEEDBACK_DB": str(tmp_path / "missing.sqlite")}, capture_output=True,
                           text=True, timeout=120)
    assert empty.returncode == 0 and "nothing written" in empty.stdout and not (tmp_path / "none.jsonl").exists()
