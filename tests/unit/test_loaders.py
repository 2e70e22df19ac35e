from __future__ import annotations

from pathlib import Path

import pytest

from ingest.encoding import decode_text
from ingest.loaders import load_bytes, load_document
from rag.errors import BadDocument, UnsupportedType
from tests.pdfs import write_text_pdf

KOREAN = "트랜스포머는 어텐션만으로 만든 모델이다.\n인코더와 디코더로 구성된다.\n"


def test_pdf_pages_are_kept_with_their_numbers(tmp_path: Path) -> None:
    pdf = write_text_pdf(tmp_path / "two.pdf", [["First page about YOLO grids."], ["Second page about BERT pretraining."]])
    doc = load_document(pdf, "two.pdf")
    assert doc.type == "pdf"
    assert [p.number for p in doc.pages] == [1, 2]
    first = doc.text[doc.pages[0].start : doc.pages[0].end]
    second = doc.text[doc.pages[1].start : doc.pages[1].end]
    assert "YOLO" in first and "BERT" not in first
    assert "BERT" in second and "YOLO" not in second


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp949", "euc-kr"])
def test_korean_text_encodings_decode_exactly(encoding: str) -> None:
    text, _ = decode_text(KOREAN.encode(encoding))
    assert text == KOREAN


def test_binary_named_txt_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "image.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    with pytest.raises(BadDocument, match="binary"):
        load_document(path, "image.txt")


def test_empty_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "empty.md"
    path.write_bytes(b"")
    with pytest.raises(BadDocument, match="empty"):
        load_document(path, "empty.md")
    path.write_text("  \n\n ")
    with pytest.raises(BadDocument, match="empty"):
        load_document(path, "empty.md")


def test_corrupt_pdf_is_rejected() -> None:
    with pytest.raises(BadDocument, match="PDF"):
        load_bytes("bad.pdf", b"%PDF-1.4\nthis is not really a pdf\n%%EOF", "pdf")


def test_unknown_extension_is_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "notes.xlsx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(UnsupportedType, match="xlsx"):
        load_document(path, "notes.xlsx")


def test_missing_file_is_a_bad_document(tmp_path: Path) -> None:
    with pytest.raises(BadDocument, match="not found"):
        load_document(tmp_path / "gone.txt", "gone.txt")


def test_html_text_and_title() -> None:
    html = "<html><head><title>GAN 정리</title><script>var x=1</script></head><body><h1>GAN</h1><p>생성자와 판별자가 경쟁한다.</p></body></html>"
    doc = load_bytes("gan.html", html.encode("utf-8"), "html")
    assert doc.title == "GAN 정리"
    assert "생성자와 판별자" in doc.text and "var x" not in doc.text
