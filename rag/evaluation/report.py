"""Human-readable forms of an eval report: a text table, a Markdown report and a PNG chart.

Everything is rendered in memory first and written last, so a failure leaves no half report.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from rag.evaluation import chart, compare_report
from rag.evaluation.failures import ALL_CLASSES, LABELS
from rag.evaluation.tables import cell, fmt, md_table  # noqa: F401 - cell kept importable from here

COLUMNS = ("n", "hit@1", "hit@3", "hit@5", "mrr", "ndcg", "R@5 multi", "kw recall", "char F1",
           "cit prec", "cit cov", "unans ref", "ans ref", "ret p50", "ret p95", "ans p50", "ans p95")


def _row(name: str, g: dict[str, Any], k: int) -> list[str]:
    """One table row from a metric group (the overall report or a by_type/by_lang entry)."""
    ret, ans, cit = g.get("retrieval") or {}, g.get("answer") or {}, g.get("citations") or {}
    ref, lat = g.get("refusal") or {}, g.get("latency_ms") or {}
    values = [g.get("n"), ret.get("hit@1"), ret.get("hit@3"), ret.get("hit@5"), ret.get(f"mrr@{k}"),
              ret.get(f"ndcg@{k}"), ret.get("recall@5_multi"), ans.get("keyword_recall"), ans.get("char_f1"),
              cit.get("precision"), cit.get("coverage"), ref.get("unanswerable_refused"),
              ref.get("answerable_refused")]
    cells = [name] + [fmt(v) for v in values]
    cells += [fmt(lat.get(key), 1) for key in ("retrieval_p50", "retrieval_p95", "answer_p50", "answer_p95")]
    return cells


def table_rows(report: dict[str, Any]) -> list[list[str]]:
    k = report["config"]["k"]
    rows = [_row("all", report, k)]
    rows += [_row(f"type={name}", g, k) for name, g in report["by_type"].items()]
    rows += [_row(f"lang={name}", g, k) for name, g in report["by_lang"].items()]
    return rows


def _header(report: dict[str, Any]) -> list[str]:
    k = report["config"]["k"]
    return ["group"] + [c.replace("mrr", f"mrr@{k}").replace("ndcg", f"ndcg@{k}") for c in COLUMNS]


def summary_text(report: dict[str, Any]) -> str:
    """The table `rag eval` prints without --json: one row per group, latencies in ms."""
    rows = [_header(report)] + table_rows(report)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(text.rjust(w) if i else text.ljust(w) for i, (text, w) in enumerate(zip(r, widths)))
             for r in rows]
    c = report["config"]
    lines.insert(1, "-" * len(lines[0]))
    lines.append("")
    lines.append(f"{report['n']} questions, retriever {c['retriever']}, k {c['k']}, embedder {c['embedder']}, "
                 f"generator {c['generator']}, snapshot {c['snapshot']}, {c['seconds']} s")
    failures = report.get("failures") or {}
    if failures:
        lines.append("failure classes: " + ", ".join(f"{LABELS[name]} {failures[name]['n']}" for name in ALL_CLASSES
                                                     if name in failures and failures[name]["n"]))
    problems = report["problems"]
    if isinstance(problems, dict):  # summary-only: a count, no ids
        if problems["n"]:
            lines.append(f"{problems['n']} problem(s): evidence not placed in the index (ids not shown: summary only)")
    elif problems:
        lines.append(f"{len(problems)} problem(s), items left out of retrieval/citation metrics:")
        lines += [f"  {p['id']}: {p['problem']}" for p in problems]
    if report.get("comparison"):
        lines += ["", f"Compared with {report['comparison']['baseline']}:"]
        lines += [f"  {line}" for line in compare_report.headline(report["comparison"])]
    return "\n".join(lines)


def _mark(ok: Any) -> str:
    return "-" if ok is None else ("pass" if ok else "FAIL")


def _question_row(r: dict[str, Any], k: int) -> list[str]:
    def where(x: dict[str, Any]) -> str:
        flag = "" if x["relevant"] is None else (" ✓" if x["relevant"] else " ✗")
        return f"{x['doc']}[{x['start']}:{x['end']}]{flag}"

    retrieved = "\n".join(f"{x['rank']}. {where(x)}" for x in r["retrieved"][:5])
    if r["retrieved"][5:]:
        retrieved += f"\n(+{len(r['retrieved']) - 5} more)"
    citations = "\n".join(f"[{c['n']}] {where(c)}" for c in r["citations"])
    refusal_ok = r["refused"] != r["answerable"]
    hit1 = None if "hit@1" not in r else r["hit@1"] > 0
    hit5 = None if "hit@5" not in r else r["hit@5"] > 0
    rank = r.get("first_relevant_rank")
    f1 = r.get("char_f1")
    judged = [c["relevant"] for c in r["citations"] if c["relevant"] is not None]
    precision = f"{sum(judged)}/{len(judged)}" if judged else "-"
    return [r["id"], r["type"], r["lang"], r["question"], retrieved, r["answer"], citations,
            _mark(hit1), _mark(hit5), "-" if not r["scored"] else (str(rank) if rank else "none"), precision,
            _mark(r.get("keywords_ok")), "-" if f1 is None else f"{f1:.2f}", _mark(refusal_ok),
            _failure_cell(r), "; ".join(r["problems"])]


def _failure_cell(r: dict[str, Any]) -> str:
    f = r.get("failure") or {}
    label = LABELS.get(f.get("class", ""), f.get("class", "-"))
    return f"{label}: {f['detail']}" if f.get("detail") else label


CLASS_HELP = {
    "retrieval_miss": "no evidence passage among the passages the answerer saw",
    "wrong_passage": "evidence retrieved, another passage quoted",
    "wrong_sentences": "evidence cited, a keyword missing",
    "partial_multi": "multi item: one of two evidences cited, a keyword missing",
    "answerable_refused": "evidence retrieved (or not placeable), refused",
    "unanswerable_answered": "answered a question the notes do not cover",
    "citation_imprecise": "right answer, some citation off the evidence",
    "ok": "nothing wrong found",
    "unscored": "answered, evidence not in the index: cannot be judged",
}


def _class_ids(report: dict[str, Any], name: str, ids: Sequence[str]) -> str:
    if name != "unanswerable_answered" or "items" not in report:
        return ", ".join(ids)
    detail = {r["id"]: r["failure"]["detail"] for r in report["items"]}
    return ", ".join(f"{i} (named: {detail[i].split(': ', 1)[1]})" if detail[i].startswith("names") else i
                     for i in ids)


def failure_section(report: dict[str, Any]) -> list[str]:
    """The failure-class table: counts and shares, and the item ids unless summary-only."""
    failures = report.get("failures") or {}
    with_ids = not report["config"].get("summary_only")
    lines = ["## Failure classes", "",
             f"Each item is in the first class that fits, in this order (answerer saw the top "
             f"{report['config'].get('failure_top_k', '?')} passages)."
             + ("" if with_ids else " Summary-only run: item ids are not shown."), ""]
    header = ["class", "items", "share", "meaning"] + (["ids"] if with_ids else [])
    rows = []
    for name in ALL_CLASSES:
        entry = failures.get(name) or {"n": 0, "share": None}
        row = [LABELS[name], entry["n"], fmt(entry["share"]), CLASS_HELP[name]]
        if with_ids:
            row.append(_class_ids(report, name, entry.get("ids") or []))
        rows.append(row)
    return lines + md_table(header, rows) + [""]


def markdown(report: dict[str, Any]) -> str:
    """report.md: (comparison with the baseline), summary, failure classes, configuration,
    problems, one row per question; a summary-only report stops before anything per item."""
    c = report["config"]
    k = c["k"]
    lines = [f"# Evaluation report: {c.get('qa_file') or 'QA set'}", "",
             f"{report['n']} questions ({report['counts']['n_answerable']} answerable, "
             f"{report['counts']['n_unanswerable']} unanswerable) against snapshot `{c['snapshot']}`, "
             f"retriever **{c['retriever']}**, k {k}, embedder `{c['embedder']}`, generator `{c['generator']}`.", ""]
    if report.get("comparison"):
        lines += compare_report.markdown_section(report["comparison"])
    lines += ["## Summary", ""]
    lines += md_table(_header(report), table_rows(report))
    lines += ["", "Retrieval metrics are over answerable items whose evidence was found in the index; "
              "hit/MRR/nDCG count either evidence of a multi item; R@5 multi is the share of both evidences "
              "in the top 5. Keyword recall, char F1 and refusal rates are over all answerable (or unanswerable) "
              "items; citation precision over the citations of answered scored items, coverage over answered "
              "answerable items. Latencies in ms (retrieval: `rag search` with k; answer: the whole `rag ask`). "
              "`-`: no item to average over.", ""]
    lines += failure_section(report)
    lines += ["## Configuration", ""]
    shown = {key: v for key, v in c.items() if key != "settings"}
    shown.update({key: v for key, v in (c.get("settings") or {}).items() if key not in shown})
    lines += md_table(["setting", "value"], [[key, "-" if v is None else str(v)] for key, v in shown.items()])
    lines += ["", "## Problems", ""]
    if c.get("summary_only"):
        lines.append(f"{report['problems']['n']} evidence(s) could not be placed in the index. "
                     "Summary-only run: no item, question or answer is shown.")
        return "\n".join(lines) + "\n"
    if report["problems"]:
        lines.append("These answerable items are left out of the retrieval and citation metrics:")
        lines += [""] + md_table(["id", "problem"], [[p["id"], p["problem"]] for p in report["problems"]])
    else:
        lines.append("None: every evidence was found in the index.")
    lines += ["", "## Questions", "",
              "Retrieved: top 5 of k (✓ overlaps the evidence). Rank: first relevant rank within k. "
              "Cited relevant: citations overlapping the evidence. Refusal passes when an unanswerable item is refused or an answerable one answered.", ""]
    header = ["id", "type", "lang", "question", "retrieved", "answer", "citations", "hit@1", "hit@5", "rank",
              "cited relevant",
              "keywords", "char F1", "refusal", "failure class", "problems"]
    lines += md_table(header, [_question_row(r, k) for r in report["items"]])
    return "\n".join(lines) + "\n"


def chart_png(report: dict[str, Any]) -> bytes:
    """Retrieval, latency, answers by type and by language, refusal rates and failure classes."""
    return chart.png(chart.report_figure(report))


def comparison_png(comparison: dict[str, Any]) -> bytes:
    """The differences to the baseline: overall changes, failure classes, changes by group."""
    fig = chart.draw(compare_report.panels(comparison), f"{comparison['qa'].get('name')}: this run vs "
                                                         f"{comparison['baseline']}", columns=2)
    return chart.png(fig)


def json_bytes(obj: Any) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def render(report: dict[str, Any]) -> dict[str, bytes]:
    """File name -> content of one run's report (comparison.png too when compared)."""
    contents = {"report.json": json_bytes(report), "report.md": markdown(report).encode("utf-8"),
                "report.png": chart_png(report)}
    if report.get("comparison"):
        contents["comparison.png"] = comparison_png(report["comparison"])
    return contents


