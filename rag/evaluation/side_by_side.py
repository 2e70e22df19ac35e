"""Several QA files evaluated in one run, reported side by side (no differences: the sets differ).

Each file's own report goes to ``OUT/<name>/``; ``OUT/report.md``, ``report.json`` and
``report.png`` put their overall metrics next to each other.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from rag.evaluation import chart
from rag.evaluation import report as one_report
from rag.evaluation.failures import ALL_CLASSES, CLASSES, LABELS, OK
from rag.evaluation.tables import fmt, md_table

# (label, section, key) of the overall metrics shown; "{k}" is the report's retrieval depth.
ROWS = (("n", None, "n"), ("hit@1", "retrieval", "hit@1"), ("hit@5", "retrieval", "hit@5"),
        ("MRR@{k}", "retrieval", "mrr@{k}"), ("nDCG@{k}", "retrieval", "ndcg@{k}"),
        ("keyword recall", "answer", "keyword_recall"), ("char F1", "answer", "char_f1"),
        ("citation precision", "citations", "precision"), ("citation coverage", "citations", "coverage"),
        ("unanswerable refused", "refusal", "unanswerable_refused"),
        ("answerable refused", "refusal", "answerable_refused"),
        ("answer p50 ms", "latency_ms", "answer_p50"), ("answer p95 ms", "latency_ms", "answer_p95"))


def run_names(paths: Sequence[Path]) -> list[str]:
    """A directory name per QA file: its stem, numbered when two files share one."""
    stems = [Path(p).stem or "qa" for p in paths]
    return [s if stems.count(s) == 1 else f"{s}-{i + 1}" for i, s in enumerate(stems)]


def _value(report: dict[str, Any], section: str | None, key: str) -> Any:
    key = key.replace("{k}", str(report["config"]["k"]))
    return report.get(key) if section is None else (report.get(section) or {}).get(key)


def markdown(reports: Sequence[dict[str, Any]], names: Sequence[str]) -> str:
    lines = ["# Evaluation report: several QA files", "",
             "Each QA file side by side (overall metrics; no differences are taken, the item sets differ). "
             "Each file's full report is in its own directory.", ""]
    header = ["metric"] + [f"{n} ({r['config']['qa']['name']})" for n, r in zip(names, reports)]
    rows = [[label.replace("{k}", str(reports[0]["config"]["k"]))]
            + [fmt(_value(r, s, key), 1 if s == "latency_ms" else 3) for r in reports] for label, s, key in ROWS]
    rows += [[f"failures: {LABELS[c]}"] + [fmt(((r.get("failures") or {}).get(c) or {}).get("n")) for r in reports]
             for c in ALL_CLASSES]
    lines += md_table(header, rows)
    lines += ["", "The files ran one after the other in one process: a later file may answer faster "
              "where it repeats questions whose analysis an earlier one left in cache.", "", "## Runs", ""]
    lines += md_table(["directory", "QA file", "items", "summary only", "snapshot", "retriever", "generator"],
                      [[f"{n}/report.md", r["config"]["qa"]["path"], r["n"], r["config"].get("summary_only"),
                        r["config"]["snapshot"], r["config"]["retriever"], r["config"]["generator"]]
                       for n, r in zip(names, reports)])
    return "\n".join(lines) + "\n"


def panels(reports: Sequence[dict[str, Any]], names: Sequence[str]) -> list[chart.Panel]:
    """Retrieval, answers, refusals and failure-class shares, one series per QA file."""
    def series(keys: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
        return [{"name": f"{n} (n={r['n']})", "values": [_value(r, s, k) for s, k in keys]}
                for n, r in zip(names, reports)]

    k = reports[0]["config"]["k"]
    retrieval = [("retrieval", key) for key in ("hit@1", "hit@3", "hit@5", f"mrr@{k}", f"ndcg@{k}")]
    answers = [(s, key) for s, key, _ in chart.ANSWER_KEYS]
    refusals = [("refusal", key) for key, _ in chart.REFUSAL_KEYS]
    shown = [*CLASSES, OK]
    return [
        {"title": "Retrieval (answerable items)", "kind": "bar", "ylim": (0, 1.35), "better": chart.HIGHER,
         "categories": [key for _, key in retrieval], "series": series(retrieval)},
        {"title": "Answers", "kind": "bar", "ylim": (0, 1.35), "better": chart.HIGHER,
         "categories": [label for _, _, label in chart.ANSWER_KEYS], "series": series(answers)},
        {"title": "Refusal rates", "kind": "bar", "ylim": (0, 1.35), "better": chart.REFUSAL_BETTER,
         "categories": [label for _, label in chart.REFUSAL_KEYS], "series": series(refusals)},
        {"title": "Failure classes (share of items)", "kind": "barh", "xlabel": "share of items", "label_kind": "share",
         "better": chart.FEWER, "legend_loc": "lower right",
         "categories": [LABELS[c] for c in shown],
         "series": [{"name": n, "values": [((r.get("failures") or {}).get(c) or {}).get("share") for c in shown]}
                    for n, r in zip(names, reports)]},
    ]


def render(reports: Sequence[dict[str, Any]], names: Sequence[str]) -> dict[str, bytes]:
    """The combined files; each run's own files go under its name (``name/report.md`` ...)."""
    contents = {"report.json": one_report.json_bytes({"runs": [{"name": n, **r} for n, r in zip(names, reports)]}),
                "report.md": markdown(reports, names).encode("utf-8"),
                "report.png": chart.png(chart.draw(panels(reports, names), "rag eval: " + ", ".join(names)))}
    for n, r in zip(names, reports):
        contents.update({f"{n}/{file}": data for file, data in one_report.render(r).items()})
    return contents
