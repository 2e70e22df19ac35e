"""Comparing two eval reports of the same QA set: every metric old vs new, and moved items.

``compare(old, new)`` refuses reports of different QA files or item sets (``ComparisonError``,
naming what differs), then lists each metric of every group with its difference and whether
it got better or worse, the settings that differ between the runs, and the items whose
failure class changed (worse, better, or failing differently).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from rag.evaluation.failures import OK, UNSCORED
from rag.evaluation.testset import items_digest

SECTIONS = ("retrieval", "answer", "citations", "refusal", "latency_ms")
LOWER_IS_BETTER = {"refusal.answerable_refused"}
# Run-specific config entries that say nothing about the settings compared.
_NOT_SETTINGS = {"seconds", "qa", "qa_file", "summary_only", "warmup_questions", "n_items", "failure_top_k"}


class ComparisonError(ValueError):
    """Two reports that cannot be compared; the message names what differs."""


def identity(report: dict[str, Any]) -> dict[str, Any]:
    """The QA-set identity of a report (``config.qa``), rebuilt from the items of a report
    written before identities were stored."""
    config = report.get("config") or {}
    if config.get("qa"):
        return config["qa"]
    if "items" not in report:
        raise ComparisonError("the baseline has neither a QA-set identity nor items; run it again with this version")
    qa_file = config.get("qa_file") or ""
    return {"name": qa_file.replace("\\", "/").rsplit("/", 1)[-1] or None, "path": qa_file or None,
            "file_sha256": None, "items_sha256": items_digest([r["id"] for r in report["items"]]),
            "n_items": len(report["items"])}


def _ids(report: dict[str, Any]) -> list[str] | None:
    return [r["id"] for r in report["items"]] if "items" in report else None


def _short(ids: list[str], limit: int = 12) -> str:
    return ", ".join(ids[:limit]) + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def check_same_set(old: dict[str, Any], new_qa: dict[str, Any], new_ids: list[str] | None) -> None:
    """Raise ``ComparisonError`` unless the baseline ``old`` ran the same QA file (by name) on
    the same item set (by the hash of its ids) as a run with identity ``new_qa`` and item ids
    ``new_ids`` (None when unknown); the message names what differs. Cheap: call it before a
    long run."""
    if "runs" in old:
        raise ComparisonError("a report of several QA files cannot be a baseline; pass the report.json "
                              "of one QA file (in its own subdirectory of --out)")
    a = identity(old)
    if a.get("name") != new_qa.get("name"):
        raise ComparisonError(f"different QA files: the baseline ran {a.get('name')!r}, this run {new_qa.get('name')!r}")
    if a["items_sha256"] != new_qa["items_sha256"]:
        why = (f"different item sets in {new_qa.get('name')}: baseline {a.get('n_items')} items, "
               f"this run {new_qa.get('n_items')} items")
        old_ids = _ids(old)
        if old_ids is not None and new_ids is not None:
            only_old = sorted(set(old_ids) - set(new_ids))
            only_new = sorted(set(new_ids) - set(old_ids))
            if only_old:
                why += f"; only in the baseline: {_short(only_old)}"
            if only_new:
                why += f"; only in this run: {_short(only_new)}"
        else:
            why += " (a summary-only report does not list its ids)"
        raise ComparisonError(why)


def check_comparable(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Raise ``ComparisonError`` unless both reports ran the same QA file on the same item set;
    returns warnings (the file's content changed with the same ids; another depth k)."""
    if "runs" in new:
        raise ComparisonError("a report of several QA files cannot be compared")
    a, b = identity(old), identity(new)
    check_same_set(old, b, _ids(new))
    warnings = []
    if a.get("file_sha256") and b.get("file_sha256") and a["file_sha256"] != b["file_sha256"]:
        warnings.append(f"{b.get('name')} was edited between the runs (same item ids, different content): "
                        "part of a difference may come from the edited questions or references")
    if (old.get("config") or {}).get("k") != (new.get("config") or {}).get("k"):
        warnings.append(f"the retrieval depth k differs ({old['config'].get('k')} vs {new['config'].get('k')}): "
                        "MRR and nDCG are over different depths")
    return warnings


