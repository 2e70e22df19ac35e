"""Choosing the refusal threshold (rag.evaluation.calibrate) with the real searcher over the
notes (offline embedder): the splits, the budget, and the cross-fitted probabilities of the items
the reader learned from."""
from __future__ import annotations

import pytest

from rag.evaluation.calibrate import calibrate, split_of
from rag.evaluation.testset import load_testset
from tests.corpus import ROOT

GRID = [0.0, 0.05, 0.1, 0.2, 0.5, 0.9]


@pytest.fixture(scope="module")
def searcher(notes_settings):  # noqa: ANN001, ANN201 - rag.search.Searcher
    from rag.wiring import Wiring

    return Wiring(notes_settings).searcher


@pytest.fixture(scope="module")
def items():  # noqa: ANN201
    every = load_testset(ROOT / "data" / "qa" / "testset.jsonl")
    tune = [i for i in every if split_of(i.id) == "tune"][:12]
    held = [i for i in every if split_of(i.id) == "held"][:6]
    return tune + held


def test_the_threshold_is_the_highest_within_the_budget(searcher, items) -> None:  # noqa: ANN001
    report = calibrate(items, searcher, 0.05, GRID, choose_on="tune")
    within = [s["threshold"] for s in report["sweep"] if (s["tune"]["answerable_refused"] or 0.0) <= 0.05]
    assert report["threshold"] == max(within)
    assert report["tune"]["n"] == 12 and report["held"]["n"] == 6 and report["all"]["n"] == 18
    assert report["cross_fitted_items"] == 0


def test_cross_fitted_probabilities_stand_for_the_tuning_items(searcher, items) -> None:  # noqa: ANN001
    tune = [i for i in items if split_of(i.id) == "tune"]
    answerable = [i for i in tune if i.type != "unanswerable"]
    # every answerable tuning item said unlikely (0.07): any threshold above refuses them all
    crossed = {i.id: (0.07 if i.type != "unanswerable" else 0.0) for i in tune}
    report = calibrate(items, searcher, 0.05, GRID, choose_on="all", cross_fitted=crossed)
    assert report["cross_fitted_items"] == len(tune) and report["chosen_on"] == "all"
    at = {s["threshold"]: s for s in report["sweep"]}
    assert at[0.1]["tune"]["answerable_refused"] == 1.0 and at[0.05]["tune"]["answerable_refused"] == 0.0
    assert report["threshold"] <= 0.05 < 0.1 and len(answerable) >= 2
    # a held-out item is always asked of the searcher, never looked up
    held_only = calibrate([i for i in items if split_of(i.id) == "held"], searcher, 0.05, GRID, choose_on="all",
                          cross_fitted={i.id: 0.0 for i in items})
    assert held_only["cross_fitted_items"] == 0
