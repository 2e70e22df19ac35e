"""Calibrating the evidence gate's threshold on a QA test set, reproducibly.

Evidence does not depend on the threshold, so each question is searched once and the
threshold swept afterwards. The chosen value is the highest that keeps refusals of answerable
questions at or under a budget on the tuning split (or, when the reader learned from the tuning
split, on its cross-fitted probabilities and the held-out split together); each split is
reported beside it so over-fitting shows.
"""
from __future__ import annotations

import zlib
from typing import Any, Mapping, Sequence

import numpy as np

from rag.evaluation.testset import QAItem
from rag.search import Searcher

HELD_OUT_EVERY = 4


def split_of(item_id: str) -> str:
    """A stable split by a hash of the id: about a quarter of the items are held out."""
    return "held" if zlib.crc32(item_id.encode("utf-8")) % HELD_OUT_EVERY == 0 else "tune"


def _rates(rows: Sequence[tuple[float, bool]], threshold: float) -> dict[str, float | None]:
    una = [e < threshold for e, answerable in rows if not answerable]
    ans = [e < threshold for e, answerable in rows if answerable]
    return {
        "unanswerable_refused": round(float(np.mean(una)), 4) if una else None,
        "answerable_refused": round(float(np.mean(ans)), 4) if ans else None,
    }


def calibrate(items: Sequence[QAItem], searcher: Searcher, max_answerable_refused: float = 0.05,
              thresholds: Sequence[float] | None = None, choose_on: str = "tune",
              cross_fitted: Mapping[str, float] | None = None) -> dict[str, Any]:
    """``choose_on``: the split whose answerable items bound the refusals: "tune", "held" (when
    the reader was trained on the tuning split: a threshold chosen on its own training items would
    be optimistic), or "all" with ``cross_fitted``: then a tuning item's evidence is its
    cross-fitted probability (id -> probability, from the reader's training:
    rag.reading.train._qa_cross_fitted, what the model says of a question it never saw) where it
    has one, and the threshold is chosen over both splits, four times the held-out items alone."""
    grid = [round(float(t), 3) for t in (thresholds if thresholds is not None else np.arange(0.0, 1.0, 0.01))]
    rows: dict[str, list[tuple[float, bool]]] = {"tune": [], "held": []}
    crossed = 0
    for item in items:
        split = split_of(item.id)
        if split == "tune" and cross_fitted and item.id in cross_fitted:
            evidence, crossed = cross_fitted[item.id], crossed + 1
        else:
            evidence = searcher.run(item.question).evidence
        rows[split].append((evidence, item.type != "unanswerable"))
    rows["all"] = rows["tune"] + rows["held"]
    sweep = [{"threshold": t, **{split: _rates(r, t) for split, r in rows.items()}} for t in grid]
    allowed = [s for s in sweep if (s[choose_on]["answerable_refused"] or 0.0) <= max_answerable_refused]
    best = max(allowed, key=lambda s: s["threshold"]) if allowed else sweep[0]
    return {
        "threshold": best["threshold"],
        "max_answerable_refused": max_answerable_refused, "chosen_on": choose_on, "cross_fitted_items": crossed,
        **{split: {"n": len(r), **best[split]} for split, r in rows.items()},
        "sweep": sweep,
    }
