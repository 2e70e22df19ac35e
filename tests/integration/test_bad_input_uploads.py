"""Hostile and broken uploads against a real server: each one is a clear 4xx, nothing is written
anywhere (inside or outside the notes dir) and the live snapshot stays the same. Covers what
test_api_documents.py does not: content that lies about its type, encrypted PDFs, PDF bombs,
control and unicode names, and the whole tree compared before and after every attempt."""
from __future__ import annotations

import io
import time
import unicodedata
import zlib
from pathlib import Path

import httpx
import pytest

from tests.pdfs import write_text_pdf
from tests.server import Server, assert_error

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)) * 8
OUTSIDE = ("escape.txt", "evil.txt")  # names an escaping upload would create next to the notes dir


def _deflate_repeated(unit: bytes, total: int) -> bytes:
    """zlib of ``unit`` repeated to ``total`` bytes, compressed block by block (never all in memory)."""
    z = zlib.compressobj(6)
    block = unit * (2**20 // len(unit))
    parts = [z.compress(block) for _ in range(total // len(block))]
    return b"".join(parts) + z.flush()


def pdf_bomb(total: int, layers: int) -> bytes:
    """A one-page PDF whose content stream inflates to ``total`` bytes of text operators;
    ``layers`` FlateDecode filters nested (two make a few KB inflate to hundreds of MB)."""
    data = _deflate_repeated(b"(AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA) Tj\n", total)
    for _ in range(layers - 1):
        data = zlib.compress(data, 9)
    filters = "[" + " /FlateDecode" * layers + " ]"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
               b"/Contents 5 0 R >>",
               b"<< /Length %d /Filter %s >>\nstream\n" % (len(data), filters.encode()) + data + b"\nendstream"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def encrypted_pdf(tmp: Path) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=str(write_text_pdf(tmp / "plain.pdf", [["Secret capybara notes."]])))
    writer.encrypt(user_password="s3cret", owner_password="owner")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


SERVER_ENV = {"RAG_MAX_UPLOAD_MB": "1"}  # the server fixture's (tests/integration/conftest.py)
CLIENT_IS_ADMIN = True


def tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under the server's root (notes and index), with size and mtime; the ingest's
    empty lock file is left out (a duplicate is refused under the lock, which may create it)."""
    return {p.relative_to(root).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file() and p.name != ".ingest.lock"}


def state(server: Server, client: httpx.Client) -> tuple[object, ...]:
    root = server.notes_dir.parent
    body = client.get("/documents").json()
    outside = [p for name in OUTSIDE for p in (root.parent / name, root / name, Path("/etc") / name, Path("/") / name)]
    return tree(root), body["snapshot"], len(body["documents"]), [p for p in outside if p.exists()]


def raw_upload(client: httpx.Client, name: str, data: bytes, method: str = "POST",
               path: str = "/documents") -> httpx.Response:
    """A multipart upload written by hand, the file name as raw UTF-8 the way browsers send it
    (httpx would percent-encode control characters, hiding them from the server)."""
    boundary = "----bad-input-boundary-7f3a"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode("utf-8")
    body = head + data + f"\r\n--{boundary}--\r\n".encode()
    return client.request(method, path, content=body,
                          headers={"content-type": f"multipart/form-data; boundary={boundary}"})


def vm_peak_mb(pid: int) -> float:
    """Peak resident memory of a process (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


BAD: list[tuple[str, str, object, int, str, str]] = [
    # (case, file name, content, status, error code, the message mentions)
    ("0 bytes", "empty.txt", b"", 400, "bad_document", "empty"),
    ("0-byte PDF", "empty.pdf", b"", 400, "bad_document", "empty"),
    ("over the limit", "big.md", "가나다라마바사 " * 160_000, 413, "too_large", "1 MB"),
    ("PNG named .txt", "photo.txt", PNG, 400, "bad_document", "PNG"),
    ("ZIP named .md", "slides.md", ZIP, 400, "bad_document", "ZIP"),
    ("PDF named .txt", "paper.txt", "pdf", 400, "bad_document", "PDF"),
    ("HTML page named .md", "lstm.md", "<!DOCTYPE html><html><head><title>LSTM</title></head><body><p>본문</p></body></html>",
     400, "bad_document", "HTML page"),
    ("HTML page named .txt", "lstm.txt", "\ufeff\n<html lang='ko'><body><h1>LSTM</h1></body></html>", 400, "bad_document",
     "HTML page"),
    ("text named .pdf", "fake.pdf", "그냥 텍스트 파일입니다. This is not a PDF at all.", 400, "bad_document", "not a PDF"),
    ("PNG named .pdf", "photo.pdf", PNG, 400, "bad_document", "not a PDF"),
    ("encrypted PDF", "locked.pdf", "encrypted", 400, "bad_document", "encrypted"),
    ("PDF bomb (nested Flate, 3 KB -> 256 MB)", "bomb.pdf", "bomb", 400, "bad_document", "too large when decompressed"),
    ("PDF bomb (15 MB of text operators)", "bomb2.pdf", "bomb2", 400, "bad_document", "too large when decompressed"),
    ("../ in the name", "../escape.txt", "본문", 422, "invalid_input", "file"),
    ("../../ deep", "../../../../etc/evil.txt", "본문", 422, "invalid_input", "file"),
    ("absolute path", "/etc/evil.txt", "본문", 422, "invalid_input", "file"),
    ("NUL in the name", "evil\x00.txt", "본문", 422, "invalid_input", "control"),
    ("tab in the name", "탭\t이름.txt", "본문", 422, "invalid_input", "control"),
    ("DEL in the name", "evil\x7f.txt", "본문", 422, "invalid_input", "control"),
    ("bidi override", "evil\u202etxt.md", "본문", 422, "invalid_input", "control"),
    ("newline in the name", "evil\n.txt", "본문", 422, "invalid_input", "control"),
    ("very long name", "노" * 100 + ".md", "본문", 422, "invalid_input", "longer"),
    ("hidden name", ".env.txt", "본문", 422, "invalid_input", "hidden"),
    ("only a directory", "notes/", "본문", 422, "invalid_input", "file"),
    ("no extension", "README", "본문", 415, "unsupported_type", ""),
    ("existing document", "000_6894a9c6475e8976.txt", "다른 본문이다.", 409, "conflict", "PUT"),
]


def content_of(value: object, tmp: Path) -> bytes:
    if value == "pdf":
        return write_text_pdf(tmp / "paper.pdf", [["A real PDF, misnamed."]]).read_bytes()
    if value == "encrypted":
        return encrypted_pdf(tmp)
    if value == "bomb":
        return pdf_bomb(256 * 2**20, layers=2)
    if value == "bomb2":
        return pdf_bomb(15 * 2**20, layers=1)
    return value.encode("utf-8") if isinstance(value, str) else value  # type: ignore[return-value]


@pytest.mark.slow
@pytest.mark.parametrize(("case", "name", "value", "status", "code", "mentions"), BAD, ids=[b[0] for b in BAD])
def test_bad_upload_is_a_clear_4xx_and_changes_nothing(server: Server, client: httpx.Client, tmp_path: Path, case: str,
                                                       name: str, value: object, status: int, code: str,
                                                       mentions: str) -> None:
    data = content_of(value, tmp_path)
    before, peak = state(server, client), vm_peak_mb(server.process.pid)
    started = time.monotonic()
    r = raw_upload(client, name, data)
    seconds = time.monotonic() - started
    error = assert_error(r, status, code)
    assert mentions.lower() in error["message"].lower(), (case, error)
    assert state(server, client) == before, case  # no file anywhere, same snapshot
    assert seconds < 30, f"{case}: {seconds:.1f}s"
    assert vm_peak_mb(server.process.pid) - peak < 300, case  # a bomb never inflates in memory
    assert client.get("/health").json()["status"] == "ok"


@pytest.mark.slow
def test_put_with_bad_content_keeps_the_old_document(server: Server, client: httpx.Client, tmp_path: Path) -> None:
    doc = "001_ad38356643d53f32.txt"
    before = state(server, client)
    page = "<html><head><title>LSTM 노트</title></head><body>본문</body></html>"
    for name, value, status in ((doc, PNG, 400), (doc, "pdf", 400), (doc, "", 400), ("lstm.html", page, 400)):
        assert_error(client.put(f"/documents/{doc}", files={"file": (name, content_of(value, tmp_path))}), status)
    assert state(server, client) == before


@pytest.mark.slow
def test_unicode_names_are_documents_and_nfd_is_the_same_name(server: Server, client: httpx.Client) -> None:
    name = "딥러닝 노트 📘.md"
    r = client.post("/documents", files={"file": (name, "# 딥러닝 노트\n\n역전파는 기울기를 계산하는 방법이다.\n".encode())})
    assert r.status_code == 201, r.text
    assert (server.notes_dir / name).is_file() and r.json()["document"] == name
    nfd = unicodedata.normalize("NFD", name)
    assert nfd != name
    assert_error(client.post("/documents", files={"file": (nfd, b"# other\n\nanother text here\n")}), 409, "conflict")
    assert sorted(p.name for p in server.notes_dir.iterdir() if name[:2] in p.name or nfd[:2] in p.name) == [name]
    assert client.delete(f"/documents/{name}").status_code == 200
    assert not (server.notes_dir / name).exists()


@pytest.mark.slow
def test_a_windows_path_is_reduced_to_its_base_name_inside_the_notes_dir(server: Server, client: httpx.Client) -> None:
    """The multipart parser keeps only what follows the last backslash (old browsers sent full paths)."""
    r = client.post("/documents", files={"file": ("C:\\Users\\me\\winpath.md", "# 윈도\n\n경로가 붙은 이름이다.\n".encode())})
    assert r.status_code == 201, r.text
    assert r.json()["document"] == "winpath.md" and (server.notes_dir / "winpath.md").is_file()
    assert not any(p.name.endswith("winpath.md") for p in server.notes_dir.parent.parent.rglob("*winpath.md")
                   if p.parent != server.notes_dir)
    assert client.delete("/documents/winpath.md").status_code == 200
