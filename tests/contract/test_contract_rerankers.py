"""One test body for every reranker of rag.rerankers.registry.RERANKERS, each a real
implementation: proximity over the notes' index, and a cross-encoder built from a tiny random BERT
(sentence-transformers' ``CrossEncoder`` loading a saved sequence-classification model)."""
from __future__ import annotations

from pathlib import Path

import pytest

from rag.language.glossary import load_glossary
from rag.live import LiveSnapshot
from rag.language.query import analyze
from rag.rerankers.registry import RERANKERS
from rag.retrievers import Hit
from rag.search import Searcher


def tiny_cross_encoder(tmp: Path) -> str:
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from tests.tinymodels import build_tiny_sentence_transformer
    from tests.corpus import NOTES

    texts = [p.read_text(encoding="utf-8") for p in sorted(NOTES.iterdir())]
    base = build_tiny_sentence_transformer(tmp / "bert", [line for t in texts for line in t.splitlines() if line.strip()])
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, num_labels=1, pad_token_id=tokenizer.pad_token_id)
    out = tmp / "cross-encoder"
    BertForSequenceClassification(config).save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    return str(out)


@pytest.fixture(params=sorted(RERANKERS))
def reranker(request: pytest.FixtureRequest, tmp_path: Path):  # noqa: ANN201
    cls = RERANKERS[request.param]
    if request.param == "cross-encoder":
        return cls(tiny_cross_encoder(tmp_path), depth=5)
    return cls(weight=0.01, depth=5)


def test_reranks_the_head_and_keeps_every_hit(reranker, notes_settings) -> None:  # noqa: ANN001
    snap = LiveSnapshot.from_settings(notes_settings).get()
    searcher = Searcher(notes_settings, lambda: snap)
    query = analyze("GAN의 판별자는 무슨 일을 해?", load_glossary())
    hits = [Hit(i, 1.0 / (60 + i)) for i in range(12)]
    out = reranker.rerank(query, hits, snap)
    assert sorted(h.chunk_id for h in out) == list(range(12))  # nothing added or dropped
    assert [h.chunk_id for h in out[5:]] == list(range(5, 12))  # past the depth: untouched, in order
    head = out[:5]
    assert all(a.score >= b.score for a, b in zip(head, head[1:]))  # the head sorted by its new scores
    assert reranker.rerank(query, [], snap) == []
    assert searcher.retrieve("GAN의 판별자는 무슨 일을 해?")[1]  # the searcher runs with its own
