"""Two real `rag eval` runs on the notes, the second deliberately weakened (the answerer sees
only the top passage), compared with --baseline: the expected drops show, and only those.

No metric value of today's answers is written here: every expectation is derived from the
baseline run itself, so the test holds while the reader and the gate change.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
TESTSET = ROOT / "data" / "qa" / "testset.jsonl"
pytestmark = pytest.mark.slow


def _rag(settings: Settings, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "RAG_NOTES_DIR": str(settings.notes_dir), "RAG_INDEX_DIR": str(settings.index_dir),
            "RAG_EMBEDDER": "offline", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT), **env}
    return subprocess.run([sys.executable, "-m", "api.cli", *args], capture_output=True, text=True, env=full,
                          cwd=cwd, timeout=900)


@pytest.fixture(scope="module")
def runs(notes_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    base = tmp_path_factory.mktemp("compare")
    r1, r2 = base / "r1", base / "r2"
    proc = _rag(notes_settings, base, "eval", str(TESTSET), "--out", str(r1), "--items", str(r1 / "items.jsonl"))
    assert proc.returncode == 0, proc.stderr
    proc = _rag(notes_settings, base, "eval", str(TESTSET), "--out", str(r2), "--baseline", str(r1 / "report.json"),
                RAG_TOP_K="1")
    assert proc.returncode == 0, proc.stderr
    return {"base": base, "r1": r1, "r2": r2, "stdout": proc.stdout,
            "old": json.loads((r1 / "report.json").read_text(encoding="utf-8")),
            "new": json.loads((r2 / "report.json").read_text(encoding="utf-8"))}


def test_weakened_answerer_shows_the_expected_drops(runs: dict[str, object]) -> None:
    old, new = runs["old"], runs["new"]
    comp = new["comparison"]  # type: ignore[index]
    assert {"setting": "top_k", "old": 5, "new": 1} in comp["settings_changed"]
    metrics = {(x["scope"], x["metric"]): x for x in comp["metrics"]}
    # Retrieval is scored at depth k=10, which top_k does not touch: every group is unchanged.
    for (scope, metric), x in metrics.items():
        if metric.startswith("retrieval."):
            assert x["verdict"] in ("same", "n/a"), (scope, metric, x)
    # Items whose evidence was at rank 2..5 are now out of the answerer's sight: retrieval misses.
    before = {r["id"]: r for r in old["items"]}  # type: ignore[index]
    after = {r["id"]: r for r in new["items"]}  # type: ignore[index]
    pushed_out = [i for i, r in before.items() if r["failure"]["class"] != "retrieval_miss"
                  and r.get("first_relevant_rank") is not None and 2 <= r["first_relevant_rank"] <= 5]
    assert pushed_out, "the QA set has items whose evidence is not ranked first"
    for i in pushed_out:
        assert after[i]["failure"]["class"] == "retrieval_miss", i
        assert not any(c["relevant"] for c in after[i]["citations"]), i  # it could only quote passage 1
    miss = metrics[("all", "failures.retrieval_miss")]
    assert miss["diff"] == len(pushed_out) and miss["verdict"] == "worse"
    assert "failures.retrieval_miss" in comp["worse"]
    moved = {x["id"]: x for x in comp["changed_items"]}
    assert all(moved[i]["new"] == "retrieval_miss" for i in pushed_out)
    assert set(moved) == {i for i in before if before[i]["failure"]["class"] != after[i]["failure"]["class"]}
    # Every difference is new minus old, read back from the two reports.
    assert metrics[("all", "answer.keyword_recall")]["diff"] == pytest.approx(
        new["answer"]["keyword_recall"] - old["answer"]["keyword_recall"], abs=1e-4)  # type: ignore[index]
    assert metrics[("lang=ko", "citations.precision")]["new"] == new["by_lang"]["ko"]["citations"]["precision"]  # type: ignore[index]


def test_comparison_files_and_text(runs: dict[str, object]) -> None:
    r2 = Path(runs["r2"])  # type: ignore[arg-type]
    assert (r2 / "comparison.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (Path(runs["r1"]) / "comparison.png").exists()  # type: ignore[arg-type]
    md = (r2 / "report.md").read_text(encoding="utf-8")
    assert md.index("\n## Comparison with baseline") < md.index("\n## Summary") < md.index("\n## Failure classes")
    comp = runs["new"]["comparison"]  # type: ignore[index]
    first = comp["changed_items"][0]
    assert f"| {first['id']} |" in md.split("### Items that changed class", 1)[1]
    assert "Settings changed: " in runs["stdout"] and "top_k 5 → 1" in runs["stdout"]  # type: ignore[operator]


def test_items_export_matches_the_report(runs: dict[str, object]) -> None:
    lines = (Path(runs["r1"]) / "items.jsonl").read_text(encoding="utf-8").splitlines()  # type: ignore[arg-type]
    exported = [json.loads(line) for line in lines]
    items = runs["old"]["items"]  # type: ignore[index]
    assert [e["id"] for e in exported] == [r["id"] for r in items]
    for e, r in zip(exported, items):
        assert (e["failure"], e["failure_detail"], e["answer"]) == (r["failure"]["class"], r["failure"]["detail"], r["answer"])
        assert e["qa_file"] == str(TESTSET)


def test_baseline_of_another_file_or_item_set_is_refused_before_running(
        runs: dict[str, object], notes_settings: Settings, tmp_path: Path) -> None:
    baseline = str(Path(runs["r1"]) / "report.json")  # type: ignore[arg-type]
    lines = TESTSET.read_text(encoding="utf-8").splitlines()
    fewer = tmp_path / "testset.jsonl"
    fewer.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    dropped = json.loads(lines[-1])["id"]
    out = tmp_path / "out"
    proc = _rag(notes_settings, tmp_path, "eval", str(fewer), "--out", str(out), "--baseline", baseline)
    assert proc.returncode == 2 and f"only in the baseline: {dropped}" in proc.stderr
    assert "different item sets in testset.jsonl" in proc.stderr and not out.exists()
    renamed = tmp_path / "other.jsonl"
    renamed.write_text(TESTSET.read_text(encoding="utf-8"), encoding="utf-8")
    proc = _rag(notes_settings, tmp_path, "eval", str(renamed), "--out", str(out), "--baseline", baseline)
    assert proc.returncode == 2 and "different QA files: the baseline ran 'testset.jsonl', this run 'other.jsonl'" \
        in proc.stderr and not out.exists()
    before = Path(baseline).read_bytes()
    proc = _rag(notes_settings, tmp_path, "eval", str(TESTSET), "--out", str(Path(baseline).parent),
                "--baseline", baseline)
    assert proc.returncode == 2 and "would overwrite the baseline" in proc.stderr
    assert Path(baseline).read_bytes() == before
    proc = _rag(notes_settings, tmp_path, "eval", str(TESTSET), "--baseline", str(tmp_path / "missing.json"))
    assert proc.returncode == 2 and "does not exist" in proc.stderr
    (tmp_path / "bad.json").write_text("{}", encoding="utf-8")
    proc = _rag(notes_settings, tmp_path, "eval", str(TESTSET), "--baseline", str(tmp_path / "bad.json"))
    assert proc.returncode == 2 and "not a report.json written by rag eval" in proc.stderr
