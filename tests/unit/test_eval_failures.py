"""Failure classes, comparison and chart panels on hand-made eval rows and reports."""
from __future__ import annotations

import copy

import pytest

from rag.evaluation.aggregate import aggregate
from rag.evaluation.chart import report_figure, report_panels
from rag.evaluation.compare import ComparisonError, check_comparable, compare, direction
from rag.evaluation.compare_report import headline
from rag.evaluation.compare_report import panels as comparison_panels
from rag.evaluation.failures import ALL_CLASSES, CLASSES, classify, count_classes
from rag.evaluation.report import items_jsonl, markdown, summary_text
from rag.evaluation.testset import items_digest

TOP_K = 5


def cit(*evidences: int, relevant: bool | None = None) -> dict[str, object]:
    """A citation overlapping the given evidence indices (relevant when it overlaps any)."""
    return {"n": 1, "doc": "a.txt", "start": 0, "end": 10, "evidences": list(evidences),
            "relevant": bool(evidences) if relevant is None else relevant}


def row(id: str = "x", **over: object) -> dict[str, object]:
    """An answerable factoid, retrieved at rank 1, answered with the evidence cited: ok."""
    r: dict[str, object] = {
        "id": id, "type": "factoid", "lang": "ko", "question": f"question {id}?", "answer": f"answer {id} [1]",
        "answerable": True, "scored": True, "refused": False, "problems": [], "n_evidences": 1,
        "first_relevant_rank": 1, "citations": [cit(0)], "keywords_ok": True, "char_f1": 0.8,
        "retrieved": [], "retrieval_ms": 1.0, "answer_ms": 10.0,
        "hit@1": 1.0, "hit@3": 1.0, "hit@5": 1.0, "mrr@10": 1.0, "ndcg@10": 1.0,
    }
    r.update(over)
    return r


def unanswerable(id: str = "u", **over: object) -> dict[str, object]:
    r = row(id, type="unanswerable", answerable=False, scored=False, n_evidences=0, citations=[], refused=True)
    for key in ("first_relevant_rank", "keywords_ok", "char_f1", "hit@1", "hit@3", "hit@5", "mrr@10", "ndcg@10"):
        r.pop(key)
    r.update(over)
    return r


