"""The eval metrics on small cases computed by hand (ties, nothing relevant, empty answers)."""
from __future__ import annotations

import pytest

from rag.evaluation import metrics as m
from rag.evaluation.runner import metric_groups, read_note_text, text_from_chunks
from rag.types import Chunk

INV_LOG2_3 = 0.6309297535714574  # 1 / log2(3): the gain of rank 2
INV_LOG2_5 = 0.43067655807339306  # 1 / log2(5): the gain of rank 4


# --- relevance by span overlap ------------------------------------------------------------

def test_overlap_is_half_open_and_per_document() -> None:
    span = ("a.txt", 10, 20)
    assert m.overlaps("a.txt", 0, 11, span)  # shares character 10
    assert m.overlaps("a.txt", 19, 40, span)  # shares character 19
    assert m.overlaps("a.txt", 12, 15, span)  # inside
    assert m.overlaps("a.txt", 0, 100, span)  # around
    assert not m.overlaps("a.txt", 0, 10, span)  # ends where the evidence starts
    assert not m.overlaps("a.txt", 20, 30, span)  # starts where the evidence ends
    assert not m.overlaps("b.txt", 12, 15, span)  # same offsets, other document


def test_relevant_to_either_evidence() -> None:
    spans = [("a.txt", 0, 5), ("b.txt", 50, 60)]
    assert m.is_relevant("b.txt", 55, 70, spans)
    assert not m.is_relevant("a.txt", 50, 60, spans)
    assert not m.is_relevant("a.txt", 0, 5, [])


def test_find_spans_every_occurrence() -> None:
    text = "abc XY def XY"
    assert m.find_spans(text, "XY", "d") == [("d", 4, 6), ("d", 11, 13)]
    assert m.find_spans(text, "zz", "d") == []
    assert m.find_spans(text, "", "d") == []
    assert m.find_spans("aaaa", "aa", "d") == [("d", 0, 2), ("d", 2, 4)]  # non-overlapping


# --- ranking metrics ----------------------------------------------------------------------

def test_hit_at_k() -> None:
    rel = [False, True, False]
    assert m.hit_at_k(rel, 1) == 0.0
    assert m.hit_at_k(rel, 2) == 1.0
    assert m.hit_at_k(rel, 5) == 1.0  # k beyond the list
    assert m.hit_at_k([False] * 10, 10) == 0.0  # no relevant chunk
    assert m.hit_at_k([], 5) == 0.0


def test_mrr_counts_the_first_of_tied_relevant_chunks() -> None:
    # Two relevant chunks at ranks 2 and 3 (e.g. equal scores, order as returned): only rank 2 counts.
    assert m.mrr_at_k([False, True, True], 10) == 0.5
    assert m.mrr_at_k([True, True], 10) == 1.0
    assert m.mrr_at_k([False, False, False, True], 3) == 0.0  # relevant only beyond k
    assert m.mrr_at_k([False, False, False, True], 4) == 0.25
    assert m.mrr_at_k([False] * 10, 10) == 0.0
    assert m.first_relevant_rank([False, False, True]) == 3
    assert m.first_relevant_rank([False]) is None


def test_ndcg_binary_gains() -> None:
    # Relevant at ranks 2 and 4, two relevant chunks in the index:
    # DCG = 1/log2(3) + 1/log2(5); IDCG = 1 + 1/log2(3).
    expected = (INV_LOG2_3 + INV_LOG2_5) / (1 + INV_LOG2_3)
    assert m.ndcg_at_k([False, True, False, True], 4, n_relevant=2) == pytest.approx(expected)
    assert expected == pytest.approx(0.650921, abs=1e-6)
    # Rank 4 is cut off at k=3: DCG = 1/log2(3).
    assert m.ndcg_at_k([False, True, False, True], 3, n_relevant=2) == pytest.approx(INV_LOG2_3 / (1 + INV_LOG2_3))
    # Found first, but three relevant chunks exist: IDCG = 1 + 1/log2(3) + 1/log2(4).
    assert m.ndcg_at_k([True, False], 10, n_relevant=3) == pytest.approx(1 / (1 + INV_LOG2_3 + 0.5))
    # The ideal is capped at k: more relevant chunks than k, all k found -> 1.
    assert m.ndcg_at_k([True, True], 2, n_relevant=5) == pytest.approx(1.0)
    # Without n_relevant the retrieved relevant ones are the ideal: [F, T] -> (1/log2 3) / 1.
    assert m.ndcg_at_k([False, True], 10) == pytest.approx(INV_LOG2_3)
    # Nothing relevant.
    assert m.ndcg_at_k([False, False], 10, n_relevant=2) == 0.0
    assert m.ndcg_at_k([False, False], 10, n_relevant=0) == 0.0
    assert m.ndcg_at_k([], 10) == 0.0


