"""Word, PowerPoint and Hangul files as loaded: text in document order, sections, slides as pages,
speaker notes, tables as rows, Unicode normalised; and every kind of bad file a clear per-file
failure (``BadDocument`` with the reason), never a crash."""
from __future__ import annotations

import io
import unicodedata
import zipfile

import pytest

from ingest.document import TABLE_ROW_LEVEL
from ingest.loaders import load_bytes
from ingest.pptx_loader import NOTES_LABEL
from ingest.splitting import Chunker
from rag.errors import BadDocument
from tests.office_files import docx_bytes, hwpx_bytes, pptx_bytes


def _pos(text: str, *parts: str) -> list[int]:
    found = [text.find(p) for p in parts]
    assert all(i >= 0 for i in found), (parts, text)
    return found


# ---- .docx ---------------------------------------------------------------------------------------
def test_docx_paragraphs_headings_and_tables_in_document_order() -> None:
    data = docx_bytes([
        ("h1", "오팔 신경망 정리"), ("p", "오팔 신경망은 세 개의 층으로 이루어진다."),
        ("table", [["항목", "값"], ["오팔 학습률", "0.003"], ["배치 크기", "64"]]),
        ("p", "표 다음에 오는 문단이다."), ("h2", "오팔 활성화 함수"), ("p", "오팔 활성화 함수는 음수를 줄인다."),
    ], title="오팔 노트")
    doc = load_bytes("오팔.docx", data, "docx")
    assert doc.type == "docx" and doc.title == "오팔 노트" and doc.pages[0].number is None
    a, b, c, d, e = _pos(doc.text, "오팔 신경망은", "항목 | 값", "항목: 오팔 학습률 · 값: 0.003", "표 다음에", "오팔 활성화 함수는")
    assert a < b < c < d < e  # the table stays between the paragraphs around it
    assert [h.title for h in doc.headings] == ["오팔 신경망 정리", "오팔 활성화 함수"]
    assert all(doc.text[h.start:].startswith(h.title) for h in doc.headings)
    assert any(doc.text[x:].startswith("항목 | 값") for x in doc.breaks)  # the table is a chunk boundary
    chunks = Chunker(chunk_size=80, chunk_overlap=10).split(doc, [])
    by_text = {c.section for c in chunks if "오팔 활성화 함수는" in c.text}
    assert by_text == {"오팔 활성화 함수"}


def test_docx_merged_cells_once_and_title_style_is_a_heading() -> None:
    import docx

    document = docx.Document()
    document.add_heading("문서 제목", level=0)  # the "Title" style
    table = document.add_table(rows=2, cols=3)
    table.cell(0, 0).merge(table.cell(0, 2)).text = "합친 칸"
    for i, t in enumerate(("가", "나", "다")):
        table.cell(1, i).text = t
    out = io.BytesIO()
    document.save(out)
    doc = load_bytes("m.docx", out.getvalue(), "docx")
    assert doc.headings[0].title == "문서 제목"
    assert "합친 칸\n가 | 나 | 다" in doc.text and "합친 칸 | 합친 칸" not in doc.text


def test_docx_text_is_unicode_normalised() -> None:
    nfd = unicodedata.normalize("NFD", "역전파는 기울기를 구한다")
    doc = load_bytes("n.docx", docx_bytes([("p", nfd + "\u200b. ＡＤＡＭ은 최적화 기법이다.")]), "docx")
    assert "역전파는 기울기를 구한다. ADAM은" in doc.text and "\u200b" not in doc.text


