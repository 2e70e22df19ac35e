"""A fact in a table row is answered from the row (issue 29): the row is indexed with its column
headers, so "몇 년에 발표됐어?" finds "발표 연도: 2017" and the citation points at the row.
Depends on the reader (rag/reader.py) finding the row sentence."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import NOTES
from tests.office_files import docx_bytes, hwpx_bytes
from tests.integration.test_cli import rag

pytestmark = pytest.mark.slow
TABLE = [["모델", "발표 연도", "깊이"], ["큐브넷", "2027", "58층"], ["스피넬넷", "2029", "93층"]]


@pytest.mark.parametrize(("name", "data"), [
    ("망.docx", docx_bytes([("h1", "가상 합성곱 모델 비교"), ("p", "두 가상 모델을 비교한다."), ("table", TABLE)])),
    ("망.hwpx", hwpx_bytes([[("h", "가상 합성곱 모델 비교"), ("p", "두 가상 모델을 비교한다."), ("table", TABLE)]])),
])
def test_a_row_fact_is_answered_and_cited_at_its_row(tmp_path: Path, name: str, data: bytes) -> None:
    notes = tmp_path / "notes"
    shutil.copytree(NOTES, notes)
    (notes / name).write_bytes(data)
    out = rag("ingest", "--json", index=tmp_path / "index", notes=notes)
    assert out.returncode == 0, out.stderr
    out = rag("ask", "스피넬넷은 몇 년에 발표됐어?", "--json", index=tmp_path / "index", notes=notes)
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert not answer["refused"], answer
    assert "2029" in answer["answer"], answer["answer"]
    cited = [c for c in answer["citations"] if c["doc"] == name]
    assert cited and any("모델: 스피넬넷 · 발표 연도: 2029" in c["quote"] for c in cited), answer["citations"]
