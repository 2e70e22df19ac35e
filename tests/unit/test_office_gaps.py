"""Office documents lose nothing silently (issue 29): a table python-docx cannot map is read
cell by cell, text boxes and automatic list numbers are kept, XML entities are refused the same
way in .docx, .pptx and .hwpx, and parts left out are named in the ingest summary's warnings.
Every file is built here (tests/office_files.py, then edited as converters write them)."""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from ingest.loaders import load_bytes
from rag.errors import BadDocument
from tests.office_files import docx_bytes, hwpx_bytes, pptx_bytes

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _edit(data: bytes, member: str, edit) -> bytes:  # noqa: ANN001 - str -> str
    """The package with ``member`` rewritten by ``edit`` (other members as they were)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == member:
                body = edit(body.decode("utf-8")).encode("utf-8")
            dst.writestr(info, body)
    return out.getvalue()


def _add(data: bytes, files: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        for name, body in files.items():
            dst.writestr(name, body)
    return out.getvalue()


def test_a_vertical_merge_inside_the_row_above_s_span_is_read_cell_by_cell() -> None:
    data = docx_bytes([("p", "합성곱 신경망의 층 구성을 정리한다."),
                       ("table", [["층", "역할", "출력"], ["풀링층", "다운샘플링", "작은 특징 맵"]]),
                       ("p", "표 다음의 문단도 색인된다.")])

    def merge(xml: str) -> str:
        # row 1: its first cell spans two grid columns; row 2: a vertical merge starts at grid column 1
        rows = re.findall(r"<w:tr[ >].*?</w:tr>", xml, re.S)
        cells = re.findall(r"<w:tc>.*?</w:tc>", rows[0], re.S)
        first = cells[0].replace("<w:tcPr>", '<w:tcPr><w:gridSpan w:val="2"/>', 1)
        row0 = rows[0].replace(cells[0] + cells[1], first)
        cells1 = re.findall(r"<w:tc>.*?</w:tc>", rows[1], re.S)
        second = cells1[1].replace("<w:tcPr>", '<w:tcPr><w:vMerge w:val="restart"/>', 1)
        row1 = rows[1].replace(cells1[1], second)
        return xml.replace(rows[0], row0).replace(rows[1], row1)

    doc = load_bytes("병합.docx", _edit(data, "word/document.xml", merge), "docx")
    assert "풀링층 | 다운샘플링 | 작은 특징 맵" in doc.text
    assert "층" in doc.text and "표 다음의 문단도 색인된다." in doc.text


TEXT_BOX = ('<w:r><w:pict><v:shape xmlns:v="urn:schemas-microsoft-com:vml" style="width:200pt;height:40pt">'
            '<v:textbox><w:txbxContent><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:txbxContent></v:textbox>'
            "</v:shape></w:pict></w:r>")
ALTERNATE = ('<w:r><mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
             '<mc:Choice Requires="wps"><w:drawing><w:txbxContent><w:p><w:r><w:t>{text}</w:t></w:r></w:p>'
             "</w:txbxContent></w:drawing></mc:Choice><mc:Fallback>" + TEXT_BOX.removeprefix("<w:r>").removesuffix("</w:r>")
             + "</mc:Fallback></mc:AlternateContent></w:r>")


def test_text_boxes_are_kept_once() -> None:
    data = docx_bytes([("p", "순환 신경망은 시퀀스를 다룬다."), ("p", "그림 설명")])

    def boxes(xml: str) -> str:
        anchor = xml.index("그림 설명</w:t></w:r>") + len("그림 설명</w:t></w:r>")
        return xml[:anchor] + TEXT_BOX.format(text="상자: 기울기 소실 문제를 LSTM이 완화한다.") \
            + ALTERNATE.format(text="두 번째 상자: 게이트가 정보를 고른다.") + xml[anchor:]

    doc = load_bytes("상자.docx", _edit(data, "word/document.xml", boxes), "docx")
    assert "상자: 기울기 소실 문제를 LSTM이 완화한다." in doc.text
    assert doc.text.count("게이트가 정보를 고른다.") == 1  # the drawing and its VML fallback: one copy
    assert doc.text.index("그림 설명") < doc.text.index("기울기 소실")


def test_automatic_list_numbers_are_written() -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("학습 절차는 다음과 같다.")
    for step in ("데이터를 정규화한다.", "모델을 초기화한다.", "손실을 최소화한다."):
        document.add_paragraph(step, style="List Number")
    document.add_paragraph("요점", style="List Bullet")
    out = io.BytesIO()
    document.save(out)
    doc = load_bytes("절차.docx", out.getvalue(), "docx")
    assert "1. 데이터를 정규화한다.\n2. 모델을 초기화한다.\n3. 손실을 최소화한다." in doc.text
    assert "• 요점" in doc.text


ENTITY_PROLOG = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<!DOCTYPE x [<!ENTITY nm "노트">]>\n'


def _with_dtd(xml: str) -> str:
    return ENTITY_PROLOG + re.sub(r"^<\?xml[^>]*\?>\s*", "", xml)


@pytest.mark.parametrize(("kind", "data", "member"), [
    ("docx", docx_bytes([("p", "드롭아웃은 과적합을 줄인다.")]), "word/document.xml"),
    ("pptx", pptx_bytes([{"title": "정규화", "body": ["배치 정규화는 학습을 안정시킨다."]}]), "ppt/slides/slide1.xml"),
    ("hwpx", hwpx_bytes([[("p", "어텐션은 가중합이다.")]]), "Contents/section0.xml"),
])
def test_xml_entities_are_refused_the_same_way_in_every_format(kind: str, data: bytes, member: str) -> None:
    with pytest.raises(BadDocument) as info:
        load_bytes(f"entity.{kind}", _edit(data, member, _with_dtd), kind)
    assert f"the part '{member}' declares XML entities (a DTD)" in info.value.message


def test_a_missing_part_is_said_in_words() -> None:
    data = hwpx_bytes([[("p", "첫 구역")], [("p", "둘째 구역")]])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename != "Contents/section1.xml":
                dst.writestr(info, src.read(info))
    with pytest.raises(BadDocument) as info:
        load_bytes("빠진.hwpx", out.getvalue(), "hwpx")
    assert "KeyError" not in info.value.message and "missing" in info.value.message, info.value.message


FOOTNOTES = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:footnotes {W}>'
             '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
             '<w:footnote w:id="1"><w:p><w:r><w:t>각주: 원 논문은 2014년에 나왔다.</w:t></w:r></w:p></w:footnote>'
             "</w:footnotes>")


def test_footnotes_left_out_are_named_in_the_ingest_summary(tmp_path: Path, make_settings) -> None:  # noqa: ANN001
    from ingest.pipeline import Ingestor

    data = docx_bytes([("h1", "생성 모델"), ("p", "GAN은 생성자와 판별자로 이루어진다.")])
    data = _edit(data, "[Content_Types].xml", lambda x: x.replace(
        "</Types>", '<Override PartName="/word/footnotes.xml" ContentType="application/vnd.openxmlformats-'
                    'officedocument.wordprocessingml.footnotes+xml"/></Types>'))
    data = _edit(data, "word/_rels/document.xml.rels", lambda x: x.replace(
        "</Relationships>", '<Relationship Id="rIdFn1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                            'relationships/footnotes" Target="footnotes.xml"/></Relationships>'))
    data = _add(data, {"word/footnotes.xml": FOOTNOTES})
    settings = make_settings()
    settings.notes_dir.mkdir(parents=True)
    (settings.notes_dir / "각주.docx").write_bytes(data)
    summary = Ingestor(settings, progress=False).sync()
    assert summary.published and not summary.failed, summary
    assert {"path": "각주.docx", "warning": "1 footnote left out (not indexed)"} in summary.to_dict()["warnings"]