def test_recall_over_two_evidences() -> None:
    ev1, ev2 = [("a.txt", 100, 120)], [("b.txt", 0, 30), ("b.txt", 500, 530)]
    both = [ev1, ev2]
    retrieved = [("a.txt", 90, 200), ("c.txt", 0, 50), ("x", 0, 1), ("x", 1, 2), ("x", 2, 3), ("b.txt", 0, 40)]
    assert m.recall_at_k(retrieved, both, 5) == 0.5  # ev2 only at rank 6
    assert m.recall_at_k(retrieved, both, 6) == 1.0
    assert m.recall_at_k([("b.txt", 510, 520)], both, 5) == 0.5  # second occurrence of ev2 counts
    assert m.recall_at_k([("c.txt", 0, 50)], both, 5) == 0.0
    assert m.recall_at_k([], both, 5) == 0.0
    assert m.recall_at_k(retrieved, [], 5) == 0.0


# --- answers ------------------------------------------------------------------------------

def test_normalize_chars() -> None:
    assert m.normalize_chars("  A. b,\n C! ") == "abc"
    assert m.normalize_chars("「구글」·2018년!") == "구글2018년"
    assert m.normalize_chars("x + y = z") == "xyz"  # symbols go too, as in KorQuAD
    assert m.normalize_chars(" .,!? ") == ""


def test_char_f1_hand_computed() -> None:
    assert m.char_f1("구글 2018년", "2018년 구글") == 1.0  # a multiset: order and spaces do not matter
    # 구글이 공개 -> 5 characters, 2 shared with 구글: P = 2/5, R = 1, F1 = 2 * 0.4 / 1.4.
    assert m.char_f1("구글이 공개", "구글") == pytest.approx(0.8 / 1.4)
    # 단일 단계 방식 (6 chars) vs 한 단계 (3 chars): shared 단, 계 -> P = 2/6, R = 2/3, F1 = 4/9.
    assert m.char_f1("단일 단계 방식", "한 단계") == pytest.approx(4 / 9)
    # Repeated characters count at most as often as in the other side: aab vs ab -> P 2/3, R 1.
    assert m.char_f1("aab", "ab") == pytest.approx(0.8)
    assert m.char_f1("WordPiece!", "wordpiece") == 1.0
    assert m.char_f1("xyz", "abc") == 0.0


def test_char_f1_empty_answers() -> None:
    assert m.char_f1("", "구글") == 0.0
    assert m.char_f1("   ", "구글") == 0.0
    assert m.char_f1("?!", "구글") == 0.0  # nothing left after normalisation
    assert m.char_f1("구글", "") == 0.0
    assert m.best_char_f1("", ["구글", "2018"]) == 0.0
    assert m.best_char_f1("구글", []) == 0.0


def test_best_char_f1_takes_the_best_answer_and_ties_are_harmless() -> None:
    assert m.best_char_f1("구글", ["애플", "구글"]) == 1.0
    # Both answers score 2/3 (one shared character of 2 vs 1): the tie gives that value.
    assert m.best_char_f1("ab", ["a", "b"]) == pytest.approx(2 / 3)


def test_keywords() -> None:
    assert m.keywords_present("The Bounding Box stores it [1]", ["bounding box"])
    assert m.keywords_present("2018년 구글이 공개", ["2018", "구글"])
    assert not m.keywords_present("2018년 공개", ["2018", "구글"])
    assert not m.keywords_present("", ["구글"])  # empty answer
    assert m.keyword_recall(["구글 2018", "애플"], [["구글"], ["구글"]]) == 0.5
    assert m.keyword_recall([], []) is None


