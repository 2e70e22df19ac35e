"""Korean analysis, fusion, the evidence gate and English questions on the real notes."""
from __future__ import annotations

from rag.language.glossary import load_glossary
from rag.language.korean import content_tokens
from rag.live import LiveSnapshot
from rag.language.query import analyze
from rag.retrievers import Hit, rrf_fuse
from rag.search import Searcher


def test_particles_are_split_from_nouns_and_english_terms_kept() -> None:
    tokens = content_tokens("트랜스포머의 인코더는 Self-Attention을 사용하고, BERT는 2018년에 공개되었다.")
    assert "트랜스포머" in tokens and "인코더" in tokens
    assert "self" in tokens and "attention" in tokens and "bert" in tokens
    assert "2018" in tokens
    assert not any(t.endswith(("의", "는", "을", "에")) and len(t) > 1 and t not in {"는"} for t in tokens if t.isalpha() and not t.isascii())


def test_same_noun_with_different_particles_meets() -> None:
    assert set(content_tokens("생성자와 판별자가")) & set(content_tokens("판별자는 생성자를")) >= {"생성자", "판별자"}


def test_rrf_on_hand_made_rankings() -> None:
    dense = [Hit(1, 0.9), Hit(2, 0.8), Hit(3, 0.7)]
    bm25 = [Hit(3, 12.0), Hit(1, 9.0)]
    fused = rrf_fuse({"dense": dense, "bm25": bm25}, {"dense": 1.0, "bm25": 1.0}, k=60)
    scores = {h.chunk_id: h.score for h in fused}
    assert [h.chunk_id for h in fused] == [1, 3, 2]
    assert abs(scores[1] - (1 / 61 + 1 / 62)) < 1e-12 and abs(scores[3] - (1 / 63 + 1 / 61)) < 1e-12
    # a tie is broken by chunk id, and weights shift the order
    tie = rrf_fuse({"a": [Hit(5, 1)], "b": [Hit(4, 1)]}, {}, k=1)
    assert [h.chunk_id for h in tie] == [4, 5]
    weighted = rrf_fuse({"dense": dense, "bm25": bm25}, {"dense": 0.1, "bm25": 1.0}, k=60)
    assert weighted[0].chunk_id == 3


def test_english_terms_expand_to_korean() -> None:
    q = analyze("How does fine-tuning work for a transformer with attention?", load_glossary())
    assert q.lang == "en"
    assert {"트랜스포머", "어텐션"} <= set(q.tokens)
    assert any("파인" in t or "튜닝" in t for t in q.tokens)


def _searcher(settings) -> Searcher:  # noqa: ANN001
    return Searcher(settings, LiveSnapshot.from_settings(settings).get)


def test_gate_answers_the_answerable_and_refuses_the_unanswerable(notes_settings) -> None:
    searcher = _searcher(notes_settings)
    answerable = searcher.run("GAN에서 생성자와 판별자는 각각 무슨 역할을 해?")
    assert not answerable.refused and answerable.evidence >= searcher.gate.threshold_for(semantic=False)
    # With the offline embedder the verdict reads lexical features only: what the notes never
    # mention is less likely answered than what they cover, well below it (with e5 both are
    # refused: tests/integration/test_learned_reader.py)
    for question in ("맘바(Mamba) 상태공간모델의 셀렉티브 스캔 커널은 어떻게 구현돼?", "쿠버네티스 파드 오토스케일링은 어떻게 설정해?"):
        assert searcher.run(question).evidence < answerable.evidence / 2, question


def test_english_questions_find_korean_passages(notes_settings) -> None:
    searcher = _searcher(notes_settings)
    cases = {
        "What are the generator and the discriminator in a GAN?": "판별자",
        "Which company released BERT, and in what year?": "2018",
        "What does the YOLO grid box do in object detection?": "그리드",
    }
    for question, expected in cases.items():
        result = searcher.run(question, k=5)
        assert not result.refused, question
        assert any(expected in p.chunk.text for p in result.passages), question


def test_search_reports_each_retrievers_rank(notes_settings) -> None:
    result = _searcher(notes_settings).run("BERT 사전 학습 데이터", k=5, retriever="hybrid")
    data = result.to_dict()
    assert set(data) >= {"refused", "passages", "timings_ms"}
    top = data["passages"][0]
    assert set(top) == {"doc", "section", "page", "start", "end", "text", "score", "ranks"}
    assert set(top["ranks"]) <= {"dense", "bm25"} and top["ranks"]
    for name in ("dense", "bm25"):
        single = _searcher(notes_settings).run("BERT 사전 학습 데이터", k=5, retriever=name)
        assert all(set(p.ranks) == {name} for p in single.passages)


def test_offline_query_embedding_matches_the_fitted_vectorisers() -> None:
    """The single-query fast path computes exactly what scikit-learn's transform computes."""
    import numpy as np
    import scipy.sparse as sp

    from rag.embedders.base import normalise
    from rag.embedders.offline import OfflineEmbedder
    from rag.language.korean import content_tokens_by_line
    from tests.conftest import NOTES

    texts = [line for p in sorted(NOTES.iterdir()) for line in p.read_text(encoding="utf-8").splitlines() if len(line) > 10]
    embedder = OfflineEmbedder.fit(texts, dim=64)
    for q in ["YOLO는 객체를 어떻게 찾아?", "What is BERT pre-trained on?", "트랜스포머 attention 2017"]:
        x = sp.hstack([embedder.words.transform(content_tokens_by_line([q])), embedder.chars.transform([q])]).tocsr()
        expected = normalise(np.asarray(x.astype(np.float32) @ embedder._projection))[0]
        assert np.allclose(embedder.embed_query(q), expected, atol=1e-5)
    assert not embedder.embed_query("\u2603\u2603").any()  # nothing known: a zero vector, not an error
