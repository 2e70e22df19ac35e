"""Table rows carry their column headers (issue 29): in .docx, .pptx, .hwpx, Markdown and HTML a
row is written "헤더: 값 · 헤더: 값", so a row read alone says what its values are, and is named
in the heading table by its table and row ("표 1, 2행")."""
from __future__ import annotations

import pytest

from ingest.document import table_lines
from ingest.loaders import load_bytes
from ingest.sections import document_sections
from rag.snapshots.sections import SectionTable
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


MD_TABLE = """# 정규화

## 기법 비교

| 기법 | 제안 연도 |
|---|---|
| 배치 정규화 | 2015 |
| 레이어 `정규화` | [2016](https://example.org) |

표 뒤의 문단이다.
"""
HTML_TABLE = """<h1>정규화</h1><h2>기법 비교</h2><table><caption>비교표</caption>
<tr><th>기법</th><th>제안 연도</th></tr><tr><td>배치 정규화</td><td>2015</td></tr>
<tr style="display:none"><td>숨은 기법</td><td>2099</td></tr>
<tr><td>레이어 <b>정규화</b></td><td>20<span hidden>99</span>16</td></tr></table><p>표 뒤의 문단이다.</p>"""


@pytest.mark.parametrize(("kind", "data"), [
    ("md", MD_TABLE.encode()), ("html", HTML_TABLE.encode()),
    ("docx", docx_bytes([("h1", "정규화"), ("h2", "기법 비교"), ("table", [["기법", "제안 연도"], ["배치 정규화", "2015"],
                                                                    ["레이어 정규화", "2016"]]), ("p", "표 뒤의 문단이다.")])),
])
def test_markdown_and_html_rows_read_as_office_rows_and_are_named_by_table_and_row(kind: str, data: bytes) -> None:
    doc = load_bytes(f"정규화.{kind}", data, kind)
    rows = ["기법 | 제안 연도", "기법: 배치 정규화 · 제안 연도: 2015", "기법: 레이어 정규화 · 제안 연도: 2016"]
    assert "\n".join(rows) in doc.text and "2099" not in doc.text and "|---|" not in doc.text
    table = SectionTable.from_documents([{"doc": "d", **document_sections(doc, [])}])
    for n, row in enumerate(rows, 1):
        assert table.path("d", doc.text.index(row)) == ("정규화", "기법 비교", f"표 1, {n}행")
    assert table.path("d", doc.text.index("표 뒤의 문단")) == ("정규화", "기법 비교")  # the section resumes


def test_html_tables_without_a_header_row_or_holding_a_page_layout() -> None:
    row_headers = "<table><tr><th>학습률</th><td>0.1</td></tr><tr><th>모멘텀</th><td>0.9</td></tr></table>"
    assert "학습률 | 0.1\n모멘텀 | 0.9" in load_bytes("a.html", row_headers.encode(), "html").text
    layout = "<table><tr><td><h2>제목</h2><p>본문 문장이다.</p></td><td>옆 칸</td></tr></table>"
    doc = load_bytes("b.html", layout.encode(), "html")
    assert [h.title for h in doc.headings or ()] == ["제목"] and not doc.structure  # walked as blocks