# ---- .pptx ---------------------------------------------------------------------------------------
DECK = [
    {"title": "토파즈 변환기 개요", "body": ["토파즈 변환기는 문장을 벡터로 바꾼다.", "두 번째 줄이다."],
     "notes": "이 슬라이드에서는 개요만 말한다."},
    {"title": "토파즈 어텐션", "body": ["토파즈 어텐션은 이웃 토큰 여덟 개만 본다."],
     "notes": "토파즈 어텐션은 긴 문서에서 메모리를 아낀다고 강조한다."},
    {"boxes": [(8, "아래 상자의 글이다."), (3, "위 상자의 글이다.")], "table": [["모델", "층"], ["토파즈-S", "6"]],
     "group": ["묶음 첫 줄이다.", "묶음 둘째 줄이다."]},
]


def test_pptx_one_page_per_slide_titles_as_sections_and_notes_after_the_slide() -> None:
    doc = load_bytes("토파즈.pptx", pptx_bytes(DECK, title="토파즈 발표"), "pptx")
    assert doc.type == "pptx" and doc.title == "토파즈 발표"
    assert [p.number for p in doc.pages] == [1, 2, 3]
    assert [h.title for h in doc.headings] == ["토파즈 변환기 개요", "토파즈 어텐션", "Slide 3"]
    assert "Slide 3" not in doc.text  # an untitled slide is named, not given invented text
    page2 = doc.text[doc.pages[1].start:doc.pages[1].end]
    assert page2.startswith("토파즈 어텐션\n토파즈 어텐션은 이웃")
    assert page2.endswith("\n토파즈 어텐션은 긴 문서에서 메모리를 아낀다고 강조한다.")
    assert NOTES_LABEL not in doc.text  # a label is structure: a part of the slide, never quoted text
    notes_at = doc.text.index("토파즈 어텐션은 긴 문서")
    assert [(h.title, h.level) for h in doc.structure if h.start == notes_at] == [(NOTES_LABEL, 2)]
    assert [h.title for h in doc.structure if h.title == NOTES_LABEL] == [NOTES_LABEL] * 2
    assert [h.title for h in doc.structure if h.level == TABLE_ROW_LEVEL] == ["표 1, 1행", "표 1, 2행", ""]  # the table's rows
    chunks = Chunker(chunk_size=80, chunk_overlap=10).split(doc, [])
    notes = [c for c in chunks if "메모리를 아낀다" in c.text]
    assert notes and {(c.page, c.section) for c in notes} == {(2, "토파즈 어텐션")}
    assert {c.page for c in chunks} == {1, 2, 3}


def test_pptx_reading_order_tables_and_groups() -> None:
    doc = load_bytes("order.pptx", pptx_bytes(DECK), "pptx")
    page3 = doc.text[doc.pages[2].start:doc.pages[2].end]
    top, below, table, g1, g2 = _pos(page3, "위 상자", "아래 상자", "모델 | 층\n모델: 토파즈-S · 층: 6", "묶음 첫", "묶음 둘째")
    assert top < below < table < g1 < g2  # by position on the slide, not by the order shapes were added


# ---- .hwpx ---------------------------------------------------------------------------------------
def test_hwpx_sections_in_spine_order_outline_headings_and_tables() -> None:
    data = hwpx_bytes([
        [("h", "가넷 최적화 기법"), ("p", "가넷 최적화 기법은 기울기를 두 번 평균한다."),
         ("table", [["이름", "값"], ["가넷 감쇠", "0.9"]])],
        [("h", "가넷 모멘텀"), ("p", "가넷 모멘텀은 이전 기울기의 절반을 더한다.")],
    ])
    doc = load_bytes("가넷.hwpx", data, "hwpx")
    assert doc.type == "hwpx"
    assert [h.title for h in doc.headings] == ["가넷 최적화 기법", "가넷 모멘텀"]
    a, b, c = _pos(doc.text, "기울기를 두 번", "이름 | 값\n이름: 가넷 감쇠 · 값: 0.9", "이전 기울기의 절반")
    assert a < b < c
    chunks = Chunker(chunk_size=80, chunk_overlap=10).split(doc, [])
    assert {c.section for c in chunks if "절반" in c.text} == {"가넷 모멘텀"}
    reordered = load_bytes("r.hwpx", hwpx_bytes([[("p", "첫 구역의 문단이다.")], [("p", "둘째 구역의 문단이다.")]],
                                                spine=[1, 0]), "hwpx")
    first, second = _pos(reordered.text, "둘째 구역", "첫 구역")
    assert first < second  # content.hpf's spine decides the order, not the file names


