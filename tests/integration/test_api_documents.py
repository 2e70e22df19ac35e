"""Maintainers' routes over HTTP: auth, upload/replace/delete/re-index, every error, and that
answers follow the documents (upload-then-ask cites it, delete-then-ask no longer does)."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from ingest.lock import writer_lock
from tests.pdfs import write_text_pdf
from tests.server import ADMIN_TOKEN, Server, assert_error, build_index, run_server

QUOKKA_MD = (
    "# 쿼카 생태 노트\n\n"
    "쿼카는 호주 서부의 로트네스트 섬에 주로 사는 작은 유대류이다. "
    "쿼카는 주로 밤에 활동하며 풀과 나뭇잎을 먹는다.\n\n"
    "## 쿼카의 번식\n\n쿼카는 한 번에 새끼 한 마리를 낳아 주머니에서 기른다.\n"
)
QUOKKA_Q = "쿼카는 어디에 사나요?"


SERVER_ENV = {"RAG_MAX_UPLOAD_MB": "1"}  # the server fixture's (tests/integration/conftest.py)
CLIENT_IS_ADMIN = True


@pytest.fixture()
def anon(server: Server) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


def upload(client: httpx.Client, name: str, data: bytes | str, **kw: object) -> httpx.Response:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return client.post("/documents", files={"file": (name, raw)}, **kw)  # type: ignore[arg-type]


def live(client: httpx.Client) -> tuple[str, list[str]]:
    body = client.get("/documents").json()
    return body["snapshot"], sorted(d["id"] for d in body["documents"])


def cited_docs(client: httpx.Client, question: str) -> set[str]:
    answer = client.post("/ask", json={"question": question}).json()
    return {c["doc"] for c in answer["citations"]}


# ---- auth ---------------------------------------------------------------------------------
WRITES = [("POST", "/documents"), ("PUT", "/documents/000_6894a9c6475e8976.txt"),
          ("DELETE", "/documents/000_6894a9c6475e8976.txt"), ("POST", "/reindex")]


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_writes_need_the_bearer_token(server: Server, anon: httpx.Client, method: str, path: str) -> None:
    files = {"file": ("a.txt", b"hello notes")} if method in ("POST", "PUT") and "documents" in path else None
    before = live(anon)
    for headers in ({}, {"Authorization": "Bearer wrong-token"}, {"Authorization": f"Basic {ADMIN_TOKEN}"},
                    {"Authorization": f"Bearer {ADMIN_TOKEN}x"}):
        r = anon.request(method, path, headers=headers, files=files)
        assert_error(r, 401, "unauthorized")
        assert r.headers["www-authenticate"] == "Bearer"
    assert live(anon) == before
    assert ADMIN_TOKEN not in server.output() and "wrong-token" not in server.output()


def test_writes_are_off_without_a_configured_token(tmp_path: Path) -> None:
    settings = build_index(tmp_path)
    with run_server(settings, admin_token=None) as srv, srv.client() as c:
        for method, path in WRITES:
            files = {"file": ("a.txt", b"hello")} if method in ("POST", "PUT") and "documents" in path else None
            for headers in ({}, {"Authorization": "Bearer anything"}):
                assert_error(c.request(method, path, headers=headers, files=files), 403, "forbidden",
                             mentions="set RAG_ADMIN_TOKEN")
        assert c.get("/documents").status_code == 200 and c.post("/ask", json={"question": "BERT?"}).status_code == 200


# ---- upload, ask, replace, delete ----------------------------------------------------------
def test_upload_then_ask_cites_it_and_delete_then_ask_does_not(client: httpx.Client, server: Server) -> None:
    assert "quokka.md" not in cited_docs(client, QUOKKA_Q)
    snap_before, _ = live(client)
    r = upload(client, "quokka.md", QUOKKA_MD)
    assert r.status_code == 201, r.text
    summary = r.json()
    assert summary["document"] == "quokka.md" and summary["added"] == 1 and summary["published"]
    assert summary["snapshot"] != snap_before and summary["failed"] == []
    assert (server.notes_dir / "quokka.md").read_text(encoding="utf-8") == QUOKKA_MD
    snap, ids = live(client)
    assert snap == summary["snapshot"] and "quokka.md" in ids
    doc = next(d for d in client.get("/documents").json()["documents"] if d["id"] == "quokka.md")
    assert doc["type"] == "md" and doc["title"] == "쿼카 생태 노트" and doc["chunks"] >= 1
    answer = client.post("/ask", json={"question": QUOKKA_Q}).json()
    assert not answer["refused"] and "quokka.md" in {c["doc"] for c in answer["citations"]}
    assert "로트네스트" in answer["answer"]

    r = client.delete("/documents/quokka.md")
    assert r.status_code == 200, r.text
    assert r.json()["removed"] == 1 and r.json()["published"] and r.json()["document"] == "quokka.md"
    assert not (server.notes_dir / "quokka.md").exists()
    assert "quokka.md" not in live(client)[1]
    assert "quokka.md" not in cited_docs(client, QUOKKA_Q)


def test_upload_txt_pdf_and_html(client: httpx.Client, tmp_path: Path) -> None:
    pdf = write_text_pdf(tmp_path / "capybara.pdf", [
        ["Capybara field notes", "The capybara is the largest living rodent."],
        ["Capybaras live near rivers and lakes in South America."],
    ])
    html = "<html><head><title>Axolotl</title></head><body><nav>menu</nav><p>Axolotls can regrow limbs.</p></body></html>"
    for name, data in (("wombat.txt", "웜뱃은 정육면체 모양의 배설물을 남기는 동물이다."), ("capybara.pdf", pdf.read_bytes()),
                       ("axolotl.html", html)):
        r = upload(client, name, data)
        assert r.status_code == 201, (name, r.text)
    docs = {d["id"]: d for d in client.get("/documents").json()["documents"]}
    assert docs["capybara.pdf"]["type"] == "pdf" and docs["capybara.pdf"]["pages"] == 2
    assert docs["axolotl.html"]["type"] == "html" and docs["axolotl.html"]["title"] == "Axolotl"
    answer = client.post("/ask", json={"question": "Where do capybaras live?"}).json()
    pdf_cites = [c for c in answer["citations"] if c["doc"] == "capybara.pdf"]
    assert pdf_cites and pdf_cites[0]["page"] in (1, 2)
    for name in ("wombat.txt", "capybara.pdf", "axolotl.html"):
        assert client.delete(f"/documents/{name}").status_code == 200


def test_put_replaces_the_content(client: httpx.Client) -> None:
    assert upload(client, "otter.md", "# 수달\n\n수달은 강에서 물고기를 잡아먹는 동물이다.\n").status_code == 201
    old_hash = next(d["hash"] for d in client.get("/documents").json()["documents"] if d["id"] == "otter.md")
    r = client.put("/documents/otter.md", files={"file": ("otter.md", "# 수달\n\n수달은 조개를 돌로 깨서 먹는 해달과 다르다.\n".encode())})
    assert r.status_code == 200, r.text
    assert r.json()["updated"] == 1 and r.json()["published"]
    new_hash = next(d["hash"] for d in client.get("/documents").json()["documents"] if d["id"] == "otter.md")
    assert new_hash != old_hash
    answer = client.post("/ask", json={"question": "수달은 조개를 어떻게 먹나요?"}).json()
    quotes = " ".join(c["quote"] for c in answer["citations"] if c["doc"] == "otter.md")
    assert "조개" in quotes and "물고기" not in quotes
    assert client.delete("/documents/otter.md").status_code == 200


def test_reindex_returns_the_summary(client: httpx.Client) -> None:
    snap, ids = live(client)
    r = client.post("/reindex")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["unchanged"] == len(ids) and body["published"] is False and body["snapshot"] == snap


# ---- errors -------------------------------------------------------------------------------
def test_unsupported_type_is_415(client: httpx.Client, server: Server) -> None:
    before = live(client)
    for name in ("notes.xlsx", "notes", "image.png"):
        assert_error(upload(client, name, b"PK\x03\x04 data"), 415, "unsupported_type")
        assert not (server.notes_dir / name).exists()
    assert live(client) == before


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("broken.pdf", b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nthis is not a pdf\n", "PDF"),
    ("empty.txt", b"", "empty"),
    ("blank.md", b"   \n\n  ", "empty"),
    ("binary.txt", bytes(range(256)) * 40, ""),
])
def test_corrupt_upload_is_400_and_the_snapshot_is_unchanged(client: httpx.Client, server: Server, name: str,
                                                             data: bytes, reason: str) -> None:
    before = live(client)
    error = assert_error(upload(client, name, data), 400, "bad_document")
    assert reason in error["message"] and len(error["message"]) > 10
    assert live(client) == before
    assert not (server.notes_dir / name).exists()
    assert not any(p.name.endswith(".tmp") for p in server.notes_dir.iterdir())


def test_upload_over_the_size_limit_is_413(client: httpx.Client, server: Server) -> None:
    before = live(client)
    just_over = ("가나다라 마바사 아자차카.\n" * 80_000).encode()[: int(1.05 * 2**20)]  # 1 MB limit on this server
    assert_error(upload(client, "big.txt", just_over), 413, "too_large", mentions="1 MB")
    way_over = b"a" * (6 * 2**20)
    try:
        r = upload(client, "huge.txt", way_over)
    except httpx.HTTPError as exc:  # the server may close before the client has sent it all
        pytest.fail(f"the server dropped the connection instead of answering 413: {exc!r}")
    assert_error(r, 413, "too_large")
    assert live(client) == before and not (server.notes_dir / "big.txt").exists()


def test_unknown_document_is_404(client: httpx.Client) -> None:
    assert_error(client.put("/documents/nope.md", files={"file": ("nope.md", b"# x\n\nsome text here")}), 404,
                 "not_found")
    assert_error(client.delete("/documents/nope.md"), 404, "not_found")


@pytest.mark.parametrize("name", ["../escape.txt", "/etc/evil.txt", "..\\win.txt", ".hidden.txt", "a" * 250 + ".txt"])
def test_bad_file_names_are_422(client: httpx.Client, server: Server, name: str) -> None:
    assert_error(upload(client, name, "충분히 긴 본문 텍스트입니다."), 422, "invalid_input", mentions="file")
    assert not (server.notes_dir.parent / "escape.txt").exists()


def test_document_ids_cannot_leave_the_notes_dir(client: httpx.Client, server: Server) -> None:
    outside = server.notes_dir.parent / "outside.txt"
    outside.write_text("do not touch", encoding="utf-8")
    r = client.delete("/documents/..%2Foutside.txt")
    assert r.status_code in (404, 422), r.text
    assert outside.read_text(encoding="utf-8") == "do not touch"


def test_duplicate_upload_is_409(client: httpx.Client) -> None:
    assert upload(client, "dup.md", "# 중복\n\n중복 업로드 시험용 문서이다.\n").status_code == 201
    assert_error(upload(client, "dup.md", "# 중복\n\n다른 내용이다.\n"), 409, "conflict", mentions="PUT")
    assert client.delete("/documents/dup.md").status_code == 200


def test_write_while_an_ingest_runs_is_409(client: httpx.Client, server: Server) -> None:
    before = live(client)
    with writer_lock(server.index_dir):  # another process (e.g. `rag ingest`) is writing
        assert_error(upload(client, "locked.md", "# 잠금\n\n잠금 시험 문서이다.\n"), 409, "conflict")
        assert_error(client.post("/reindex"), 409, "conflict")
        assert_error(client.delete("/documents/000_6894a9c6475e8976.txt"), 409, "conflict")
    assert live(client) == before and not (server.notes_dir / "locked.md").exists()


def test_concurrent_uploads_one_at_a_time(client: httpx.Client, server: Server) -> None:
    statuses: dict[str, int] = {}

    def send(i: int) -> None:
        with server.client(headers=server.admin()) as c:
            statuses[f"race{i}.md"] = upload(c, f"race{i}.md", f"# 경주 {i}\n\n동시 업로드 {i}번 문서이다.\n").status_code

    threads = [threading.Thread(target=send, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(statuses.values()) <= {201, 409} and 201 in statuses.values(), statuses
    _, ids = live(client)
    for name, status in statuses.items():
        assert (name in ids) == (status == 201) == (server.notes_dir / name).exists(), (name, status)
        if status == 201:
            assert client.delete(f"/documents/{name}").status_code == 200
