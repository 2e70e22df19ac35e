"""The heading table: every offset of a document is named by the innermost section holding it,
for every format's loader; loader labels are structure, never text; same-section checks."""
from __future__ import annotations

import hashlib

import pytest

from ingest.loaders import LoadedDocument, Page, load_bytes
from ingest.sections import document_sections, fenced_spans
from rag.snapshots.sections import SectionTable, citation_where, section_label
from rag.types import Chunk, Passage
from tests.section_notes import HTML, MD, TXT, docx, pptx

def loaded(data: bytes, name: str) -> LoadedDocument:
    return load_bytes(name, data, name.rsplit(".", 1)[1])


def table_of(doc: LoadedDocument) -> SectionTable:
    return SectionTable.from_documents([{"doc": doc.doc_id, **document_sections(doc, [])}])


def path_at(doc: LoadedDocument, needle: str) -> tuple[str, ...]:
    return table_of(doc).path(doc.doc_id, doc.text.index(needle))


def test_markdown_sentences_are_named_by_their_innermost_section() -> None:
    doc = loaded(MD.encode(), "cell.md")
    assert path_at(doc, "아세틸 CoA로") == ("세포 호흡 정리", "시트르산 회로", "아세틸 CoA")
    assert path_at(doc, "NADH 세 분자") == ("세포 호흡 정리", "시트르산 회로", "회로의 산물")
    assert path_at(doc, "미토콘드리아 기질") == ("세포 호흡 정리", "시트르산 회로")
    assert path_at(doc, "마지막 전자") == ("세포 호흡 정리", "전자 전달계")  # a shallower heading closes deeper ones
    assert path_at(doc, "포도당 한 분자") == ("세포 호흡 정리", "해당과정")


def test_a_code_comment_in_a_text_note_is_no_section() -> None:
    doc = loaded(TXT.encode(), "tok.txt")
    (a, b), = fenced_spans(doc.text)
    assert a < doc.text.index("# 가상환경") < b
    assert path_at(doc, "pip install") == ("토크나이저 설치",)  # neither "```bash" nor "# 가상환경 ..."
    assert path_at(doc, "삼만 개") == ("어휘 크기 정하기",)


def test_html_h2_h3_sections() -> None:
    doc = loaded(HTML.encode(), "cc.html")
    assert path_at(doc, "토큰의 모양") == ("컴파일러", "어휘 분석", "정규 표현식")
    assert path_at(doc, "구문 분석기는") == ("컴파일러", "구문 분석")


def test_speaker_notes_are_a_part_of_their_slide_not_text() -> None:
    doc = loaded(pptx(), "q.pptx")
    assert "Speaker notes" not in doc.text and "notes:" not in doc.text.lower()
    assert path_at(doc, "중첩 상태") == ("큐비트", "Speaker notes")
    assert path_at(doc, "정보 단위") == ("큐비트",)
    assert path_at(doc, "얽힌 두 큐비트") == ("양자 얽힘",)


def test_docx_heading_levels_make_the_path() -> None:
    doc = loaded(docx(), "os.docx")
    assert path_at(doc, "타이머 인터럽트") == ("운영체제", "스케줄링", "선점")
    assert path_at(doc, "페이지 테이블") == ("운영체제", "가상 메모리")


def test_labels_paths_and_places() -> None:
    assert section_label(("세포 호흡 정리", "시트르산 회로", "회로의 산물"), "세포 호흡 정리") == "시트르산 회로 › 회로의 산물"
    assert section_label(("시트르산 회로", "회로의 산물"), "세포 호흡") == "시트르산 회로 › 회로의 산물"
    assert section_label(("세포 호흡 정리",), "세포 호흡 정리") == "세포 호흡 정리" and section_label(()) is None
    assert citation_where("세포 호흡 정리", "a.md", "세포 호흡 정리", True) == "세포 호흡 정리"
    assert citation_where("노트", "a.md", "시트르산 회로 › 회로의 산물", False) == "노트 › 시트르산 회로 › 회로의 산물"
    assert citation_where("노트", "a.md", "GAN", True) == "GAN — 노트"
    assert citation_where(None, "a.md", None, True) == "a.md"


def test_same_section_by_offsets() -> None:
    doc = loaded(MD.encode(), "cell.md")
    table = table_of(doc)
    a, b, c = (doc.text.index(s) for s in ("피루브산은 아세틸", "회로에 들어간다", "NADH 세 분자"))
    assert table.same_section("cell.md", [a, b]) and not table.same_section("cell.md", [a, c])
    heads = table.of("cell.md").starts
    chunk = Chunk("cell.md", 0, len(doc.text), doc.text)
    passage = Passage(chunk, 1.0, section_starts=tuple(h for h in heads if h > 0))
    assert passage.same_section([a, b]) and not passage.same_section([a, c])


def test_a_blog_export_is_a_collection_of_posts() -> None:
    chrome = "공유하기\n\n구독하기\n\n"
    text = chrome + "".join(f"{t}\n\n{t}은 긴 본문 문장으로 설명된다. 여러 문장이 이어진다.\n\n{chrome}"
                            for t in ("생성 모델 정리", "트랜스포머 구조", "음성 인식 모델"))
    data = text.encode()
    doc = LoadedDocument("blog.txt", "txt", text, (Page(None, 0, len(text)),), "", hashlib.sha256(data).hexdigest(),
                         len(data))
    from ingest import cleaning

    spans = cleaning.boilerplate_spans(text, frozenset())
    assert spans, "the chrome lines are boilerplate"
    assert document_sections(doc, spans)["collection"] == 1
    single = loaded(MD.encode(), "cell.md")
    assert document_sections(single, [])["collection"] == 0


@pytest.mark.parametrize("offset", [-1, 0])
def test_before_any_heading_there_is_no_section(offset: int) -> None:
    table = SectionTable.from_documents([{"doc": "x", "sections": [[5, 1, "A"]]}])
    assert table.path("x", offset) == () and table.path("unknown", 10) == ()


def test_titles_per_format_are_the_authors(tmp_path) -> None:  # noqa: ANN001
    from ingest.titles import document_title
    from tests.section_notes import TITLES, files

    for name, data in files().items():
        assert document_title(loaded(data, name)) == TITLES[name], name
    front = "---\ntitle: \"신경망 기초 강의\"\ntags: [ml]\n---\n# 1강\n\n퍼셉트론은 선형 분류기다.\n"
    assert document_title(loaded(front.encode(), "nn.md")) == "신경망 기초 강의"
    from pypdf import PdfReader, PdfWriter
    from tests.pdfs import write_text_pdf

    plain = write_text_pdf(tmp_path / "a.pdf", [["Gradient descent notes", "Step size matters a lot in practice."]])
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.add_metadata({"/Title": "Optimisation lecture"})
    with open(tmp_path / "b.pdf", "wb") as fh:
        writer.write(fh)
    assert document_title(loaded((tmp_path / "b.pdf").read_bytes(), "b.pdf")) == "Optimisation lecture"
    assert document_title(loaded(plain.read_bytes(), "a.pdf")) == "Gradient descent notes"
