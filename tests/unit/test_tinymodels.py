"""Mechanics of the tiny offline models other tests and benchmarks rely on."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

try:  # tests/ on sys.path (pytest rootdir-less layout) or repo root (tests as a package)
    from tinymodels import CHATML_TEMPLATE, build_tiny_gguf, build_tiny_sentence_transformer
except ImportError:  # pragma: no cover
    from tests.tinymodels import CHATML_TEMPLATE, build_tiny_gguf, build_tiny_sentence_transformer

MESSAGES = [
    {"role": "system", "content": "Answer from the notes and cite them."},
    {"role": "user", "content": "한국어 질문 [1]"},
]

CORPUS = [
    "한국어 문장은 형태소 분석이 어렵다. 객체 탐지는 컴퓨터 비전 기술이다.",
    "YOLO는 단일 단계 방식의 객체 탐지 알고리즘이다.",
    "English sentences are tokenised too, e.g. retrieval augmented generation.",
    "한국어 질문에 답변하려면 노트를 검색한다.",
] * 5


@pytest.fixture(scope="module")
def gguf_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_gguf(tmp_path_factory.mktemp("gguf") / "tiny.gguf")


@pytest.fixture(scope="module")
def llm(gguf_path: Path):
    llama_cpp = pytest.importorskip("llama_cpp")
    return llama_cpp.Llama(model_path=str(gguf_path), n_ctx=512, verbose=False)


@pytest.fixture(scope="module")
def st_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_sentence_transformer(tmp_path_factory.mktemp("st"), CORPUS, dim=32)


def test_gguf_is_small_and_fast(tmp_path: Path) -> None:
    t0 = time.perf_counter()
    p = build_tiny_gguf(tmp_path / "a.gguf")
    assert time.perf_counter() - t0 < 2.0
    assert 200_000 < p.stat().st_size < 2_000_000
    # Same seed -> same bytes; rebuilding in place is fine.
    assert build_tiny_gguf(tmp_path / "a.gguf").read_bytes() == p.read_bytes()


def test_gguf_tokenises_korean(llm) -> None:
    ids = llm.tokenize("한국어 text".encode())
    assert ids and llm.token_bos() == ids[0]
    assert 0 not in ids  # no <unk>: byte fallback covers Hangul
    assert llm.detokenize(ids[1:]).decode().strip() == "한국어 text"


def test_gguf_chat_template_is_chatml(llm) -> None:
    assert llm.metadata["tokenizer.chat_template"] == CHATML_TEMPLATE
    assert llm.metadata["general.architecture"] == "llama"


def test_gguf_chat_completion(llm) -> None:
    out = llm.create_chat_completion(messages=MESSAGES, max_tokens=16)
    content = out["choices"][0]["message"]["content"]
    assert isinstance(content, str)
    assert out["usage"]["prompt_tokens"] > 0


def test_gguf_chat_completion_stream(llm) -> None:
    chunks = list(llm.create_chat_completion(messages=MESSAGES, max_tokens=16, stream=True))
    assert chunks
    assert all("delta" in c["choices"][0] for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert isinstance(text, str)
    assert chunks[-1]["choices"][0]["finish_reason"] in {"stop", "length"}


def test_st_encodes_normalised(st_dir: Path) -> None:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(st_dir), device="cpu")
    emb = model.encode(["한국어 문장", "English", "객체 탐지 알고리즘"])
    assert emb.shape == (3, 32)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(emb[0], emb[1])


def test_st_tokenizer_vocab_and_korean(st_dir: Path) -> None:
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer

    trained = Tokenizer.from_file(str(st_dir / "tokenizer.json")).get_vocab_size()
    tok = SentenceTransformer(str(st_dir), device="cpu").tokenizer
    assert len(tok) == trained > 100
    ids = tok("한국어 문장 객체 탐지")["input_ids"]
    assert ids[0] == tok.cls_token_id and ids[-1] == tok.sep_token_id
    inner = ids[1:-1]
    assert inner and tok.unk_token_id not in inner
    assert tok.convert_ids_to_tokens(inner)[0] == "한국어"
