"""Document titles: the post or page title, never blog chrome; stored and shown everywhere."""
from __future__ import annotations

import hashlib

import httpx
import pytest

from ingest.loaders import LoadedDocument, Page
from ingest.titles import document_title


def doc(text: str, doc_id: str = "notes/042_abc.txt", kind: str = "txt", title: str = "") -> LoadedDocument:
    data = text.encode()
    return LoadedDocument(doc_id, kind, text, (Page(None, 0, len(text)),), title or text.split("\n")[0],
                          hashlib.sha256(data).hexdigest(), len(data))


@pytest.mark.parametrize(("text", "expected"), [
    ("반응형\n\nObject Detection (객체 탐지)\n\n객체 탐지는 컴퓨터 비전과 관련된 기술로 이미지에서 객체를 찾는다.\n",
     "Object Detection (객체 탐지)"),
    ("# GAN 정리\n\nGAN은 생성자와 판별자로 이루어진다.\n", "GAN 정리"),
    ("✅7배 이상 증가, 정말 대단하다\n\nYOLO 요약\n\nYOLO는 단일 단계 방식의 객체 탐지 알고리즘이다. 매우 빠르다.\n", "YOLO 요약"),
    ("1. 시험 환경\n\nUbuntu: 24.04 LTS\n\nJava: 17 설치하기\n", "시험 환경"),  # its post title was lost
    ("transformer 모델의 등장 Attention Is All You Need 2017년 자연어 처리 논문에서 처음 제안된 구조는 강력했다.",
     "transformer 모델의 등장 Attention Is All You…"),  # no heading: its opening words
    ("머신러닝 실습 노트\n\n## 데이터 준비\n\n학습 데이터는 두 폴더로 나눈다.\n", "머신러닝 실습 노트"),
    ("1주 차 - 인공지능이란\nTransformer : Self-Attention으로만 구현된 모델로 Encoder와 Decoder로 구성되어 있다.\n",
     "1주 차 - 인공지능이란"),
    ("\n\n2023.04.03\n\n", "042_abc"),
])
def test_the_title_is_the_authors_first_real_heading_or_line_never_the_stem_where_there_are_words(text: str, expected: str) -> None:
    assert document_title(doc(text)) == expected


def test_chrome_repeated_across_documents_is_no_title() -> None:
    text = "My Study Blog Home\n\nBERT 정리\n\nBERT는 2018년 구글이 공개한 사전 학습된 모델이다. 많이 쓰인다.\n"
    assert document_title(doc(text), repeated={"My Study Blog Home"}) == "BERT 정리"


def test_a_page_title_from_metadata_wins() -> None:
    html_text = "반응형\n\n본문 첫 줄입니다. 내용이 이어진다.\n"
    assert document_title(doc(html_text, "page.html", "html", title="Vision Transformer 정리")) == "Vision Transformer 정리"
    assert document_title(doc(html_text, "page.html", "html", title="반응형")) == "본문 첫 줄입니다"


@pytest.mark.slow
def test_titles_reach_documents_citations_and_openai_sources(tmp_path_factory: pytest.TempPathFactory) -> None:
    from tests.server import build_index, run_server

    with run_server(build_index(tmp_path_factory.mktemp("titles"))) as server, server.client() as c:
        docs = {d["id"]: d["title"] for d in c.get("/documents").json()["documents"]}
        assert docs["000_6894a9c6475e8976.txt"] == "Object Detection (객체 탐지)"
        assert "반응형" not in docs.values() and all(docs.values())
        answer = c.post("/ask", json={"question": "YOLO는 객체 탐지를 몇 단계로 처리하는 알고리즘이야?"}).json()
        assert answer["citations"][0]["title"] == "Object Detection (객체 탐지)"
        assert answer["citations"][0]["doc"] == "000_6894a9c6475e8976.txt"  # the file name stays
        chat = httpx.post(server.url + "/v1/chat/completions", timeout=60,
                          json={"messages": [{"role": "user", "content": "YOLO는 객체 탐지를 몇 단계로 처리하는 알고리즘이야?"}]}).json()
        footer = chat["choices"][0]["message"]["content"].split("Sources:")[1]
        assert chat["sources"] and all(f"[{s['n']}] {s['where']} ({s['doc']})" in footer for s in chat["sources"])
        # note 000 is a blog export (a collection of posts): the post's section leads, the title follows
        assert "[1] YOLO란 — Object Detection (객체 탐지) (000_6894a9c6475e8976.txt)" in footer
