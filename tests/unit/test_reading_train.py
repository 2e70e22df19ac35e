"""The learned reader's training: a tiny synthetic table, fitted twice, gives the same model, and
the model learns what the table teaches (the sentence with the highest cosine is the answer)."""
from __future__ import annotations

import numpy as np

from rag.reading import dataset, train
from rag.reading.features import SENTENCE_FEATURES, VERDICT_FEATURES, sentence_matrix
from rag.reading.kinds import QuestionKind
from rag.reading.model import ReaderModel


def _row(sim: float, evidence: float, rng: np.random.Generator) -> dict[str, float]:
    return {"sim": sim, "ctx_sim": sim - 0.02, "passage_sim": sim, "passage_recip": 1.0, "dense_recip": 1.0,
            "bm25_recip": 0.5, "evidence": evidence, "coverage": evidence, "cue": 0.5,
            "bigram": float(rng.uniform(0, 1)), "position": 0.0, "after_heading": 0.0, "is_item": 0.0,
            "is_intro": 0.0, "log_len": 4.0, "has_number": 0.0}


def synthetic_table(n_questions: int = 120, seed: int = 1) -> dict[str, np.ndarray]:
    """Answerable groups: one sentence with a high cosine and answerability among noise;
    unanswerable groups: noise only."""
    rng = np.random.default_rng(seed)
    ex = dataset.Examples()
    for q in range(n_questions):
        for variant in dataset.Variant:
            n = int(rng.integers(4, 9))
            rows = [_row(float(rng.uniform(0.70, 0.80)), float(rng.uniform(0, 0.4)), rng) for _ in range(n)]
            labels = np.zeros(n, dtype=np.int8)
            if variant == dataset.Variant.OWN:
                i = int(rng.integers(0, n))
                rows[i] = _row(float(rng.uniform(0.84, 0.92)), float(rng.uniform(0.5, 1.0)), rng)
                labels[i] = 1
            matrix = sentence_matrix(rows, QuestionKind.OTHER, "ko")
            ex.add(matrix, labels, {"id": f"q{q}", "variant": int(variant), "part": 0,
                                    "answerable": int(variant == dataset.Variant.OWN), "lang": "ko",
                                    "absent_share": 0.0, "concepts": 3,
                                    "retrieved": float(rng.uniform(0.6, 1.0)) if variant == 0 else 0.3})
    return dataset.to_arrays(ex)


def test_quantised_table_round_trips_within_a_bin() -> None:
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(50, 3)).astype(np.float32)
    matrix[3, 1] = np.nan
    low, high = np.nanmin(matrix, axis=0), np.nanmax(matrix, axis=0)
    back = dataset.dequantise(dataset.quantise(matrix, low, high), low, high)
    assert np.isnan(back[3, 1])
    ok = ~np.isnan(matrix)
    assert np.all(np.abs(back[ok] - matrix[ok]) <= ((high - low) / 254 / 2 + 1e-6)[np.where(ok)[1]])


def test_fit_is_deterministic_and_learns_the_signal(tmp_path) -> None:  # noqa: ANN001
    table = synthetic_table()
    train.save_table(tmp_path / "t.npz", table)
    loaded = train.load_table(tmp_path / "t.npz")
    assert train.table_hash(loaded) == train.table_hash(table)
    a, b = train.fit(loaded, seed=0), train.fit(loaded, seed=0)
    assert a["ranker"] == b["ranker"] and a["verdict"] == b["verdict"]
    assert a["sentence_features"] == SENTENCE_FEATURES and a["verdict_features"] == VERDICT_FEATURES
    v = a["validation"]
    assert v["ranker_top1"]["ranker"] >= 0.9  # the planted sentence wins
    assert v["verdict_auc"] >= 0.9  # answerable groups are told from the others
    model = ReaderModel(a)
    rng = np.random.default_rng(5)
    rows = [_row(0.75, 0.2, rng), _row(0.90, 0.8, rng), _row(0.74, 0.1, rng)]
    logits = model.sentence_logits(sentence_matrix(rows, QuestionKind.OTHER, "ko"))
    assert int(np.argmax(logits)) == 1


def test_a_model_of_other_features_is_refused() -> None:
    import pytest

    from rag.errors import RagError

    spec = train.fit(synthetic_table(40), seed=0)
    spec["sentence_features"] = spec["sentence_features"][:-1]
    with pytest.raises(RagError, match="other features"):
        ReaderModel(spec)
