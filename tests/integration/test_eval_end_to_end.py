"""`rag eval` end to end: a tiny corpus, a real index, the real CLI in a subprocess."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rag.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

NOTES = {
    "bio.txt": "광합성\n\n광합성은 식물이 빛 에너지를 이용해 이산화탄소와 물로 포도당을 만드는 과정이다. "
               "광합성은 엽록체에서 일어난다.\n",
    "history.txt": "한글의 역사\n\n훈민정음은 1443년 세종대왕이 창제한 문자이다. 집현전 학자들이 창제를 도왔다.\n",
    "physics.txt": "Newton's laws\n\nNewton's second law states that force equals mass times acceleration. "
                   "The unit of force is the newton.\n",
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    from ingest.pipeline import Ingestor
    from rag.snapshots.store import SnapshotStore

    base = tmp_path_factory.mktemp("eval")
    notes, index = base / "notes", base / "index"
    notes.mkdir()
    for name, text in NOTES.items():
        (notes / name).write_text(text, encoding="utf-8")
    settings = Settings(notes_dir=notes, index_dir=index, embedder="offline", _env_file=None)  # type: ignore[call-arg]
    summary = Ingestor(settings, progress=False).sync()
    assert summary.published and not summary.failed
    snap = SnapshotStore(index).open_live()
    bio_chunks = [c for c in snap.chunks if c.doc == "bio.txt"]
    assert len(bio_chunks) == 1  # a short note is one chunk: its text is a unique evidence

    items = [
        {"id": "k1", "question": "광합성은 엽록체에서 일어나나요? 광합성은 무엇을 만드나요?", "answers": ["엽록체"],
         "keywords": ["엽록체"], "source": "bio.txt", "evidence": bio_chunks[0].text, "type": "factoid", "lang": "ko"},
        {"id": "e1", "question": "What does force equal according to Newton's second law?",
         "answers": ["mass times acceleration"], "keywords": ["mass", "acceleration"], "source": "physics.txt",
         "evidence": "force equals mass times acceleration", "type": "factoid", "lang": "en"},
        {"id": "m1", "question": "훈민정음은 누가 창제했고 광합성은 무엇을 만드나요?", "answers": ["세종대왕, 포도당"],
         "keywords": ["세종대왕", "포도당"], "source": "history.txt", "evidence": "1443년 세종대왕이 창제한",
         "source2": "bio.txt", "evidence2": "포도당을 만드는 과정", "type": "multi", "lang": "ko"},
        {"id": "u1", "question": "양자 컴퓨터의 큐비트는 몇 개인가요?", "answers": [], "keywords": [],
         "source": None, "evidence": None, "type": "unanswerable", "lang": "ko"},
        {"id": "u2", "question": "Who won the 1998 World Cup | final?\nTell me.", "answers": [], "keywords": [],
         "source": None, "evidence": None, "type": "unanswerable", "lang": "en"},
        {"id": "x1", "question": "화학 반응 속도는 무엇이 정하나요?", "answers": ["온도"], "keywords": ["온도"],
         "source": "chemistry.txt", "evidence": "반응 속도는 온도가 정한다", "type": "factoid", "lang": "ko"},
        {"id": "x2", "question": "광합성은 어디서 일어나나요?", "answers": ["엽록체"], "keywords": ["엽록체"],
         "source": "bio.txt", "evidence": "이 문장은 노트에 없다", "type": "explain", "lang": "ko"},
    ]
    qa = base / "qa.jsonl"
    qa.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    return {"base": base, "notes": notes, "index": index, "qa": qa, "snapshot": snap.id}


def _rag(corpus: dict[str, object], *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RAG_NOTES_DIR": str(corpus["notes"]), "RAG_INDEX_DIR": str(corpus["index"]),
           "RAG_EMBEDDER": "offline", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "api.cli", *args], capture_output=True, text=True, env=env,
                          cwd=corpus["base"], timeout=300)


def _check_rates(group: dict[str, object]) -> None:
    for name in ("retrieval", "answer", "citations", "refusal"):
        for key, value in (group.get(name) or {}).items():  # type: ignore[union-attr]
            assert value is None or 0.0 <= value <= 1.0, (name, key, value)


@pytest.fixture(scope="module")
def evaluated(corpus: dict[str, object]) -> tuple[dict[str, object], Path]:
    out = Path(corpus["base"]) / "out"  # type: ignore[arg-type]
    proc = _rag(corpus, "eval", str(corpus["qa"]), "--json", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == 1  # exactly one JSON object on stdout
    return json.loads(lines[0]), out


def test_eval_json_shape_and_ranges(evaluated: tuple[dict[str, object], Path], corpus: dict[str, object]) -> None:
    report, _ = evaluated
    assert {"n", "retrieval", "answer", "citations", "refusal", "latency_ms", "by_type", "by_lang",
            "config"} <= set(report)
    assert report["n"] == 7
    assert set(report["retrieval"]) == {"hit@1", "hit@3", "hit@5", "mrr@10", "ndcg@10", "recall@5_multi"}
    assert set(report["answer"]) == {"keyword_recall", "char_f1", "in_question_language", "model_served", "short_answer_em",
                                     "short_answer_f1", "short_answer_coverage"}
    factoid = [i for i in report["items"] if i["type"] == "factoid"]  # type: ignore[union-attr]
    assert factoid and all({"short_answer", "short_em", "short_f1"} <= set(i) for i in factoid)
    assert not any("short_em" in i for i in report["items"] if i["type"] != "factoid")  # type: ignore[union-attr]
    given = sum(i["short_answer"] is not None for i in factoid) / len(factoid)
    assert report["answer"]["short_answer_coverage"] == pytest.approx(given, abs=1e-4)  # type: ignore[index]
    assert set(report["citations"]) == {"precision", "coverage"}
    assert set(report["refusal"]) == {"unanswerable_refused", "answerable_refused"}
    assert set(report["latency_ms"]) == {"retrieval_p50", "retrieval_p95", "answer_p50", "answer_p95"}
    _check_rates(report)
    r = report["retrieval"]
    assert r["hit@1"] <= r["hit@3"] <= r["hit@5"]
    assert r["hit@1"] <= r["mrr@10"] <= 1.0  # the first relevant rank is 1 at best
    lat = report["latency_ms"]
    assert 0 <= lat["retrieval_p50"] <= lat["retrieval_p95"]
    assert 0 < lat["answer_p50"] <= lat["answer_p95"]
    assert set(report["by_type"]) == {"factoid", "multi", "unanswerable", "explain"}
    assert set(report["by_lang"]) == {"ko", "en"}
    for group in [*report["by_type"].values(), *report["by_lang"].values()]:
        _check_rates(group)
    assert "retrieval" not in report["by_type"]["unanswerable"]
    assert report["by_type"]["multi"]["retrieval"]["recall@5_multi"] is not None
    assert sum(g["n"] for g in report["by_lang"].values()) == 7
    c = report["config"]
    assert c["retriever"] == "hybrid" and c["k"] == 10 and c["top_k"] == 5
    assert c["embedder"].startswith("offline") and c["generator"] == "extractive"
    assert c["snapshot"] == corpus["snapshot"] and c["n_items"] == 7


def test_eval_items_are_scored_consistently(evaluated: tuple[dict[str, object], Path]) -> None:
    report, _ = evaluated
    rows = {row["id"]: row for row in report["items"]}
    assert rows["k1"]["scored"] and rows["k1"]["hit@1"] == 1.0 and rows["k1"]["first_relevant_rank"] == 1
    assert rows["k1"]["retrieved"][0]["doc"] == "bio.txt" and rows["k1"]["retrieved"][0]["relevant"]
    assert rows["m1"]["recall@5"] in (0.0, 0.5, 1.0)
    # Items whose evidence cannot be placed are reported and left out, not crashed on.
    problems = {p["id"]: p["problem"] for p in report["problems"]}
    assert "not in the index" in problems["x1"] and "not found" in problems["x2"]
    assert not rows["x1"]["scored"] and "hit@1" not in rows["x1"]
    assert report["counts"] == {"n_answerable": 5, "n_unanswerable": 2, "n_scored": 3}
    scored = [row for row in rows.values() if row["scored"]]
    assert report["retrieval"]["hit@1"] == pytest.approx(sum(row["hit@1"] for row in scored) / 3, abs=1e-4)
    for row in rows.values():
        assert row["retrieval_ms"] >= 0 and row["answer_ms"] >= 0
        if row["refused"]:
            assert row["citations"] == []
    answerable = [row for row in rows.values() if row["answerable"]]
    assert report["refusal"]["answerable_refused"] == pytest.approx(
        sum(row["refused"] for row in answerable) / len(answerable), abs=1e-4)


def test_eval_writes_three_files(evaluated: tuple[dict[str, object], Path]) -> None:
    report, out = evaluated
    assert json.loads((out / "report.json").read_text(encoding="utf-8")) == report
    assert (out / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "## Summary" in md and "## Questions" in md and "chemistry.txt" in md
    table = [line for line in md.splitlines() if line.startswith("| k1 ") or line.startswith("| u2 ")]
    assert len(table) == 2  # one line per question, even with a newline in the question
    header = next(line for line in md.splitlines() if line.startswith("| id | type |"))
    cells = lambda line: len(re.findall(r"(?<!\\)\|", line))  # noqa: E731 - unescaped pipes
    assert all(cells(line) == cells(header) for line in table)
    assert "World Cup \\| final?<br>Tell me." in md


def test_eval_text_summary(corpus: dict[str, object]) -> None:
    proc = _rag(corpus, "eval", str(corpus["qa"]), "--retriever", "bm25", "--k", "5")
    assert proc.returncode == 0, proc.stderr
    assert "hit@1" in proc.stdout and "retriever bm25" in proc.stdout and "x1" in proc.stdout


@pytest.mark.parametrize("bad_line, lineno", [("{not json", 2), ('{"id": "z", "question": "q"}', 2)])
def test_malformed_line_is_an_error_and_nothing_is_written(corpus: dict[str, object], tmp_path: Path,
                                                           bad_line: str, lineno: int) -> None:
    good = Path(corpus["qa"]).read_text(encoding="utf-8").splitlines()[0]  # type: ignore[arg-type]
    qa = tmp_path / "bad.jsonl"
    qa.write_text(f"{good}\n{bad_line}\n", encoding="utf-8")
    out = tmp_path / "out"
    proc = _rag(corpus, "eval", str(qa), "--json", "--out", str(out))
    assert proc.returncode != 0
    assert f"line {lineno}" in proc.stderr
    assert proc.stdout.strip() == ""
    assert not out.exists()


def test_failure_classes_in_the_report(evaluated: tuple[dict[str, object], Path]) -> None:
    report, out = evaluated
    rows = {row["id"]: row for row in report["items"]}
    failures = report["failures"]
    assert sum(entry["n"] for entry in failures.values()) == 7
    for name, entry in failures.items():
        assert entry["ids"] == [i for i, row in rows.items() if row["failure"]["class"] == name]
    assert rows["x1"]["failure"]["class"] in ("unscored", "answerable_refused")  # evidence not in the index
    assert rows["u1"]["failure"]["class"] in ("ok", "unanswerable_answered")
    md = (out / "report.md").read_text(encoding="utf-8")
    section = md.split("\n## Failure classes", 1)[1].split("\n## ", 1)[0]
    for name, entry in failures.items():
        if entry["n"]:
            assert all(i in section for i in entry["ids"]), name


def test_summary_only_writes_aggregates_alone(corpus: dict[str, object], tmp_path: Path) -> None:
    blind = tmp_path / "blind.jsonl"
    blind.write_text(Path(corpus["qa"]).read_text(encoding="utf-8"), encoding="utf-8")  # type: ignore[arg-type]
    out = tmp_path / "out"
    proc = _rag(corpus, "eval", str(blind), "--out", str(out))
    assert proc.returncode == 2 and "blind set" in proc.stderr and "--summary-only" in proc.stderr
    assert not out.exists()
    proc = _rag(corpus, "eval", str(blind), "--summary-only", "--items", str(tmp_path / "i.jsonl"))
    assert proc.returncode == 2 and "--items" in proc.stderr
    proc = _rag(corpus, "eval", str(blind), "--summary-only", "--json", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    printed = json.loads(proc.stdout)
    assert "items" not in printed and printed["n"] == 7 and printed["problems"] == {"n": 2}
    assert sum(entry["n"] for entry in printed["failures"].values()) == 7
    assert json.loads((out / "report.json").read_text(encoding="utf-8")) == printed
    questions = [json.loads(line) for line in Path(corpus["qa"]).read_text(encoding="utf-8").splitlines()]  # type: ignore[arg-type]
    for name in ("report.json", "report.md"):
        text = (out / name).read_text(encoding="utf-8")
        for q in questions:  # no id, question or reference answer anywhere
            assert f'"{q["id"]}"' not in text and f" {q['id']}," not in text and f"| {q['id']} |" not in text
            assert q["question"] not in text and json.dumps(q["question"], ensure_ascii=False) not in text
        assert "엽록체" not in text and "세종대왕" not in text
    assert "## Questions" not in (out / "report.md").read_text(encoding="utf-8")
    assert (out / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_several_qa_files_side_by_side(corpus: dict[str, object], tmp_path: Path) -> None:
    lines = Path(corpus["qa"]).read_text(encoding="utf-8").splitlines()  # type: ignore[arg-type]
    ko, en = tmp_path / "ko" / "set.jsonl", tmp_path / "en" / "set.jsonl"
    for path, lang in ((ko, "ko"), (en, "en")):
        path.parent.mkdir()
        path.write_text("".join(line + "\n" for line in lines if json.loads(line)["lang"] == lang), encoding="utf-8")
    out = tmp_path / "out"
    proc = _rag(corpus, "eval", str(ko), str(en), "--baseline", str(tmp_path / "r.json"))
    assert proc.returncode == 2 and "side by side" in proc.stderr
    proc = _rag(corpus, "eval", str(ko), str(en), "--out", str(out), "--json", "--items", str(out / "items.jsonl"))
    assert proc.returncode == 0, proc.stderr
    combined = json.loads(proc.stdout)
    assert [(r["name"], r["n"]) for r in combined["runs"]] == [("set-1", 5), ("set-2", 2)]
    assert json.loads((out / "report.json").read_text(encoding="utf-8")) == combined
    for name, run in (("set-1", combined["runs"][0]), ("set-2", combined["runs"][1])):
        own = json.loads((out / name / "report.json").read_text(encoding="utf-8"))
        assert own["config"]["qa"] == run["config"]["qa"] and "comparison" not in own
        assert (out / name / "report.md").exists() and (out / name / "report.png").exists()
    md = (out / "report.md").read_text(encoding="utf-8")
    header = next(line for line in md.splitlines() if line.startswith("| metric |"))
    assert "set-1 (set.jsonl)" in header and "set-2 (set.jsonl)" in header
    kw = next(line for line in md.splitlines() if line.startswith("| keyword recall |"))
    expected = [run["answer"]["keyword_recall"] for run in combined["runs"]]
    assert kw == "| keyword recall | " + " | ".join("-" if v is None else f"{v:.3f}" for v in expected) + " |"
    assert "| diff |" not in md and "Comparison" not in md  # side by side, never a difference
    exported = [json.loads(line) for line in (out / "items.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [e["qa_file"] for e in exported] == [str(ko)] * 5 + [str(en)] * 2