def write_files(contents: dict[str, bytes], out_dir: Path) -> list[Path]:
    """Write already rendered files into ``out_dir`` (created when missing)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in contents.items():
        path = out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        paths.append(path)
    return paths


def write_report(report: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write report.json, report.md and report.png (and comparison.png) into ``out_dir``; a
    comparison.png left by an earlier compared run is removed so it cannot be mistaken."""
    paths = write_files(render(report), out_dir)
    if not report.get("comparison"):
        (Path(out_dir) / "comparison.png").unlink(missing_ok=True)
    return paths


ITEM_FIELDS = ("id", "type", "lang", "question", "answer", "refused", "keywords_ok", "char_f1", "short_answer",
               "first_relevant_rank", "citations", "problems")


def items_jsonl(reports: Sequence[dict[str, Any]]) -> bytes:
    """One JSON line per evaluated item, for reading answers: its QA file, the fields above and
    its failure class and detail. Summary-only reports have no items and add nothing."""
    lines = []
    for report in reports:
        qa = report["config"].get("qa") or {}
        for r in report.get("items") or []:
            row = {"qa_file": qa.get("path"), **{key: r.get(key) for key in ITEM_FIELDS}}
            row["failure"], row["failure_detail"] = r["failure"]["class"], r["failure"]["detail"]
            lines.append(json.dumps(row, ensure_ascii=False) + "\n")
    return "".join(lines).encode("utf-8")
