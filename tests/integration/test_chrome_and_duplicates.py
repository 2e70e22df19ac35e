"""Issue 12, case 1: boilerplate removal never takes a document's content; copies are reported.

Before: any line of 6+ characters seen in two documents was "blog boilerplate", so a second
copy (or a v2 with one line added) left both documents with 0 chunks, and notes sharing a few
sentences lost those lines. Here: real files through the real ingest, then the real server.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from ingest import cleaning
from ingest.pipeline import Ingestor
from rag.snapshots.store import SnapshotStore
from tests.conftest import NOTES
from tests.server import Server, assert_error

ORIGINAL = "004_e1aae2a8d735c15c.txt"
# A note made of short label lines and code, the kind a chrome rule by repetition could erase.
LABELS = (
    "# 합성곱 신경망 요약\n\n"
    "합성곱 계층과 풀링 계층\n필터 크기와 스트라이드\n패딩 방식 비교\n특징 맵 시각화 결과\n"
    "```\nmodel.add(layers.Conv2D(32, (3, 3)))\nmodel.add(layers.MaxPooling2D((2, 2)))\n```\n"
    "합성곱 신경망은 이미지의 지역 패턴을 필터로 찾아낸다.\n"
)


def _ingest(settings, directory: Path | None = None):
    return Ingestor(settings, progress=False).sync(directory)


def _chunks_by_doc(settings) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for c in SnapshotStore(settings.index_dir).open_live().chunks:
        out.setdefault(c.doc, []).append(c.text)
    return out


def test_one_other_document_sharing_lines_never_removes_them() -> None:
    note = (NOTES / ORIGINAL).read_text(encoding="utf-8")
    v2 = note + "\n추가한 한 줄: 실험 로그는 날짜별로 정리한다\n"
    assert cleaning.chrome_lines([note, v2]) == frozenset()
    shared = "트랜스포머 인코더 구조\n셀프 어텐션은 모든 위치를 한 번에 본다.\n"
    a, b = "# 노트 A\n" + shared + "A만의 내용이다.\n", "# 노트 B\n" + shared + "B만의 내용이다.\n"
    assert cleaning.chrome_lines([a, b, "# 노트 C\n전혀 다른 내용이다.\n"]) == frozenset()


def test_versions_of_one_note_count_once() -> None:
    v2 = LABELS + "합성곱 계층의 출력 크기 계산\n"
    v3 = v2 + "배치 정규화 위치\n"
    other = "# 순환 신경망\n\n순환 신경망은 이전 시점의 은닉 상태를 다음 시점에 전달한다.\n"
    assert cleaning.chrome_lines([LABELS, v2, v3, other]) == frozenset()


def test_chrome_repeated_across_most_documents_is_removed_content_is_not() -> None:
    posts = [f"# 글 {i}\n스터디 블로그 | 메인 메뉴\n본문 {i}: 서로 다른 내용의 문장이다.\n"
             f"def f{i}(x): return x\n© 스터디 블로그 Powered by Tistory\n" for i in range(4)]
    chrome = cleaning.chrome_lines([*posts, "# 다른 노트\n공유하지 않는 내용이다.\n"])
    assert chrome == {"스터디 블로그 | 메인 메뉴", "© 스터디 블로그 Powered by Tistory"}
    spans = cleaning.boilerplate_spans(posts[0], chrome)
    dropped = "".join(posts[0][a:b] for a, b in spans)
    assert "메인 메뉴" in dropped and "Powered" in dropped and "본문 0" not in dropped


def test_repetition_never_takes_most_of_a_document() -> None:
    repeated = frozenset({"스터디 블로그 | 메인 메뉴", "오늘의 방문자 통계 보기"})
    text = "스터디 블로그 | 메인 메뉴\n오늘의 방문자 통계 보기\n짧은 본문이다.\n"
    assert cleaning.boilerplate_spans(text, repeated) == []


def test_copy_and_v2_keep_every_document_chunked(make_settings, notes_copy: Path) -> None:
    settings = make_settings()
    _ingest(settings)
    before = _chunks_by_doc(settings)
    # a byte-different copy (CRLF, trailing spaces), a v2 with one added line, and a note sharing sentences
    text = (notes_copy / ORIGINAL).read_text(encoding="utf-8")
    (notes_copy / "000_copy.txt").write_bytes(text.replace("\n", "  \r\n").encode("utf-8"))
    (notes_copy / "v2.txt").write_text(text + "\n추가한 한 줄: 실험 로그는 날짜별로 정리한다.\n", encoding="utf-8")
    lines = [s for s in text.splitlines() if len(s.strip()) > 20][:3]
    (notes_copy / "shares.md").write_text("# 발췌\n\n" + "\n".join(lines) + "\n\n새 노트만의 문장이다.\n", encoding="utf-8")
    summary = _ingest(settings)
    assert summary.published and not summary.failed
    assert summary.duplicates == [{"path": "000_copy.txt", "duplicate_of": ORIGINAL}]
    after = _chunks_by_doc(settings)
    assert "000_copy.txt" not in after and after["v2.txt"] and after["shares.md"]
    for doc, texts in before.items():
        assert after[doc] == texts, doc  # the originals lose nothing and are not re-split


def test_three_versions_in_a_small_corpus_keep_their_lines(make_settings, tmp_path: Path) -> None:
    notes = tmp_path / "small"
    notes.mkdir()
    (notes / "cnn.md").write_text(LABELS, encoding="utf-8")
    (notes / "cnn_v2.md").write_text(LABELS + "합성곱 계층의 출력 크기 계산\n", encoding="utf-8")
    (notes / "cnn_v3.md").write_text(LABELS + "합성곱 계층의 출력 크기 계산\n배치 정규화 위치\n", encoding="utf-8")
    shutil.copy(NOTES / ORIGINAL, notes / ORIGINAL)
    settings = make_settings(notes_dir=notes)
    assert _ingest(settings).published
    chunks = _chunks_by_doc(settings)
    for doc in ("cnn.md", "cnn_v2.md", "cnn_v3.md"):
        joined = "\n".join(chunks[doc])
        assert "필터 크기와 스트라이드" in joined and "model.add(layers.Conv2D" in joined, doc


def test_a_document_left_without_chunks_is_a_failure_not_published(make_settings, notes_copy: Path) -> None:
    settings = make_settings()
    (notes_copy / "chrome_only.md").write_text("반응형\n\n구독하기\nhttps://example.com/post/1\n공유하기\n", encoding="utf-8")
    summary = _ingest(settings)
    failed = {f["path"]: f["error"] for f in summary.failed}
    assert "no indexable text" in failed["chrome_only.md"] and summary.published
    docs = {d["doc"] for d in SnapshotStore(settings.index_dir).open_live().documents}
    assert "chrome_only.md" not in docs and len(docs) == 5


# ---- over HTTP ----------------------------------------------------------------------------
CLIENT_IS_ADMIN = True


def _documents(client: httpx.Client) -> dict[str, int]:
    return {d["id"]: d["chunks"] for d in client.get("/documents").json()["documents"]}


def _cited(client: httpx.Client, question: str) -> set[str]:
    answer = client.post("/ask", json={"question": question}).json()
    assert not answer["refused"], answer
    return {c["doc"] for c in answer["citations"]}


@pytest.mark.slow
def test_uploading_a_copy_is_409_and_a_v2_keeps_both(client: httpx.Client, server: Server) -> None:
    question = "GAN에서 판별자는 무슨 일을 해?"
    before, cited = _documents(client), _cited(client, question)
    source = sorted(cited)[0]
    text = (server.notes_dir / source).read_text(encoding="utf-8")

    error = assert_error(client.post("/documents", files={"file": ("copy_of_note.txt", text.encode())}), 409)
    assert source in error["message"]
    assert _documents(client) == before and not (server.notes_dir / "copy_of_note.txt").exists()

    v2 = text + "\n덧붙인 한 줄: 판별자의 학습률은 생성자보다 낮게 두었다.\n"
    r = client.post("/documents", files={"file": ("v2_note.txt", v2.encode())})
    assert r.status_code == 201, r.text
    after = _documents(client)
    assert after["v2_note.txt"] > 0 and all(after[d] == n for d, n in before.items())
    assert _cited(client, question)  # still answered, from the original or its v2

    # a PUT that turns one note into a copy of another is refused too; the old text stays
    other = next(d for d in before if d != source)
    old_bytes = (server.notes_dir / other).read_bytes()
    assert_error(client.put(f"/documents/{other}", files={"file": (other, text.encode())}), 409)
    assert (server.notes_dir / other).read_bytes() == old_bytes and _documents(client)[other] == before[other]
    assert client.delete("/documents/v2_note.txt").status_code == 200


@pytest.mark.slow
def test_uploading_boilerplate_only_is_400_and_nothing_changes(client: httpx.Client, server: Server) -> None:
    before = _documents(client)
    r = client.post("/documents", files={"file": ("menu.md", "반응형\n\n구독하기\nhttps://example.com\n".encode())})
    assert_error(r, 400, mentions="no indexable text")
    assert _documents(client) == before and not (server.notes_dir / "menu.md").exists()
