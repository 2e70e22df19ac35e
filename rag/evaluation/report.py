"""Human-readable forms of an eval report: a text table, a Markdown report and a PNG chart.

Everything is rendered in memory first and written last, so a failure leaves no half report.
"""
from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

COLUMNS = ("n", "hit@1", "hit@3", "hit@5", "mrr", "ndcg", "R@5 multi", "kw recall", "char F1",
           "cit prec", "cit cov", "unans ref", "ans ref", "ret p50", "ret p95", "ans p50", "ans p95")


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _row(name: str, g: dict[str, Any], k: int) -> list[str]:
    """One table row from a metric group (the overall report or a by_type/by_lang entry)."""
    ret, ans, cit = g.get("retrieval") or {}, g.get("answer") or {}, g.get("citations") or {}
    ref, lat = g.get("refusal") or {}, g.get("latency_ms") or {}
    values = [g.get("n"), ret.get("hit@1"), ret.get("hit@3"), ret.get("hit@5"), ret.get(f"mrr@{k}"),
              ret.get(f"ndcg@{k}"), ret.get("recall@5_multi"), ans.get("keyword_recall"), ans.get("char_f1"),
              cit.get("precision"), cit.get("coverage"), ref.get("unanswerable_refused"),
              ref.get("answerable_refused")]
    cells = [name] + [_fmt(v) for v in values]
    cells += [_fmt(lat.get(key), 1) for key in ("retrieval_p50", "retrieval_p95", "answer_p50", "answer_p95")]
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
    lines = ["  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(r, widths)))
             for r in rows]
    c = report["config"]
    lines.insert(1, "-" * len(lines[0]))
    lines.append("")
    lines.append(f"{report['n']} questions, retriever {c['retriever']}, k {c['k']}, embedder {c['embedder']}, "
                 f"generator {c['generator']}, snapshot {c['snapshot']}, {c['seconds']} s")
    if report["problems"]:
        lines.append(f"{len(report['problems'])} problem(s), items left out of retrieval/citation metrics:")
        lines += [f"  {p['id']}: {p['problem']}" for p in report["problems"]]
    return "\n".join(lines)


def cell(text: Any) -> str:
    """Text safe inside one Markdown table cell: no raw pipe, newline or HTML."""
    s = "" if text is None else str(text)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = s.replace("\\", "\\\\").replace("|", "\\|")  # backslash first, so a text "\|" stays literal
    return s.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    return out + ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows]


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
            "; ".join(r["problems"])]


def markdown(report: dict[str, Any]) -> str:
    c = report["config"]
    k = c["k"]
    lines = [f"# Evaluation report: {c.get('qa_file') or 'QA set'}", "",
             f"{report['n']} questions ({report['counts']['n_answerable']} answerable, "
             f"{report['counts']['n_unanswerable']} unanswerable) against snapshot `{c['snapshot']}`, "
             f"retriever **{c['retriever']}**, k {k}, embedder `{c['embedder']}`, generator `{c['generator']}`.",
             "", "## Summary", ""]
    lines += _md_table(_header(report), table_rows(report))
    lines += ["", "Retrieval metrics are over answerable items whose evidence was found in the index; "
              "hit/MRR/nDCG count either evidence of a multi item; R@5 multi is the share of both evidences "
              "in the top 5. Keyword recall, char F1 and refusal rates are over all answerable (or unanswerable) "
              "items; citation precision over the citations of answered scored items, coverage over answered "
              "answerable items. Latencies in ms (retrieval: `rag search` with k; answer: the whole `rag ask`). "
              "`-`: no item to average over.", "", "## Configuration", ""]
    lines += _md_table(["setting", "value"], [[key, "-" if v is None else str(v)] for key, v in c.items()])
    lines += ["", "## Problems", ""]
    if report["problems"]:
        lines.append("These answerable items are left out of the retrieval and citation metrics:")
        lines += [""] + _md_table(["id", "problem"], [[p["id"], p["problem"]] for p in report["problems"]])
    else:
        lines.append("None: every evidence was found in the index.")
    lines += ["", "## Questions", "",
              "Retrieved: top 5 of k (✓ overlaps the evidence). Rank: first relevant rank within k. "
              "Cited relevant: citations overlapping the evidence. Refusal passes when an unanswerable item is refused or an answerable one answered.", ""]
    header = ["id", "type", "lang", "question", "retrieved", "answer", "citations", "hit@1", "hit@5", "rank",
              "cited relevant",
              "keywords", "char F1", "refusal", "problems"]
    lines += _md_table(header, [_question_row(r, k) for r in report["items"]])
    return "\n".join(lines) + "\n"


def chart_png(report: dict[str, Any]) -> bytes:
    """Hit@k/MRR/nDCG per language next to the latency percentiles, as PNG bytes."""
    from matplotlib.figure import Figure  # no pyplot: no global state, no display needed

    c = report["config"]
    k = c["k"]
    keys = ["hit@1", "hit@3", "hit@5", f"mrr@{k}", f"ndcg@{k}"]
    series = [("all", report)] + [(f"lang={n}", g) for n, g in report["by_lang"].items()]
    fig = Figure(figsize=(12, 4.8), dpi=100)
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    width = 0.8 / len(series)
    for i, (name, g) in enumerate(series):
        ret = g.get("retrieval") or {}
        values = [ret.get(key) or 0.0 for key in keys]
        xs = [j + (i - (len(series) - 1) / 2) * width for j in range(len(keys))]
        bars = left.bar(xs, values, width, label=f"{name} (n={g.get('counts', g).get('n_scored', '?')})")
        left.bar_label(bars, fmt="%.2f", fontsize=7)
    left.set_xticks(range(len(keys)), keys)
    left.set_ylim(0, 1.2)
    left.set_title("Retrieval (answerable items)")
    left.legend(loc="upper left", ncol=len(series), fontsize=8)
    lat = report["latency_ms"]
    names = ["retrieval p50", "retrieval p95", "answer p50", "answer p95"]
    values = [lat.get(key) or 0.0 for key in ("retrieval_p50", "retrieval_p95", "answer_p50", "answer_p95")]
    bars = right.bar(names, values, color=["#4c72b0", "#4c72b0", "#dd8452", "#dd8452"])
    right.bar_label(bars, fmt="%.1f", fontsize=8)
    positive = [v for v in values if v > 0]
    if positive and min(positive) * 50 < max(positive):  # sub-ms retrieval next to slow answers
        right.set_yscale("log")
    right.set_ylabel("ms")
    right.set_title("Latency")
    right.tick_params(axis="x", labelsize=8)
    fig.suptitle(f"rag eval: {report['n']} questions, retriever {c['retriever']}, embedder {c['embedder']}, "
                 f"generator {c['generator']}", fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def write_report(report: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write report.json, report.md and report.png into ``out_dir`` (created when missing)."""
    out_dir = Path(out_dir)
    contents = {
        "report.json": (json.dumps(report, ensure_ascii=False, indent=2) + "\n").encode("utf-8"),
        "report.md": markdown(report).encode("utf-8"),
        "report.png": chart_png(report),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in contents.items():
        path = out_dir / name
        path.write_bytes(data)
        paths.append(path)
    return paths
