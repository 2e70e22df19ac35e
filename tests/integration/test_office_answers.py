"""A Word, a PowerPoint and a Hangul note ingested with the real notes by the real `rag ingest`
into a real index, then `rag ask` cites each with its section and page (the slide for a deck);
a damaged file among them fails alone with its reason and the others are indexed."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import NOTES
from tests.office_files import docx_bytes, hwpx_bytes, pptx_bytes
from tests.integration.test_cli import rag

pytestmark = pytest.mark.slow

DOCX = docx_bytes([
    ("h1", "오팔 신경망 정리"),
    ("p", "오팔 신경망은 세 개의 층으로 이루어진 작은 신경망이다. 오팔 신경망은 2031년에 소개되었다."),
    ("h2", "오팔 활성화 함수"),
    ("p", "오팔 활성화 함수는 음수 입력을 열 배로 줄이고 양수 입력은 그대로 두는 함수이다. "
          "오팔 활성화 함수는 기울기 소실을 줄인다."),
    ("table", [["설정", "값"], ["오팔 학습률", "0.003"], ["오팔 배치 크기", "64"]]),
    ("h2", "오팔 정규화"),
    ("p", "오팔 정규화는 층마다 평균을 빼고 분산으로 나누는 정규화 방법이다."),
], title="오팔 신경망")
PPTX = pptx_bytes([
    {"title": "토파즈 변환기 개요", "body": ["토파즈 변환기는 문장을 짧은 벡터로 바꾸는 인코더이다."],
     "notes": "첫 슬라이드에서는 개요만 설명한다."},
    {"title": "토파즈 어텐션", "body": ["토파즈 어텐션은 이웃한 토큰 여덟 개만 보는 어텐션이다."],
     "notes": "토파즈 어텐션은 긴 문서에서 메모리를 절반으로 아끼는 방법이라고 강조한다."},
    {"title": "토파즈 학습", "body": ["토파즈 변환기는 대조 학습으로 훈련된다."]},
], title="토파즈 변환기")
HWPX = hwpx_bytes([
    [("h", "가넷 최적화 기법"), ("p", "가넷 최적화 기법은 기울기를 두 번 평균하는 최적화 방법이다.")],
    [("h", "가넷 모멘텀"), ("p", "가넷 모멘텀은 이전 기울기의 절반을 현재 기울기에 더하는 방법이다. "
                               "가넷 모멘텀은 진동을 줄인다.")],
])


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("office")
    notes = root / "notes"
    shutil.copytree(NOTES, notes)
    (notes / "오팔.docx").write_bytes(DOCX)
    (notes / "토파즈.pptx").write_bytes(PPTX)
    (notes / "가넷.hwpx").write_bytes(HWPX)
    (notes / "잘린.docx").write_bytes(DOCX[: len(DOCX) // 2])  # truncated in a download
    (notes / "가짜.docx").write_bytes(PPTX)  # a deck renamed .docx
    out = rag("ingest", "--json", index=root / "index", notes=notes)
    return root / "index", notes, {"rc": out.returncode, "stderr": out.stderr, **json.loads(out.stdout)}


def ask(index: tuple[Path, Path, dict[str, Any]], question: str) -> dict[str, Any]:
    out = rag("ask", question, "--json", index=index[0], notes=index[1])
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert not answer["refused"], answer
    return answer


def test_bad_office_files_fail_alone_with_their_reason(index: tuple[Path, Path, dict[str, Any]]) -> None:
    _, _, summary = index
    assert summary["rc"] == 1 and summary["published"]  # some files failed; the rest is live
    failed = {f["path"]: f["error"] for f in summary["failed"]}
    assert set(failed) == {"잘린.docx", "가짜.docx"}
    assert "truncated ZIP" in failed["잘린.docx"]
    assert "it is a PowerPoint presentation (.pptx)" in failed["가짜.docx"]
    assert "failed: 잘린.docx" in summary["stderr"]
    assert summary["added"] == len(list(NOTES.iterdir())) + 3


def _citations(answer: dict[str, Any], doc: str) -> list[dict[str, Any]]:
    cites = [c for c in answer["citations"] if c["doc"] == doc]
    assert cites, [(c["doc"], c["quote"][:40]) for c in answer["citations"]]
    return cites


def _section_of(cite: dict[str, Any], phrase: str) -> str | None:
    """The section the citation names for its quoted sentence holding ``phrase`` (an answer may
    quote sentences of several sections of one passage: each is named by its own)."""
    spans = [s for s in cite["spans"] if phrase in cite["quote"][s["start"] - cite["start"]:s["end"] - cite["start"]]]
    assert spans, (phrase, cite["spans"], cite["quote"])
    return spans[0]["section"]


def test_docx_is_cited_with_its_heading(index: tuple[Path, Path, dict[str, Any]]) -> None:
    cites = _citations(ask(index, "오팔 활성화 함수는 음수 입력을 어떻게 처리하나요?"), "오팔.docx")
    assert _section_of(cites[0], "열 배로 줄이고") == "오팔 신경망 정리 › 오팔 활성화 함수"  # its heading path
    assert "오팔 신경망 정리 › 오팔 활성화 함수" in cites[0]["section"].split("; ") and cites[0]["page"] is None
    assert cites[0]["title"] == "오팔 신경망" and "열 배로 줄이고" in cites[0]["quote"]


def test_pptx_is_cited_with_its_slide_and_title(index: tuple[Path, Path, dict[str, Any]]) -> None:
    cites = _citations(ask(index, "토파즈 어텐션은 무엇인가요?"), "토파즈.pptx")
    assert (_section_of(cites[0], "이웃한 토큰 여덟 개"), cites[0]["page"]) == ("토파즈 어텐션", 2)
    notes = _citations(ask(index, "토파즈 어텐션은 긴 문서에서 메모리를 얼마나 아끼나요?"), "토파즈.pptx")
    assert any(c["page"] == 2 and "절반" in c["quote"] for c in notes)  # the speaker notes are found on their slide
    for c in notes:  # each quoted sentence of the slide is named by its part: the notes, or the slide's text
        for span in c["spans"]:
            said = c["quote"][span["start"] - c["start"]:span["end"] - c["start"]]
            assert span["section"] == ("토파즈 어텐션 › Speaker notes" if "강조한다" in said else "토파즈 어텐션"), said
    assert all("Speaker notes" not in c["quote"] for c in notes)


def test_hwpx_is_cited_with_its_outline_heading(index: tuple[Path, Path, dict[str, Any]]) -> None:
    cites = _citations(ask(index, "가넷 모멘텀은 무엇을 더하나요?"), "가넷.hwpx")
    assert _section_of(cites[0], "이전 기울기의 절반") == "가넷 모멘텀" and "절반" in cites[0]["quote"]
