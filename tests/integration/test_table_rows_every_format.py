"""A fact in a table row is answered and cited at its table and row, in every format with tables
(issue 29): .docx, .pptx, .hwpx, Markdown and HTML. Each file holds an invented table (nothing
the notes know), is ingested with the real notes through the real pipeline (offline embedder),
and a question about one row's cell must be answered, quoting the row with its column headers,
with a citation naming the document, its section and "표 N, M행"."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ingest.pipeline import Ingestor
from rag.answer import Answer
from rag.generators.extractive import ExtractiveGenerator
from rag.live import LiveSnapshot
from rag.pipeline import AnswerPipeline
from rag.search import Searcher
from rag.settings import Settings
from tests.conftest import NOTES
from tests.office_files import docx_bytes, hwpx_bytes, pptx_bytes

pytestmark = pytest.mark.slow

COMPRESSORS = [["알고리즘", "발표 연도", "압축률"], ["루미나 압축", "2031", "4.2배"], ["벨로라 압축", "2034", "6.8배"]]
SATELLITES = [["위성", "발사 연도", "궤도"], ["카리온 위성", "2041", "정지 궤도"], ["도레미르 위성", "2044", "극궤도"]]
ENZYMES = [["효소", "발견 연도", "작용 온도"], ["셀루스 효소", "2052", "37도"], ["마르도 효소", "2055", "80도"]]
MARKDOWN = """# 가상 언어 모델 목록

가상 언어 모델들을 정리한다.

## 모델 비교

| 모델 | 공개 연도 | 학습 토큰 |
|---|---|---|
| 오로치 모델 | 2061 | 9조 |
| 펜리르 모델 | 2063 | 12조 |

표가 끝난 뒤의 문단이다.
"""
HTML = """<html><head><title>가상 로봇 노트</title></head><body>
<h1>가상 로봇 정리</h1><p>가상 청소 로봇들을 정리한다.</p>
<h2>로봇 사양</h2>
<table><thead><tr><th>로봇</th><th>출시 연도</th><th>배터리</th></tr></thead>
<tbody><tr><td>타르칸 로봇</td><td>2071</td><td>3시간</td></tr>
<tr><td><b>세브린</b> 로봇</td><td>2073</td><td>5시간</td></tr></tbody></table>
<p>표 다음 문단이다.</p></body></html>"""
FILES = {
    "압축.docx": docx_bytes([("h1", "가상 압축 알고리즘"), ("p", "두 가상 압축 알고리즘을 비교한다."), ("table", COMPRESSORS)]),
    "위성.pptx": pptx_bytes([{"title": "가상 위성 소개", "body": ["가상 위성 두 대를 소개한다."]},
                           {"title": "가상 위성 비교", "table": SATELLITES}]),
    "효소.hwpx": hwpx_bytes([[("h", "가상 효소 정리"), ("p", "두 가상 효소를 비교한다."), ("table", ENZYMES)]]),
    "언어모델.md": MARKDOWN.encode(),
    "로봇.html": HTML.encode(),
}
# (file, question, the row as quoted, where the citation says it is, page)
CASES = [
    ("압축.docx", "벨로라 압축은 언제 나왔어?", "알고리즘: 벨로라 압축 · 발표 연도: 2034 · 압축률: 6.8배",
     "가상 압축 알고리즘 › 표 1, 3행", None),
    ("위성.pptx", "도레미르 위성은 언제 발사됐어?", "위성: 도레미르 위성 · 발사 연도: 2044 · 궤도: 극궤도",
     "가상 위성 소개 › 가상 위성 비교 › 표 1, 3행", 2),  # the deck's title (its first slide's), the slide, the row
    ("효소.hwpx", "셀루스 효소는 언제 발견됐어?", "효소: 셀루스 효소 · 발견 연도: 2052 · 작용 온도: 37도",
     "가상 효소 정리 › 표 1, 2행", None),
    ("언어모델.md", "펜리르 모델은 언제 나왔어?", "모델: 펜리르 모델 · 공개 연도: 2063 · 학습 토큰: 12조",
     "가상 언어 모델 목록 › 모델 비교 › 표 1, 3행", None),
    ("로봇.html", "세브린 로봇은 언제 나왔어?", "로봇: 세브린 로봇 · 출시 연도: 2073 · 배터리: 5시간",
     "가상 로봇 노트 › 가상 로봇 정리 › 로봇 사양 › 표 1, 3행", None),  # <title>, h1, h2, the row
]
QUESTIONS = [q for _, q, *_ in CASES]


@pytest.fixture(scope="module")
def ask(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    root = tmp_path_factory.mktemp("table-rows")
    notes = root / "notes"
    shutil.copytree(NOTES, notes)
    for name, data in FILES.items():
        (notes / name).write_bytes(data)
    settings = Settings(notes_dir=notes, index_dir=root / "index", embedder="offline", _env_file=None)  # type: ignore[call-arg]
    summary = Ingestor(settings, progress=False).sync()
    assert summary.published and not summary.failed, summary.failed
    return AnswerPipeline(settings, Searcher(settings, LiveSnapshot.from_settings(settings).get), ExtractiveGenerator()).run


@pytest.mark.parametrize(("doc", "question", "row", "where", "page"), CASES, ids=[c[0] for c in CASES])
def test_a_row_fact_is_answered_and_cited_at_its_table_and_row(ask, doc: str, question: str, row: str,  # noqa: ANN001
                                                               where: str, page: int | None) -> None:
    answer: Answer = ask(question)
    assert not answer.refused, answer.debug
    assert row in answer.answer, answer.answer  # the row quoted, with its column headers
    cited = [c for c in answer.citations if c.doc == doc]
    assert cited, [(c.doc, c.where) for c in answer.citations]
    c = cited[0]
    assert (c.where, c.page) == (where, page)
    quoted = [c.quote[s.start - c.start:s.end - c.start] for s in c.spans]
    assert quoted == [row] and c.spans[0].section_path[-1] == where.split(" › ")[-1]
