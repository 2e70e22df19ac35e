"""The Q&A test set is well-formed and every evidence is a verbatim span of its note."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from rag.evaluation.testset import QAItem, TestsetError, check_evidence, load_testset
from tests.corpus import NOTES as TEST_NOTES

ROOT = Path(__file__).resolve().parents[2]
TESTSET = ROOT / "data" / "qa" / "testset.jsonl"
NOTES = ROOT / "data" / "notes"


@pytest.fixture(scope="module")
def items() -> list[QAItem]:
    return load_testset(TESTSET)


def test_real_testset_size_and_ids(items: list[QAItem]) -> None:
    assert len(items) >= 80
    ids = [i.id for i in items]
    assert len(ids) == len(set(ids))


def test_real_testset_mix(items: list[QAItem]) -> None:
    types = Counter(i.type for i in items)
    assert set(types) == {"factoid", "explain", "multi", "unanswerable"}
    assert types["unanswerable"] >= 12
    assert sum(i.lang == "en" for i in items) >= 10


def test_real_testset_evidence_is_verbatim(items: list[QAItem]) -> None:
    assert check_evidence(items, NOTES) == []
    for item in items:  # the same claim, spelled out without the helper under test
        for source, evidence in ((item.source, item.evidence), (item.source2, item.evidence2)):
            if evidence is not None:
                assert evidence in (NOTES / source).read_text(encoding="utf-8"), item.id


def test_real_testset_keywords_come_from_evidence(items: list[QAItem]) -> None:
    for item in items:
        if item.type == "unanswerable":
            continue
        blob = f"{item.evidence} {item.evidence2 or ''}".lower()
        for kw in item.keywords:
            assert kw.lower() in blob, (item.id, kw)


def test_real_testset_covers_every_shipped_note(items: list[QAItem]) -> None:
    """The five shipped notes are all cited (notes a maintainer adds are not the test set's)."""
    used = {s for i in items for s in (i.source, i.source2) if s is not None}
    assert len(used) == 5 and all((NOTES / name).is_file() for name in used)
    assert used == {p.name for p in TEST_NOTES.iterdir()}


def _item(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "q001",
        "question": "BERT는 언제 나왔어?",
        "answers": ["2018년"],
        "keywords": ["2018"],
        "source": "a.txt",
        "evidence": "BERT는 2018년 구글이 공개한 사전 학습된 모델이다.",
        "type": "factoid",
        "lang": "ko",
    }
    base.update(over)
    return base


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_malformed_json_names_its_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "t.jsonl",
        [
            json.dumps(_item(id="q001"), ensure_ascii=False),
            "",  # blank lines are skipped but still counted
            '{"id": "q002", "question": ',
        ],
    )
    with pytest.raises(TestsetError) as exc:
        load_testset(path)
    assert exc.value.line == 3
    assert "line 3" in str(exc.value)


def test_duplicate_id_is_rejected(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "t.jsonl",
        [json.dumps(_item(id="q007"), ensure_ascii=False)] * 2,
    )
    with pytest.raises(TestsetError) as exc:
        load_testset(path)
    assert exc.value.line == 2
    assert "q007" in str(exc.value)


def test_unanswerable_with_keywords_is_rejected(tmp_path: Path) -> None:
    bad = _item(type="unanswerable", answers=[], keywords=["GPU"], source=None, evidence=None)
    path = _write(tmp_path / "t.jsonl", [json.dumps(bad, ensure_ascii=False)])
    with pytest.raises(TestsetError) as exc:
        load_testset(path)
    assert exc.value.line == 1


def test_multi_needs_second_passage(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.jsonl", [json.dumps(_item(type="multi"), ensure_ascii=False)])
    with pytest.raises(TestsetError):
        load_testset(path)


def test_valid_small_file_loads(tmp_path: Path) -> None:
    ok = [
        _item(id="q001"),
        _item(id="q002", type="unanswerable", answers=[], keywords=[], source=None, evidence=None),
        _item(id="q003", type="multi", evidence2="GPT는 디코더만 사용한다.", source2="b.txt"),
    ]
    path = _write(tmp_path / "t.jsonl", [json.dumps(d, ensure_ascii=False) for d in ok])
    loaded = load_testset(path)
    assert [i.id for i in loaded] == ["q001", "q002", "q003"]
    assert loaded[2].source2 == "b.txt"


def test_check_evidence_reports_problems(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.txt").write_text("BERT는 2018년 구글이 공개한 사전 학습된 모델이다.\n", encoding="utf-8")
    items = [
        QAItem.model_validate(_item(id="q001")),
        QAItem.model_validate(_item(id="q002", source="missing.txt")),
        QAItem.model_validate(_item(id="q003", evidence="BERT는 2019년 메타가 공개했다.")),
        QAItem.model_validate(
            _item(id="q004", type="multi", evidence2="없는 문장입니다 없는 문장", source2="a.txt")
        ),
    ]
    problems = check_evidence(items, notes)
    assert len(problems) == 3
    assert any("q002" in p and "missing.txt" in p for p in problems)
    assert any("q003" in p and "evidence" in p for p in problems)
    assert any("q004" in p and "evidence2" in p for p in problems)
