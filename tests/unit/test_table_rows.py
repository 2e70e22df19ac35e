"""Table rows carry their column headers (issue 29): in .docx, .pptx and .hwpx a row is written
"헤더: 값 · 헤더: 값", so a row read alone says what its values are."""
from __future__ import annotations

import pytest

from ingest.document import table_lines
from ingest.loaders import load_bytes
from tests.office_files import docx_bytes, hwpx_bytes, pptx_bytes

TABLE = [["기법", "제안 연도", "효과"], ["배치 정규화", "2015", "내부 공변량 이동 완화"], ["레이어 정규화", "2016", ""]]
ROWS = ["기법 | 제안 연도 | 효과", "기법: 배치 정규화 · 제안 연도: 2015 · 효과: 내부 공변량 이동 완화",
        "기법: 레이어 정규화 · 제안 연도: 2016"]


@pytest.mark.parametrize(("kind", "data"), [
    ("docx", docx_bytes([("p", "정규화 기법을 비교한다."), ("table", TABLE)])),
    ("pptx", pptx_bytes([{"title": "정규화 기법", "table": TABLE}])),
    ("hwpx", hwpx_bytes([[("p", "정규화 기법을 비교한다."), ("table", TABLE)]])),
])
def test_each_row_is_written_with_its_column_headers(kind: str, data: bytes) -> None:
    doc = load_bytes(f"정규화.{kind}", data, kind)
    assert "\n".join(ROWS) in doc.text
    start = doc.text.index(ROWS[1])
    if kind != "pptx":  # a slide is a page of its own
        assert doc.text.index(ROWS[0]) in doc.breaks  # the table stays a chunk boundary
    assert doc.text[start:start + len(ROWS[1])] == ROWS[1]  # a row is citable at its own offsets


def test_rows_without_a_header_naming_every_column_keep_their_cells() -> None:
    assert table_lines([["합친 제목"], ["가", "나"]]) == ["합친 제목", "가 | 나"]
    assert table_lines([["", "값"], ["학습률", "0.1"]])[1] == "학습률 | 0.1"
    assert table_lines([["이름", "이름"], ["a", "b"]])[1] == "a | b"  # headers that repeat name nothing
