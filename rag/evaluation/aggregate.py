"""Aggregating eval rows into the report's metric groups: overall, by type, by language.

Every rate has its own denominator (answerable, unanswerable, scored, answered items, or the
citations of answered scored items; for short answers, the factoid items, whose keywords are
their gold short answers); an empty denominator gives None, never 0.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable, Sequence

from rag.evaluation import metrics as m
from rag.evaluation.failures import count_classes
from rag.evaluation.korquad_metrics import short_answer_summary


def _rate(flags: Iterable[bool]) -> float | None:
    values = [1.0 if f else 0.0 for f in flags]
    return _r(m.mean(values))


def _r(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)


def metric_groups(rows: Sequence[dict[str, Any]], k: int) -> dict[str, Any]:
    """The metric groups of the report for any subset of rows; None marks an empty denominator."""
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    scored = [r for r in answerable if r["scored"]]
    answered = [r for r in answerable if not r["refused"]]
    cited = [c for r in answered if r["scored"] for c in r["citations"]]
    out: dict[str, Any] = {
        "n": len(rows), "n_answerable": len(answerable), "n_unanswerable": len(unanswerable),
        "n_scored": len(scored),
    }
    if scored:
        out["retrieval"] = {key: _r(m.mean([r[key] for r in scored]))
                            for key in ("hit@1", "hit@3", "hit@5", f"mrr@{k}", f"ndcg@{k}")}
        out["retrieval"]["recall@5_multi"] = _r(m.mean([r["recall@5"] for r in scored if "recall@5" in r]))
    if answerable:
        out["answer"] = {"keyword_recall": _rate(r["keywords_ok"] for r in answerable),
                         "char_f1": _r(m.mean([r["char_f1"] for r in answerable])),
                         # answered items whose answer is written in the question's language
                         "in_question_language": _rate(r["in_question_language"] for r in answered
                                                       if "in_question_language" in r),
                         # answered items the configured generator wrote (not its quoted fallback)
                         "model_served": _rate(r["model_served"] for r in answered if "model_served" in r),
                         **short_answer_summary((r["short_em"], r["short_f1"], r["short_answer"] is not None)
                                                for r in answerable if "short_em" in r)}
        out["citations"] = {"precision": _rate(c["relevant"] for c in cited),
                            "coverage": _rate(bool(r["citations"]) for r in answered)}
    out["refusal"] = {"unanswerable_refused": _rate(r["refused"] for r in unanswerable),
                      "answerable_refused": _rate(r["refused"] for r in answerable)}
    out["failures"] = {name: entry["n"] for name, entry in count_classes(rows, with_ids=False).items()}
    retrieval_ms, answer_ms = [r["retrieval_ms"] for r in rows], [r["answer_ms"] for r in rows]
    out["latency_ms"] = {"retrieval_p50": _r(m.percentile(retrieval_ms, 50), 2),
                         "retrieval_p95": _r(m.percentile(retrieval_ms, 95), 2),
                         "answer_p50": _r(m.percentile(answer_ms, 50), 2),
                         "answer_p95": _r(m.percentile(answer_ms, 95), 2)}
    return out


def aggregate(rows: Sequence[dict[str, Any]], k: int, config: dict[str, Any],
              summary_only: bool = False) -> dict[str, Any]:
    """The whole report: overall groups (always with every key), then by type and by lang,
    the failure classes with their item ids, and the items; with ``summary_only`` only counts
    (no item, id, question or answer), for blind sets."""
    overall = metric_groups(rows, k)
    empty_retrieval = dict.fromkeys(("hit@1", "hit@3", "hit@5", f"mrr@{k}", f"ndcg@{k}", "recall@5_multi"))
    report: dict[str, Any] = {
        "n": len(rows),
        "counts": {key: overall[key] for key in ("n_answerable", "n_unanswerable", "n_scored")},
        "retrieval": overall.get("retrieval", empty_retrieval),
        "answer": overall.get("answer", {"keyword_recall": None, "char_f1": None, "in_question_language": None,
                                          "model_served": None, **short_answer_summary([])}),
        "citations": overall.get("citations", {"precision": None, "coverage": None}),
        "refusal": overall["refusal"],
        "latency_ms": overall["latency_ms"],
        "failures": count_classes(rows, with_ids=not summary_only),
    }
    for key, field in (("by_type", "type"), ("by_lang", "lang")):
        groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            groups[r[field]].append(r)
        report[key] = {name: metric_groups(group, k) for name, group in sorted(groups.items())}
    report["config"] = config
    if summary_only:
        report["problems"] = {"n": sum(len(r["problems"]) for r in rows)}
        return report
    report["problems"] = [{"id": r["id"], "problem": p} for r in rows for p in r["problems"]]
    report["items"] = list(rows)
    return report