def test_hwpx_text_is_unicode_normalised() -> None:
    nfd = unicodedata.normalize("NFD", "한글 문서의 문단")
    doc = load_bytes("u.hwpx", hwpx_bytes([[("p", nfd + "\u200b이다. ２０２４년")]]), "hwpx")
    assert "한글 문서의 문단이다. 2024년" in doc.text


# ---- bad files -----------------------------------------------------------------------------------
def _zip(members: dict[str, bytes], *, compress: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in members.items():
            z.writestr(name, data, compress_type=compress)
    return out.getvalue()


def _bomb(member: str) -> bytes:
    """A ZIP whose one member inflates 50 MB of zeros from about 50 KB."""
    return _zip({"[Content_Types].xml": b"<Types/>", member: b"\0" * (50 * 2**20)})


DOCX = docx_bytes([("p", "멀쩡한 문서이다.")])
PPTX = pptx_bytes([{"title": "멀쩡한 발표", "body": ["본문이다."]}])
HWPX = hwpx_bytes([[("p", "멀쩡한 한글 문서이다.")]])
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)  # what Office writes for a password-protected file
BAD = [
    ("docx", PPTX, "it is a PowerPoint presentation (.pptx)"),
    ("docx", HWPX, "it is a Hangul document (.hwpx)"),
    ("pptx", DOCX, "it is a Word document (.docx)"),
    ("hwpx", DOCX, "it is a Word document (.docx)"),
    ("docx", _zip({"notes.txt": b"hello"}), "ZIP archive of an unknown kind"),
    ("pptx", _zip({"xl/workbook.xml": b"<workbook/>"}), "Excel workbook"),
    ("docx", DOCX[: len(DOCX) // 2], "truncated ZIP"),
    ("pptx", PPTX[:-30], "truncated ZIP"),
    ("hwpx", HWPX[: len(HWPX) // 3], "truncated ZIP"),
    ("docx", OLE, "password-protected"),
    ("pptx", OLE, "password-protected"),
    ("hwpx", OLE, "legacy .doc/.ppt/.hwp"),
    ("docx", b"just some text, not a document", "a ZIP package with word/document.xml expected"),
    ("hwpx", hwpx_bytes([[("p", "틀린 mimetype")]], mimetype=b"application/zip"),
     "unknown kind (an OWPML package (mimetype application/hwp+zip"),
    ("docx", _zip({"mimetype": b"application/vnd.oasis.opendocument.text"}), "an OpenDocument file"),
    ("docx", _bomb("word/document.xml"), "too large when decompressed"),
    ("pptx", _bomb("ppt/presentation.xml"), "too large when decompressed"),
    ("docx", _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<not xml"}), "cannot read it as a Word"),
    ("pptx", _zip({"ppt/presentation.xml": b"<p/>"}), "cannot read it as a PowerPoint"),
    ("docx", docx_bytes([("p", "   ")]), "empty document"),
    ("pptx", pptx_bytes([{}]), "empty document"),
    ("hwpx", hwpx_bytes([[("p", " ")]]), "empty document"),
]


@pytest.mark.parametrize(("kind", "data", "reason"), BAD, ids=[f"{k}:{r}" for k, _, r in BAD])
def test_bad_files_fail_with_their_reason(kind: str, data: bytes, reason: str) -> None:
    with pytest.raises(BadDocument) as err:
        load_bytes(f"bad.{kind}", data, kind)
    assert reason in err.value.message


def test_hwpx_xml_bomb_is_refused_without_expanding() -> None:
    lol = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
           + "".join(f'<!ENTITY lol{i} "{"&lol{};".format(i - 1 if i > 1 else "") * 10}">' for i in range(1, 10))
           + ']><hs:sec xmlns:hs="x"><hp:p xmlns:hp="y"><hp:run><hp:t>&lol9;</hp:t></hp:run></hp:p></hs:sec>')
    good = hwpx_bytes([[("p", "문단")]])
    with zipfile.ZipFile(io.BytesIO(good)) as z:
        members = {n: z.read(n) for n in z.namelist()}
    members["Contents/section0.xml"] = lol.encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), members.pop("mimetype"))
        for name, data in members.items():
            z.writestr(name, data)
    with pytest.raises(BadDocument, match="DTD"):
        load_bytes("bomb.hwpx", out.getvalue(), "hwpx")


def test_an_untitled_first_slide_never_titles_the_deck() -> None:
    from ingest.titles import document_title

    doc = load_bytes("무제.pptx", pptx_bytes([{"boxes": [(2, "상자에 쓴 첫 줄")]}, {"title": "둘째 슬라이드"}]), "pptx")
    assert doc.headings[0].title == "Slide 1" and document_title(doc) != "Slide 1"


def test_pptx_footer_and_slide_number_placeholders_are_left_out() -> None:
    from pptx import Presentation
    from pptx.enum.shapes import PP_PLACEHOLDER

    deck = Presentation()
    for n in (1, 2):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = f"꼬리말 시험 {n}"
        slide.placeholders[1].text_frame.text = f"{n}번 슬라이드의 본문이다."
        for ph in slide.slide_layout.placeholders:
            if ph.placeholder_format.type in (PP_PLACEHOLDER.FOOTER, PP_PLACEHOLDER.SLIDE_NUMBER):
                slide.shapes.clone_placeholder(ph)
        chrome = [s for s in slide.placeholders if s.placeholder_format.type in (PP_PLACEHOLDER.FOOTER,
                                                                                 PP_PLACEHOLDER.SLIDE_NUMBER)]
        assert len(chrome) == 2
        for shape in chrome:
            shape.text_frame.text = "기계학습 강의 2024 봄학기"
    out = io.BytesIO()
    deck.save(out)
    doc = load_bytes("footer.pptx", out.getvalue(), "pptx")
    assert "1번 슬라이드의 본문" in doc.text and "2번 슬라이드의 본문" in doc.text
    assert "봄학기" not in doc.text


def test_hwpx_footnotes_stay_in_their_paragraph_and_text_boxes_are_read() -> None:
    footnote = ('<hp:p id="9" paraPrIDRef="0" styleIDRef="0"><hp:run charPrIDRef="0"><hp:t>가넷 기법은 빠르다.</hp:t>'
                '<hp:ctrl><hp:footNote number="1"><hp:subList><hp:p id="10" paraPrIDRef="0" styleIDRef="0">'
                '<hp:run charPrIDRef="0"><hp:t>2029년 실험 기준</hp:t></hp:run></hp:p></hp:subList></hp:footNote>'
                '</hp:ctrl></hp:run></hp:p>')
    box = ('<hp:p id="11" paraPrIDRef="0" styleIDRef="0"><hp:run charPrIDRef="0"><hp:rect id="12"><hp:drawText>'
           '<hp:subList><hp:p id="13" paraPrIDRef="0" styleIDRef="0"><hp:run charPrIDRef="0">'
           '<hp:t>글상자 안의 설명이다.</hp:t></hp:run></hp:p></hp:subList></hp:drawText></hp:rect></hp:run></hp:p>')
    doc = load_bytes("f.hwpx", hwpx_bytes([[("xml", footnote), ("xml", box), ("p", "마지막 문단이다.")]]), "hwpx")
    a, b, c = _pos(doc.text, "가넷 기법은 빠르다. (2029년 실험 기준)", "글상자 안의 설명이다.", "마지막 문단")
    assert a < b < c and doc.text.count("2029년") == 1
