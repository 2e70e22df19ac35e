"""The eval report's chart: panels described as plain data, then drawn with matplotlib.

``report_panels`` says what each panel shows (title, categories, series of values) straight
from the report dict; ``draw`` turns any list of panels into a PNG. Keeping the two apart lets
a test read what the chart shows without looking at pixels, and lets the baseline comparison
reuse the drawing.
"""
from __future__ import annotations

import io
import math
from typing import Any, Sequence

from rag.evaluation.failures import CLASSES, LABELS, OK

Panel = dict[str, Any]  # {"title", "kind": "bar"|"barh", "categories", "series": [{"name", "values"}],
#                         "better": which direction is better, drawn at the panel's top right, ...}

# Which way is better, said on every panel: refusal rates of answerable (lower is better) and of
# unanswerable questions (higher is better) sit side by side, and so do rates and latencies.
HIGHER = "↑ higher is better"
LOWER = "↓ lower is better"
FEWER = "fewer is better (ok: more)"

ANSWER_KEYS = (("answer", "keyword_recall", "keyword recall"), ("answer", "char_f1", "char F1"),
               ("citations", "precision", "citation precision"), ("citations", "coverage", "citation coverage"))
REFUSAL_KEYS = (("answerable_refused", "answerable refused (↓ better)"),
                ("unanswerable_refused", "unanswerable refused (↑ better)"))
REFUSAL_BETTER = "better: see the legend"


def _get(group: dict[str, Any], section: str, key: str) -> float | None:
    return (group.get(section) or {}).get(key)


def _answer_panel(title: str, groups: Sequence[tuple[str, dict[str, Any]]]) -> Panel:
    return {"title": title, "kind": "bar", "ylim": (0, 1.35), "better": HIGHER,
            "categories": [label for _, _, label in ANSWER_KEYS],
            "series": [{"name": f"{name} (n={g.get('n_answerable', g.get('counts', {}).get('n_answerable'))})",
                        "values": [_get(g, s, k) for s, k, _ in ANSWER_KEYS]} for name, g in groups]}


def report_panels(report: dict[str, Any]) -> list[Panel]:
    """The six panels of ``report.png``, in reading order (left to right, top to bottom)."""
    k = report["config"]["k"]
    keys = ["hit@1", "hit@3", "hit@5", f"mrr@{k}", f"ndcg@{k}"]
    by_type = [(f"type={n}", g) for n, g in report["by_type"].items() if g.get("n_answerable")]
    by_lang = [(f"lang={n}", g) for n, g in report["by_lang"].items()]
    groups = [("all", report), *[(f"type={n}", g) for n, g in report["by_type"].items()], *by_lang]
    lat = report["latency_ms"]
    failures = report.get("failures") or {}
    shown = [c for c in (*CLASSES, OK)]
    return [
        {"title": "Retrieval (answerable items)", "kind": "bar", "ylim": (0, 1.35), "better": HIGHER,
         "categories": keys,
         "series": [{"name": f"{name} (n={g.get('n_scored', g.get('counts', {}).get('n_scored'))})",
                     "values": [_get(g, "retrieval", key) for key in keys]} for name, g in [("all", report), *by_lang]]},
        {"title": "Latency", "kind": "bar", "ylabel": "ms", "log_if_spread": True, "better": LOWER,
         "categories": ["retrieval p50", "retrieval p95", "answer p50", "answer p95"],
         "series": [{"name": "ms", "values": [lat.get(key) for key in
                                              ("retrieval_p50", "retrieval_p95", "answer_p50", "answer_p95")]}]},
        _answer_panel("Answers by type", [("all", report), *by_type]),
        _answer_panel("Answers by language", [("all", report), *by_lang]),
        {"title": "Refusal rates by type and language", "kind": "bar", "ylim": (0, 1.35), "rotation": 20,
         "better": REFUSAL_BETTER,
         "categories": [name for name, _ in groups],
         "series": [{"name": label, "values": [_get(g, "refusal", key) for _, g in groups]}
                    for key, label in REFUSAL_KEYS]},
        {"title": "Failure classes (items)", "kind": "barh", "xlabel": "items", "better": FEWER,
         "categories": [LABELS[c] for c in shown],
         "series": [{"name": "items", "values": [(failures.get(c) or {}).get("n", 0) for c in shown]}]},
    ]


def _label(value: float | None, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if kind == "diff" and abs(value) < 1e-9:
        return ""  # no change: an unlabelled zero-height bar
    if isinstance(value, int) or float(value).is_integer() and kind == "barh":
        return str(int(value))
    return f"{value:+.3f}" if kind == "diff" else f"{value:.2f}"


def _draw_panel(ax: Any, panel: Panel) -> None:
    series = panel["series"]
    cats = panel["categories"]
    kind = panel["kind"]
    width = 0.8 / len(series)
    for i, s in enumerate(series):
        offset = (i - (len(series) - 1) / 2) * width
        xs = [j + offset for j in range(len(cats))]
        values = [math.nan if v is None else v for v in s["values"]]
        plot = ax.barh if kind == "barh" else ax.bar
        bars = plot(xs, values, width, label=s["name"], color=s.get("colors"))
        ax.bar_label(bars, labels=[_label(v, panel.get("label_kind", kind)) for v in s["values"]], fontsize=7)
    if kind == "barh":
        ax.set_yticks(range(len(cats)), cats, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel(panel.get("xlabel", ""))
        if panel.get("zero_line"):
            ax.axvline(0, color="black", linewidth=0.8)
    else:
        ax.set_xticks(range(len(cats)), cats, fontsize=8, rotation=panel.get("rotation", 0))
        if panel.get("ylim"):
            ax.set_ylim(*panel["ylim"])
        if panel.get("zero_line"):
            ax.axhline(0, color="black", linewidth=0.8)
        ax.set_ylabel(panel.get("ylabel", ""))
        positive = [v for s in series for v in s["values"] if v is not None and v > 0]
        if panel.get("log_if_spread") and positive and min(positive) * 50 < max(positive):
            ax.set_yscale("log")  # sub-ms retrieval next to slow answers
    ax.set_title(panel["title"], fontsize=10)
    if panel.get("better"):  # a second, right-aligned title: get_title() still returns the title alone
        ax.set_title(panel["better"], loc="right", fontsize=7, color="dimgray")
    if len(series) > 1:  # above the bars: rates stop at 1.0, the axis at 1.35
        ax.legend(fontsize=7, loc=panel.get("legend_loc", "upper left"), ncol=min(len(series), 3))


def draw(panels: Sequence[Panel], title: str, columns: int = 2):  # noqa: ANN201 - matplotlib Figure
    """A Figure with one axes per panel (``columns`` per row), titled ``title``."""
    from matplotlib.figure import Figure  # no pyplot: no global state, no display needed

    rows = math.ceil(len(panels) / columns)
    fig = Figure(figsize=(7 * columns, 4.6 * rows), dpi=100)
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax, panel in zip(axes, panels):
        _draw_panel(ax, panel)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def report_figure(report: dict[str, Any]):  # noqa: ANN201 - matplotlib Figure
    c = report["config"]
    return draw(report_panels(report), f"rag eval: {report['n']} questions, retriever {c['retriever']}, "
                                       f"embedder {c['embedder']}, generator {c['generator']}")
