"""Word, PowerPoint and Hangul uploads through the real server (POST /documents): each type is
validated, indexed and cited; a file whose content is not what its name says, a ZIP that is
none of them, a truncated, password-protected or bomb file is a 4xx with the reason, and nothing
already stored changes."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.office_files import docx_bytes, hwpx_bytes, pptx_bytes
from tests.server import Server, assert_error

pytestmark = pytest.mark.slow

INTRO = " ".join(f"루비 압축기의 {i}번째 설정은 사전 크기를 {i * 64}으로 둔다." for i in range(1, 20))
DOCX = docx_bytes([("h1", "루비 압축기 노트"), ("p", "루비 압축기는 문장을 여덟 비트 코드로 바꾸는 압축기이다. " + INTRO),
                   ("h2", "루비 압축기의 한계"), ("p", "루비 압축기는 숫자가 많은 문장에서 느려지는 단점이 있다.")])
PPTX = pptx_bytes([{"title": "사파이어 검색 소개", "body": ["사파이어 검색은 질문을 두 번 바꿔 쓰는 검색 방법이다."]},
                   {"title": "사파이어 검색 결과", "body": ["사파이어 검색은 정확도를 칠 퍼센트 높였다."],
                    "notes": "사파이어 검색의 결과 표는 부록에 있다."}])
HWPX = hwpx_bytes([[("h", "에메랄드 토크나이저"), ("p", "에메랄드 토크나이저는 형태소를 세 조각으로 나누는 토크나이저이다.")]])


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


SERVER_ENV = {"RAG_MAX_UPLOAD_MB": "2"}  # the server fixture's (tests/integration/conftest.py)
CLIENT_IS_ADMIN = True


def _state(server: Server, client: httpx.Client) -> tuple[object, ...]:
    root: Path = server.notes_dir
    files = sorted((p.relative_to(root).as_posix(), p.stat().st_size) for p in root.rglob("*") if p.is_file())
    body = client.get("/documents").json()
    return files, body["snapshot"], sorted(d["id"] for d in body["documents"])


def _ask(client: httpx.Client, question: str, doc: str) -> list[dict]:
    answer = client.post("/ask", json={"question": question}).json()
    cites = [c for c in answer["citations"] if c["doc"] == doc]
    assert cites, answer
    return cites


def test_each_office_type_uploads_and_is_cited(server: Server, client: httpx.Client) -> None:
    for name, data in (("루비.docx", DOCX), ("사파이어.pptx", PPTX), ("에메랄드.hwpx", HWPX)):
        r = client.post("/documents", files={"file": (name, data)})
        assert r.status_code == 201, r.text
        assert r.json()["document"] == name and (server.notes_dir / name).read_bytes() == data
    docs = {d["id"]: d for d in client.get("/documents").json()["documents"]}
    assert {docs[n]["type"] for n in ("루비.docx", "사파이어.pptx", "에메랄드.hwpx")} == {"docx", "pptx", "hwpx"}
    assert (docs["사파이어.pptx"]["pages"], docs["루비.docx"]["pages"]) == (2, None)  # slides count as pages
    cite = _ask(client, "루비 압축기의 단점은 무엇인가요?", "루비.docx")[0]
    assert _section_of(cite, "느려지는 단점") == "루비 압축기의 한계"
    cite = _ask(client, "사파이어 검색은 정확도를 얼마나 높였나요?", "사파이어.pptx")[0]
    assert (_section_of(cite, "칠 퍼센트"), cite["page"]) == ("사파이어 검색 결과", 2)
    cite = _ask(client, "에메랄드 토크나이저는 형태소를 어떻게 나누나요?", "에메랄드.hwpx")[0]
    assert _section_of(cite, "세 조각으로") == "에메랄드 토크나이저"


def _section_of(cite: dict, phrase: str) -> str | None:
    """The section named for the quoted sentence holding ``phrase``."""
    spans = [s for s in cite["spans"] if phrase in cite["quote"][s["start"] - cite["start"]:s["end"] - cite["start"]]]
    assert spans, (phrase, cite["spans"], cite["quote"])
    return spans[0]["section"]


BOMB = _zip({"mimetype": b"application/hwp+zip", "Contents/section0.xml": b"<a>" + b" " * (20 * 2**20) + b"</a>"})
BAD = [
    ("a ZIP that is none of them", "archive.docx", _zip({"readme.txt": b"hello"}), 400, "unknown kind"),
    ("an Excel workbook named .pptx", "sheet.pptx", _zip({"xl/workbook.xml": b"<w/>"}), 400, "Excel workbook"),
    ("a deck named .docx", "deck.docx", PPTX, 400, "it is a PowerPoint presentation (.pptx)"),
    ("a Word file named .hwpx", "word.hwpx", DOCX, 400, "it is a Word document (.docx)"),
    ("a truncated .docx", "cut.docx", DOCX[: len(DOCX) // 2], 400, "truncated ZIP"),
    ("a truncated .hwpx", "cut.hwpx", HWPX[:-50], 400, "truncated ZIP"),
    ("a password-protected Office file", "locked.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2000), 400,
     "password-protected"),
    ("a zip bomb", "bomb.hwpx", BOMB, 400, "too large when decompressed"),
    ("a .docx with no text", "blank.docx", docx_bytes([("p", " ")]), 400, "empty"),
    ("an unsupported Office type", "sheet.xlsx", _zip({"xl/workbook.xml": b"<w/>"}), 415, "supported: .txt"),
]


@pytest.mark.parametrize(("case", "name", "data", "status", "reason"), BAD, ids=[b[0] for b in BAD])
def test_bad_office_upload_is_a_4xx_with_the_reason_and_changes_nothing(
        server: Server, client: httpx.Client, case: str, name: str, data: bytes, status: int, reason: str) -> None:
    before = _state(server, client)
    r = client.post("/documents", files={"file": (name, data)})
    error = assert_error(r, status)
    assert reason in error["message"], (case, error)
    assert _state(server, client) == before, case
    assert not (server.notes_dir / name).exists()


def test_a_bad_replacement_keeps_the_old_office_document(server: Server, client: httpx.Client) -> None:
    name = "유지.docx"
    assert client.post("/documents", files={"file": (name, docx_bytes([("p", "유지되는 문서의 본문이다. 바꾸려는 파일이 나빠도 이 문서는 그대로 남는다.")]))}).status_code == 201
    before = _state(server, client)
    for data in (PPTX, DOCX[:300]):
        assert_error(client.put(f"/documents/{name}", files={"file": (name, data)}), 400, "bad_document")
    assert _state(server, client) == before
