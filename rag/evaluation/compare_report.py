"""Human-readable forms of a baseline comparison: Markdown section, short text, chart panels."""
from __future__ import annotations

from typing import Any

from rag.evaluation.chart import FEWER, Panel
from rag.evaluation.failures import ALL_CLASSES, LABELS
from rag.evaluation.tables import fmt, md_table

GOOD, BAD, NEUTRAL = "#55a868", "#c44e52", "#8c8c8c"
RATE_SECTIONS = ("retrieval.", "answer.", "citations.", "refusal.")
BY_GROUP = ("answer.keyword_recall", "answer.char_f1", "retrieval.hit@5", "refusal.answerable_refused")


def _overall(comp: dict[str, Any], prefixes: tuple[str, ...] = RATE_SECTIONS) -> list[dict[str, Any]]:
    return [x for x in comp["metrics"] if x["scope"] == "all" and x["metric"].startswith(prefixes)]


def _move(x: dict[str, Any]) -> str:
    return f"{x['metric']} {fmt(x['old'])} → {fmt(x['new'])} ({x['diff']:+.3f})"


def _latency(comp: dict[str, Any]) -> str:
    parts = []
    for x in _overall(comp, ("latency_ms.",)):
        if x["old"] and x["new"] is not None:
            parts.append(f"{x['metric'].split('.', 1)[1]} {x['old']:.1f} → {x['new']:.1f} ms "
                         f"({(x['new'] - x['old']) / x['old']:+.0%})")
    return "; ".join(parts)


def headline(comp: dict[str, Any]) -> list[str]:
    """The few lines a person reads first: settings changed, better, worse, items moved."""
    by_name = {x["metric"]: x for x in _overall(comp, ("retrieval.", "answer.", "citations.", "refusal.", "failures."))}
    changed = ", ".join(f"{s['setting']} {s['old']} → {s['new']}" for s in comp["settings_changed"]) or "none recorded"
    lines = [f"Settings changed: {changed}."]
    for word in ("better", "worse"):
        moved = [by_name[m] for m in comp[word] if m in by_name and not m.startswith("failures.")]
        moved.sort(key=lambda x: -abs(x["diff"]))
        lines.append(f"{word.capitalize()}: " + ("; ".join(_move(x) for x in moved) if moved else "nothing") + ".")
    lat = _latency(comp)
    if lat:
        lines.append(f"Latency: {lat}.")
    items, summary = comp["changed_items"], comp["items_summary"]
    if items is None:
        lines.append("Items that changed class: not listed (a summary-only run, or a baseline without classes).")
    elif not items:
        lines.append("No item changed failure class.")
    else:
        look = ", ".join(f"{x['id']} ({LABELS.get(x['old'], x['old'])} → {LABELS.get(x['new'], x['new'])})"
                         for x in items[:8])
        lines.append(f"{len(items)} item(s) changed class: {summary['worse']} worse, {summary['better']} better, "
                     f"{summary['changed']} failing differently. Look first at: {look}"
                     + (" …" if len(items) > 8 else "") + ".")
    return lines + [f"Warning: {w}." for w in comp["warnings"]]


def markdown_section(comp: dict[str, Any]) -> list[str]:
    qa = comp["qa"]
    lines = [f"## Comparison with baseline `{comp['baseline'] or 'baseline'}`", "",
             f"Same QA set: `{qa.get('name')}`, {qa.get('n_items')} items (ids sha256 `{qa['items_sha256'][:12]}`). "
             "Differences are this run minus the baseline; see `comparison.png`.", ""]
    lines += [f"- {line}" for line in headline(comp)]
    if comp["settings_changed"]:
        lines += ["", "### Settings that differ", ""]
        lines += md_table(["setting", "baseline", "this run"],
                          [[s["setting"], fmt(s["old"]), fmt(s["new"])] for s in comp["settings_changed"]])
    counts = {x["metric"].split(".", 1)[1]: x for x in _overall(comp, ("failures.",))}
    lines += ["", "### Failure classes", ""]
    lines += md_table(["class", "baseline", "this run", "diff"],
                      [[LABELS[c], fmt(counts[c]["old"]), fmt(counts[c]["new"]),
                        "-" if counts[c]["diff"] is None else f"{counts[c]['diff']:+d}"]
                       for c in ALL_CLASSES if c in counts])
    if comp["changed_items"]:
        lines += ["", "### Items that changed class", "", "Worse first (ok → citation imprecise → wrong or refused), then failing differently, then better.", ""]
        lines += md_table(["id", "type", "lang", "question", "baseline", "this run", "verdict", "detail now"],
                          [[x["id"], x["type"], x["lang"], x["question"], LABELS.get(x["old"], x["old"]),
                            LABELS.get(x["new"], x["new"]), x["verdict"], x["new_detail"]]
                           for x in comp["changed_items"]])
    lines += ["", "### Every metric", "", "better/worse: by the metric's direction (refusals of answerable "
              "items, failure counts and latency: lower is better; latency within 20% counts as the same).", ""]
    lines += md_table(["group", "metric", "baseline", "this run", "diff", "verdict"],
                      [[x["scope"], x["metric"], fmt(x["old"]), fmt(x["new"]),
                        "-" if x["diff"] is None else f"{x['diff']:+.4g}", x["verdict"]] for x in comp["metrics"]])
    return lines + [""]


def _color(verdict: str) -> str:
    return GOOD if verdict == "better" else BAD if verdict == "worse" else NEUTRAL


def panels(comp: dict[str, Any]) -> list[Panel]:
    """Three panels: overall rate changes, failure classes before/after, changes by group."""
    overall = [x for x in _overall(comp) if x["diff"] is not None]
    counts = {x["metric"].split(".", 1)[1]: x for x in _overall(comp, ("failures.",))}
    shown = [c for c in ALL_CLASSES if c in counts]
    scopes = list(dict.fromkeys(x["scope"] for x in comp["metrics"]))
    cell = {(x["scope"], x["metric"]): x["diff"] for x in comp["metrics"]}
    return [
        {"title": "Change in overall metrics (this run − baseline)", "kind": "barh", "label_kind": "diff",
         "zero_line": True, "xlabel": "difference", "better": "green: better, red: worse (each metric's own direction)",
         "categories": [x["metric"] for x in overall],
         "series": [{"name": "diff", "values": [x["diff"] for x in overall],
                     "colors": [_color(x["verdict"]) for x in overall]}]},
        {"title": "Failure classes (items): baseline vs this run", "kind": "barh", "xlabel": "items", "better": FEWER,
         "legend_loc": "lower right",
         "categories": [LABELS[c] for c in shown],
         "series": [{"name": "baseline", "values": [counts[c]["old"] for c in shown], "colors": NEUTRAL},
                    {"name": "this run", "values": [counts[c]["new"] for c in shown]}]},
        {"title": "Change by type and language (this run − baseline)", "kind": "bar", "label_kind": "diff",
         "rotation": 20, "legend_loc": "best", "zero_line": True, "categories": scopes,
         "better": "above 0 is better, except answerable refused",
         "series": [{"name": metric, "values": [cell.get((s, metric)) for s in scopes]} for metric in BY_GROUP]},
    ]
