"""Document ids are Unicode-normalised: a note whose file name macOS wrote in NFD is one document,
replaced and deleted by its ordinary (NFC) name over HTTP, never duplicated by a re-upload."""
from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from tests.server import Server, assert_error, build_index, run_server

NAME = "코발트 노트.md"
NFD_NAME = unicodedata.normalize("NFD", NAME)
TEXT = "# 코발트 옵티마이저\n\n코발트 옵티마이저는 2019년에 제안된 최적화 알고리즘이다.\n"
NEW_TEXT = "# 코발트 옵티마이저\n\n코발트 옵티마이저는 기울기의 부호만 보고 학습률을 조절하는 알고리즘이다.\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    settings = build_index(tmp_path_factory.mktemp("unicode-names"))
    (Path(settings.notes_dir) / NFD_NAME).write_text(unicodedata.normalize("NFD", TEXT), encoding="utf-8")
    with run_server(settings) as srv:
        yield srv


@pytest.fixture(scope="module")
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers=server.admin(), timeout=300) as c:
        r = c.post("/reindex")
        assert r.status_code == 200, r.text
        yield c


def _ids(client: httpx.Client) -> list[str]:
    return [d["id"] for d in client.get("/documents").json()["documents"]]


def _files(server: Server) -> list[str]:
    return sorted(p.name for p in server.notes_dir.iterdir() if "코" in unicodedata.normalize("NFC", p.name))


@pytest.mark.slow
def test_nfd_file_name_is_listed_and_replaced_by_its_nfc_name(server: Server, client: httpx.Client) -> None:
    assert NAME in _ids(client) and NFD_NAME not in _ids(client)
    r = client.put(f"/documents/{NAME}", files={"file": (NAME, NEW_TEXT.encode())})
    assert r.status_code == 200, r.text
    assert _ids(client).count(NAME) == 1
    assert _files(server) == [NFD_NAME]  # the file was replaced in place, not written beside it
    answer = client.post("/ask", json={"question": "코발트 옵티마이저는 학습률을 어떻게 조절하나요?"}).json()
    assert NAME in {c["doc"] for c in answer["citations"]}


@pytest.mark.slow
def test_upload_under_the_other_form_is_a_conflict(server: Server, client: httpx.Client) -> None:
    for name in (NAME, NFD_NAME, NAME.replace(" ", " \u200b")):
        r = client.post("/documents", files={"file": (name, TEXT.encode())})
        assert_error(r, 409, mentions="already exists")
    assert _files(server) == [NFD_NAME]
