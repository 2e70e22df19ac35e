"""The committed reader model is what the training command produces from the committed table
(``python -m rag.reading.train --table data/reader/train.npz``): same table, same seed, same
model up to float tolerance."""
from __future__ import annotations

import json

import numpy as np
import pytest

from rag.reading import train
from rag.reading.dataset import dequantise
from rag.reading.model import MODEL_PATH, ReaderModel
from tests.corpus import ROOT

pytestmark = pytest.mark.slow
TABLE = ROOT / "data" / "reader" / "train.npz"


def test_committed_model_is_refitted_from_the_committed_table() -> None:
    table = train.load_table(TABLE)
    committed = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert committed["table"]["sha256"] == train.table_hash(table), "the model was fitted on another table"
    refit = train.fit(table, committed["seed"])
    x = dequantise(table["features"], table["low"], table["high"])[::7]
    ours, theirs = ReaderModel(committed), ReaderModel(refit)
    assert np.allclose(ours.sentence_logits(x), theirs.sentence_logits(x), atol=1e-6)
    for mode in ("semantic", "lexical"):
        assert np.allclose(committed["verdict"][mode]["coef"], refit["verdict"][mode]["coef"], atol=1e-6)
        assert abs(committed["verdict"][mode]["intercept"] - refit["verdict"][mode]["intercept"]) < 1e-6
    assert committed["validation"] == json.loads(json.dumps(refit["validation"]))
    # the cross-fitted probabilities `rag calibrate` chooses the threshold on
    for mode, found in refit.get("qa_cross_fitted", {}).items():
        assert found.keys() == committed["qa_cross_fitted"][mode].keys() and found
        assert all(abs(found[q] - committed["qa_cross_fitted"][mode][q]) <= 1e-4 for q in found)