# One hand-made row per class, and rows on the borders between classes.
CASES = {
    "retrieval_miss": row(first_relevant_rank=None, citations=[cit()], keywords_ok=False),
    "retrieval_miss (beyond what the answerer saw)": row(first_relevant_rank=7, citations=[cit()]),
    "retrieval_miss (and refused)": row(first_relevant_rank=None, refused=True, citations=[], keywords_ok=False),
    "wrong_passage": row(first_relevant_rank=2, citations=[cit(), cit()], keywords_ok=False),
    "wrong_passage (no citation at all)": row(first_relevant_rank=3, citations=[]),
    "wrong_sentences": row(keywords_ok=False),
    "wrong_sentences (multi, both evidences cited)": row(type="multi", n_evidences=2, citations=[cit(0), cit(1)],
                                                         keywords_ok=False),
    "partial_multi": row(type="multi", n_evidences=2, citations=[cit(1), cit()], keywords_ok=False),
    "answerable_refused": row(first_relevant_rank=4, refused=True, citations=[], keywords_ok=False),
    "answerable_refused (evidence not in the index)": row(scored=False, first_relevant_rank=None, refused=True,
                                                          citations=[], problems=["evidence not found"]),
    "unanswerable_answered": unanswerable(refused=False, citations=[cit(relevant=None)], entity_named=["YOLO"]),
    "unanswerable_answered (other entity)": unanswerable(refused=False, entity_named=[]),
    "citation_imprecise": row(citations=[cit(0), cit()]),
    "ok": row(),
    "ok (multi with one evidence cited but every keyword)": row(type="multi", n_evidences=2, citations=[cit(0)]),
    "ok (unanswerable refused)": unanswerable(),
    "unscored": row(scored=False, first_relevant_rank=None, problems=["evidence not found"], citations=[cit()]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_class_on_a_hand_made_row(case: str) -> None:
    cls, detail = classify(CASES[case], TOP_K)
    assert cls == case.split(" ")[0]
    if cls not in ("ok", "unscored"):
        assert detail  # every failure says something about itself


def test_details_name_rank_and_entity() -> None:
    assert classify(CASES["retrieval_miss (beyond what the answerer saw)"], TOP_K)[1] == \
        "evidence first at rank 7 (answerer saw the top 5)"
    assert "rank 2" in classify(CASES["wrong_passage"], TOP_K)[1]
    assert classify(CASES["unanswerable_answered"], TOP_K)[1] == "names the question's entity: YOLO"
    assert classify(CASES["unanswerable_answered (other entity)"], TOP_K)[1] == "does not name the question's entity"
    assert classify(CASES["partial_multi"], TOP_K)[1] == "1 of 2 evidences cited"


def test_classes_are_exclusive_in_the_listed_order() -> None:
    # A row failing in every way at once takes the first class; fixing causes one at a time
    # walks down the list.
    r = row(type="multi", n_evidences=2, first_relevant_rank=None, citations=[cit()], keywords_ok=False)
    assert classify(r, TOP_K)[0] == "retrieval_miss"
    r["first_relevant_rank"] = 2
    assert classify(r, TOP_K)[0] == "wrong_passage"
    r["citations"] = [cit(0), cit(1), cit()]
    assert classify(r, TOP_K)[0] == "wrong_sentences"
    r["citations"] = [cit(0), cit()]
    assert classify(r, TOP_K)[0] == "partial_multi"
    r["keywords_ok"] = True
    assert classify(r, TOP_K)[0] == "citation_imprecise"
    r["citations"] = [cit(0)]
    assert classify(r, TOP_K)[0] == "ok"
    # The same rank is a miss or not depending on how many passages the answerer saw.
    assert classify(row(first_relevant_rank=3), 2)[0] == "retrieval_miss"
    assert classify(row(first_relevant_rank=3), 3)[0] == "ok"
    assert CLASSES == ("retrieval_miss", "wrong_passage", "wrong_sentences", "partial_multi",
                       "answerable_refused", "unanswerable_answered", "citation_imprecise")


def _rows() -> list[dict[str, object]]:
    out = []
    for i, case in enumerate(CASES.values()):
        r = copy.deepcopy(case)
        r["id"] = f"q{i:02d}"
        cls, detail = classify(r, TOP_K)
        r["failure"] = {"class": cls, "detail": detail}
        out.append(r)
    return out


def _report(rows: list[dict[str, object]], summary_only: bool = False, **config: object) -> dict[str, object]:
    ids = [str(r["id"]) for r in rows]
    conf = {"qa_file": "data/qa/set.jsonl", "k": 10, "top_k": TOP_K, "failure_top_k": TOP_K, "retriever": "hybrid",
            "embedder": "offline", "generator": "extractive", "snapshot": "s1", "seconds": 1.0,
            "summary_only": summary_only,
            "qa": {"name": "set.jsonl", "path": "data/qa/set.jsonl", "file_sha256": "f" * 64,
                   "items_sha256": items_digest(ids), "n_items": len(ids)}}
    conf.update(config)
    return aggregate(rows, 10, conf, summary_only=summary_only)


def test_counts_with_ids_and_every_class_present() -> None:
    rows = _rows()
    counts = count_classes(rows)
    assert list(counts) == list(ALL_CLASSES)
    assert sum(c["n"] for c in counts.values()) == len(rows)
    assert counts["retrieval_miss"]["n"] == 3 and counts["retrieval_miss"]["ids"] == ["q00", "q01", "q02"]
    assert counts["partial_multi"]["ids"] == ["q07"]
    assert "ids" not in count_classes(rows, with_ids=False)["ok"]
    report = _report(rows)
    assert report["by_type"]["multi"]["failures"]["partial_multi"] == 1
    assert report["failures"]["unanswerable_answered"]["n"] == 2


def test_markdown_lists_ids_per_class_and_summary_only_hides_every_item() -> None:
    rows = _rows()
    md = markdown(_report(rows))
    table = md.split("## Failure classes", 1)[1].split("## Configuration", 1)[0]
    line = next(x for x in table.splitlines() if x.startswith("| retrieval miss |"))
    assert "| 3 |" in line and "q00, q01, q02" in line
    assert "q10 (named: YOLO)" in table  # the unanswerable answer that named the question's entity
    assert "## Questions" in md
    hidden = _report(copy.deepcopy(rows), summary_only=True)
    assert "items" not in hidden and hidden["problems"] == {"n": 2}
    assert "ids" not in hidden["failures"]["retrieval_miss"]
    for text in (markdown(hidden), summary_text(hidden), str(hidden)):
        assert "q00" not in text and "question q" not in text and "answer q" not in text
    assert "| retrieval miss | 3 |" in markdown(hidden)
    assert items_jsonl([hidden]) == b""


def test_chart_panels_show_the_answer_side() -> None:
    report = _report(_rows())
    panels = {p["title"]: p for p in report_panels(report)}
    assert set(panels) == {"Retrieval (answerable items)", "Latency", "Answers by type", "Answers by language",
                           "Refusal rates by type and language", "Failure classes (items)"}
    answers = panels["Answers by type"]
    assert answers["categories"] == ["keyword recall", "char F1", "citation precision", "citation coverage"]
    names = [s["name"].split(" ")[0] for s in answers["series"]]
    assert names == ["all", "type=factoid", "type=multi"]  # no answer metrics for unanswerable items
    assert answers["series"][0]["values"] == [report["answer"]["keyword_recall"], report["answer"]["char_f1"],
                                              report["citations"]["precision"], report["citations"]["coverage"]]
    refusals = panels["Refusal rates by type and language"]
    assert "lang=ko" in refusals["categories"] and "type=unanswerable" in refusals["categories"]
    assert [s["name"] for s in refusals["series"]] == ["answerable refused (↓ better)", "unanswerable refused (↑ better)"]
    assert refusals["better"] == "better: see the legend"
    assert panels["Latency"]["better"].endswith("lower is better") and answers["better"].endswith("higher is better")
    fails = panels["Failure classes (items)"]
    assert fails["series"][0]["values"][0] == report["failures"]["retrieval_miss"]["n"] == 3

    fig = report_figure(report)  # the drawn figure carries the same titles, ticks and bar heights
    axes = {ax.get_title(): ax for ax in fig.axes if ax.get_visible()}
    assert set(axes) == set(panels)
    ax = axes["Answers by language"]
    assert [t.get_text() for t in ax.get_xticklabels()] == answers["categories"]
    heights = [bar.get_height() for bar in ax.containers[0]]
    assert heights == pytest.approx(answers["series"][0]["values"])
    assert {ax.get_title(loc="right") for ax in axes.values()} == {p["better"] for p in panels.values()}
    ax = axes["Failure classes (items)"]
    assert "retrieval miss" in [t.get_text() for t in ax.get_yticklabels()]
    assert [bar.get_width() for bar in ax.containers[0]] == fails["series"][0]["values"]


def test_comparison_every_metric_moved_items_and_chart() -> None:
    old_rows = _rows()
    new_rows = copy.deepcopy(old_rows)
    ok = next(r for r in new_rows if r["failure"]["class"] == "ok" and r["type"] == "factoid")
    ok.update(first_relevant_rank=None, keywords_ok=False, char_f1=0.0, **{"hit@1": 0.0, "hit@5": 0.0})
    ok["failure"] = {"class": "retrieval_miss", "detail": "evidence not retrieved"}
    fixed = next(r for r in new_rows if r["failure"]["class"] == "wrong_sentences")
    fixed.update(keywords_ok=True)
    fixed["failure"] = {"class": "ok", "detail": ""}
    old, new = _report(old_rows), _report(new_rows, top_k=1)
    comp = compare(old, new, baseline="r1/report.json")
    assert comp["settings_changed"] == [{"setting": "top_k", "old": TOP_K, "new": 1}]
    metrics = {(x["scope"], x["metric"]): x for x in comp["metrics"]}
    miss = metrics[("all", "failures.retrieval_miss")]
    assert (miss["old"], miss["new"], miss["diff"], miss["verdict"]) == (3, 4, 1, "worse")
    hit = metrics[("all", "retrieval.hit@1")]
    assert hit["diff"] == pytest.approx(hit["new"] - hit["old"], abs=1e-4) and hit["verdict"] == "worse"
    assert metrics[("all", "retrieval.hit@3")]["verdict"] == "same"
    assert ("type=factoid", "answer.keyword_recall") in metrics and ("lang=ko", "latency_ms.answer_p50") in metrics
    assert {x["id"]: (x["old"], x["new"], x["verdict"]) for x in comp["changed_items"]} == {
        ok["id"]: ("ok", "retrieval_miss", "worse"), fixed["id"]: ("wrong_sentences", "ok", "better")}
    assert comp["changed_items"][0]["verdict"] == "worse"  # worse first: what to look at
    assert comp["items_summary"] == {"worse": 1, "better": 1, "changed": 0}
    text = "\n".join(headline(comp))
    assert "top_k 5 → 1" in text and "retrieval.hit@1" in text and ok["id"] in text
    panels = {p["title"]: p for p in comparison_panels(comp)}
    overall = panels["Change in overall metrics (this run − baseline)"]
    i = overall["categories"].index("retrieval.hit@1")
    assert overall["series"][0]["values"][i] == hit["diff"] and overall["series"][0]["colors"][i] == "#c44e52"
    new["comparison"] = comp
    md = markdown(new)
    assert md.index("## Comparison with baseline `r1/report.json`") < md.index("## Summary")
    assert "### Items that changed class" in md and "### Every metric" in md


def test_direction_of_metrics() -> None:
    assert direction("retrieval.hit@1") == 1 and direction("refusal.unanswerable_refused") == 1
    assert direction("refusal.answerable_refused") == -1 and direction("latency_ms.answer_p50") == -1
    assert direction("failures.wrong_passage") == -1 and direction("failures.ok") == 1
    assert direction("failures.unscored") == 0


def test_comparison_refuses_other_files_and_item_sets_naming_the_difference() -> None:
    rows = _rows()
    base = _report(rows)
    other_file = _report(copy.deepcopy(rows), qa={**base["config"]["qa"], "name": "blind.jsonl"})
    with pytest.raises(ComparisonError, match="different QA files: the baseline ran 'set.jsonl', this run 'blind.jsonl'"):
        check_comparable(base, other_file)
    fewer = copy.deepcopy(rows[:-1])
    smaller = _report(fewer)
    with pytest.raises(ComparisonError, match=r"baseline 17 items, this run 16 items; only in the baseline: q16"):
        check_comparable(base, smaller)
    renamed = copy.deepcopy(rows)
    renamed[0]["id"] = "z99"
    with pytest.raises(ComparisonError, match="only in the baseline: q00; only in this run: z99"):
        check_comparable(base, _report(renamed))
    hidden = _report(copy.deepcopy(fewer), summary_only=True)
    with pytest.raises(ComparisonError, match="summary-only"):
        check_comparable(base, hidden)
    edited = _report(copy.deepcopy(rows), qa={**base["config"]["qa"], "file_sha256": "e" * 64})
    assert any("edited" in w for w in check_comparable(base, edited))
    both_hidden = compare(_report(copy.deepcopy(rows), summary_only=True), _report(copy.deepcopy(rows), summary_only=True))
    assert both_hidden["changed_items"] is None and all(x["verdict"] == "same" for x in both_hidden["metrics"]
                                                       if x["old"] is not None)


def test_entity_named_matches_whole_latin_words_and_numbers() -> None:
    from rag.evaluation.runner import _mentions, entity_named
    from rag.language.glossary import load_glossary

    assert _mentions("라마 3 (8b, 70b)", "3") and not _mentions("2023년", "3")
    assert _mentions("400b 이상의 모델", "400") and not _mentions("roberta는", "bert")
    assert _mentions("bert는 구글이", "bert") and not _mentions("large-v2", "v")  # one letter never counts
    assert _mentions("트랜스포머의 인코더", "인코더")
    glossary = load_glossary()
    named = entity_named("BERT-base 모델은 인코더 레이어가 몇 개야?", "BERT는 2018년 구글이 공개한 모델이다.", glossary)
    assert "bert" in [n.lower() for n in named]
    assert entity_named("Mistral 7B는 컨텍스트 길이가 몇 토큰이야?", "BERT는 2018년 구글이 공개한 모델이다.", glossary) == []
    assert entity_named("Mistral 7B는 무엇이야?", "", glossary) == []