def load_baseline(path: Path) -> dict[str, Any]:
    """A baseline report.json, checked to be an eval report; ``ComparisonError`` says why not."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ComparisonError(f"baseline {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ComparisonError(f"cannot read baseline {path}: {getattr(exc, 'strerror', None) or exc}") from None
    except json.JSONDecodeError as exc:
        raise ComparisonError(f"baseline {path} is not JSON: {exc.msg} (line {exc.lineno})") from None
    if not isinstance(data, dict) or not ({"runs"} <= set(data) or {"config", "n", "retrieval"} <= set(data)):
        raise ComparisonError(f"baseline {path} is not a report.json written by rag eval")
    identity(data)  # raises when it cannot be identified
    return data


def _groups(report: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    yield "all", report
    for field in ("by_type", "by_lang"):
        for name, group in (report.get(field) or {}).items():
            yield f"{field[3:]}={name}", group


def _failure_counts(group: dict[str, Any]) -> dict[str, int]:
    failures = group.get("failures") or {}
    return {name: (v["n"] if isinstance(v, dict) else v) for name, v in failures.items()}


def flat_metrics(report: dict[str, Any]) -> dict[str, tuple[str, str, float | None]]:
    """{"scope section.key": (scope, "section.key", value)} for every metric of every group,
    failure-class counts included (``failures.<class>``)."""
    out: dict[str, tuple[str, str, float | None]] = {}
    for scope, group in _groups(report):
        for section in SECTIONS:
            for key, value in (group.get(section) or {}).items():
                out[f"{scope} {section}.{key}"] = (scope, f"{section}.{key}", value)
        for name, n in _failure_counts(group).items():
            out[f"{scope} failures.{name}"] = (scope, f"failures.{name}", n)
    return out


def direction(metric: str) -> int:
    """+1 when higher is better, -1 when lower is better, 0 when neither (unscored items)."""
    if metric.startswith("failures."):
        name = metric.split(".", 1)[1]
        return 1 if name == OK else (0 if name == UNSCORED else -1)
    if metric.startswith("latency_ms.") or metric in LOWER_IS_BETTER:
        return -1
    return 1


def _verdict(metric: str, old: float | None, new: float | None) -> str:
    if old is None or new is None:
        return "n/a"
    diff = new - old
    if abs(diff) < 1e-9 or direction(metric) == 0:
        return "same" if abs(diff) < 1e-9 else "changed"
    if metric.startswith("latency_ms.") and abs(diff) <= 0.2 * max(abs(old), 1e-9):
        return "same"  # latency within 20%: timing noise on a shared machine, not a change
    return "better" if diff * direction(metric) > 0 else "worse"


def severity(cls: str) -> int:
    """0 for ok, 1 for a right answer with an imprecise citation, 2 for a wrong or missing
    answer; unscored items (which cannot be judged) count as 1."""
    return 0 if cls == OK else 1 if cls in ("citation_imprecise", UNSCORED) else 2


def changed_items(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]] | None:
    """Items whose failure class differs, worse ones first; None when either report has no
    per-item classes (a summary-only run, or a baseline made before classes existed).

    ``verdict``: "worse" or "better" by ``severity``, "changed" when failing differently
    (e.g. a retrieval miss that became a wrong passage)."""
    if "items" not in old or "items" not in new:
        return None
    before = {r["id"]: r for r in old["items"]}
    if any("failure" not in r for r in before.values()):
        return None
    out = []
    for r in new["items"]:
        o = before.get(r["id"])
        if o is None or o["failure"]["class"] == r["failure"]["class"]:
            continue
        a, b = o["failure"]["class"], r["failure"]["class"]
        step = severity(b) - severity(a)
        verdict = "worse" if step > 0 else "better" if step < 0 else "changed"
        out.append({"id": r["id"], "type": r["type"], "lang": r["lang"], "question": r["question"],
                    "old": a, "new": b, "old_detail": o["failure"]["detail"], "new_detail": r["failure"]["detail"],
                    "old_answer": o.get("answer"), "new_answer": r.get("answer"), "verdict": verdict})
    order = {"worse": 0, "changed": 1, "better": 2}
    return sorted(out, key=lambda x: (order[x["verdict"]], x["id"]))


def _settings_of(report: dict[str, Any]) -> dict[str, Any]:
    """The run's recorded configuration, flat: config entries, then settings not among them."""
    config = report.get("config") or {}
    flat = {key: v for key, v in config.items() if key not in _NOT_SETTINGS and key != "settings"}
    for key, v in (config.get("settings") or {}).items():
        flat.setdefault(key, v)
    return flat


def settings_changed(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """The configuration entries (and settings) whose values differ between the two runs."""
    a, b = _settings_of(old), _settings_of(new)
    return [{"setting": key, "old": a.get(key), "new": b.get(key)} for key in dict.fromkeys([*a, *b])
            if a.get(key) != b.get(key)]


def compare(old: dict[str, Any], new: dict[str, Any], baseline: str | None = None) -> dict[str, Any]:
    """The comparison of ``new`` against ``old`` (both report dicts); raises ComparisonError."""
    warnings = check_comparable(old, new)
    before, after = flat_metrics(old), flat_metrics(new)
    metrics = []
    for name in dict.fromkeys([*before, *after]):
        scope, metric, o = before.get(name, (None, None, None))
        scope, metric, n = after.get(name, (scope, metric, None))
        diff = None if o is None or n is None else round(n - o, 4)
        metrics.append({"scope": scope, "metric": metric, "old": o, "new": n, "diff": diff,
                        "verdict": _verdict(metric, o, n)})
    overall = [x for x in metrics if x["scope"] == "all" and not x["metric"].startswith("latency_ms.")]
    items = changed_items(old, new)
    return {
        "baseline": baseline, "qa": identity(new), "warnings": warnings,
        "settings_changed": settings_changed(old, new),
        "better": [x["metric"] for x in overall if x["verdict"] == "better"],
        "worse": [x["metric"] for x in overall if x["verdict"] == "worse"],
        "metrics": metrics,
        "changed_items": items,
        "items_summary": None if items is None else {v: sum(1 for x in items if x["verdict"] == v)
                                                       for v in ("worse", "better", "changed")},
    }