def test_strip_citation_markers() -> None:
    assert m.strip_citation_markers("BERT는 2018년 [1] 구글 [12].") == "BERT는 2018년  구글 ."
    assert m.strip_citation_markers("[a] [1a]") == "[a] [1a]"


# --- percentiles and means ----------------------------------------------------------------

def test_percentiles() -> None:
    assert m.percentile([1, 2, 3, 4], 50) == 2.5
    assert m.percentile([1, 2, 3, 4], 95) == pytest.approx(3.85)  # index 0.95 * 3 = 2.85
    assert m.percentile([5, 5, 5, 100], 50) == 5.0  # ties
    assert m.percentile([7], 95) == 7.0
    assert m.percentile([], 50) is None
    assert m.mean([]) is None
    assert m.mean([1.0, 0.0]) == 0.5


# --- aggregation of per-item rows ---------------------------------------------------------

def _row(**over: object) -> dict[str, object]:
    row: dict[str, object] = {"id": "x", "type": "factoid", "lang": "ko", "answerable": True, "scored": True,
                              "refused": False, "citations": [], "problems": [], "retrieval_ms": 1.0,
                              "answer_ms": 10.0, "hit@1": 1.0, "hit@3": 1.0, "hit@5": 1.0, "mrr@10": 1.0,
                              "ndcg@10": 1.0, "keywords_ok": True, "char_f1": 0.5}
    row.update(over)
    return row


def test_metric_groups_citations_refusals_and_empty_groups() -> None:
    cit = lambda rel: {"n": 1, "doc": "a", "start": 0, "end": 1, "relevant": rel}  # noqa: E731
    rows = [
        _row(citations=[cit(True), cit(False), cit(True)]),
        _row(**{"hit@1": 0.0, "mrr@10": 0.5}, citations=[cit(False)]),
        _row(refused=True, citations=[], keywords_ok=False, char_f1=0.0, **{"hit@1": 0.0, "mrr@10": 0.0, "hit@3": 0.0,
                                                                          "hit@5": 0.0, "ndcg@10": 0.0}),
        _row(answerable=False, scored=False, type="unanswerable", refused=True),
        _row(answerable=False, scored=False, type="unanswerable", refused=False, citations=[cit(False)]),
    ]
    g = metric_groups(rows, 10)
    assert g["n"] == 5 and g["n_answerable"] == 3 and g["n_scored"] == 3
    assert g["retrieval"]["hit@1"] == pytest.approx(1 / 3, abs=1e-4)  # rounded to 4 places
    assert g["retrieval"]["mrr@10"] == 0.5
    assert g["retrieval"]["recall@5_multi"] is None  # no multi item
    # Citations of answered answerable items: 2 relevant of 4; both answered items cite.
    assert g["citations"] == {"precision": 0.5, "coverage": 1.0}
    assert g["answer"]["keyword_recall"] == pytest.approx(0.6667, abs=1e-4)
    assert g["refusal"] == {"unanswerable_refused": 0.5, "answerable_refused": pytest.approx(0.3333, abs=1e-4)}
    assert g["latency_ms"]["answer_p50"] == 10.0
    only_unanswerable = metric_groups(rows[3:], 10)
    assert "retrieval" not in only_unanswerable and only_unanswerable["refusal"]["answerable_refused"] is None


# --- locating evidence the way ingest loaded the note ---------------------------------------

def test_read_note_text_like_the_loader() -> None:
    assert read_note_text("\ufeff가나\r\n다\r라".encode("utf-8")) == "가나\n다\n라"
    assert read_note_text("한국어 노트".encode("cp949")) == "한국어 노트"


def test_text_from_chunks_keeps_offsets() -> None:
    chunks = [Chunk("d", 0, 5, "hello"), Chunk("d", 3, 9, "lo wor"), Chunk("d", 12, 15, "end")]
    text = text_from_chunks(chunks)
    assert text == "hello wor\x00\x00\x00end"
    assert m.find_spans(text, "o wor", "d") == [("d", 4, 9)]


def test_the_answer_language_is_the_majority_script() -> None:
    assert m.written_in("The generator makes fake samples; 판별자 tells them apart.") == "en"
    assert m.written_in("판별자는 진짜와 가짜 데이터를 구분하고 Generator에 피드백을 준다.") == "ko"
    assert m.written_in("1750 [1]") is None
