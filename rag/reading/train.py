"""Fitting the learned reader from a training table (rag.reading.dataset), reproducibly.

    python -m rag.reading.train --table data/reader/train.npz --out rag/data/reader_model.json

(`rag train-reader` builds the table from KorQuAD first; see docs and rag/data/reader_model.md.)

- The ranker (LightGBM, binary objective) learns from the groups asked against the whole corpus
  whose answer was retrieved: the sentence holding the gold answer against the other candidates.
- The verdict (scikit-learn's logistic regression) learns from every group: answerable (asked
  against the whole corpus) or not (own document left out; one other document only). Its ranker
  features are out-of-fold: each group is ranked by a ranker fitted without its question
  (``FOLDS`` folds by question), so the verdict sees the ranker as it behaves on new questions.
- Validation: questions whose id hashes to fold 0 are held out of a first fit, and the metrics
  reported in the model card are measured on them; the committed models are then fitted on all.
Same table and seed give the same model: LightGBM runs deterministic and single-threaded.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import zlib
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from rag.reading.dataset import OFF_TOPIC_PREFIX, dequantise
from rag.reading.features import SEMANTIC_FEATURES, SENTENCE_FEATURES, VERDICT_FEATURES, verdict_row
from rag.reading.model import FORMAT

FOLDS = 5
MASKED_EVERY = 3  # one question in three is also seen without its semantic features
RANKER_PARAMS = {
    "objective": "binary", "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 40,
    "feature_fraction": 0.9, "lambda_l2": 1.0, "max_bin": 255, "verbose": -1,
    "deterministic": True, "force_row_wise": True, "num_threads": 1,
}
ROUNDS = 300
VERDICT_C = 1.0


def fold_of(question_id: str) -> int:
    return zlib.crc32(question_id.encode("utf-8")) % FOLDS


def _fit_ranker(x: np.ndarray, y: np.ndarray, seed: int, weight: np.ndarray | None = None):  # noqa: ANN202
    import lightgbm

    data = lightgbm.Dataset(x, label=y, weight=weight, feature_name=SENTENCE_FEATURES, free_raw_data=False)
    return lightgbm.train({**RANKER_PARAMS, "seed": seed}, data, num_boost_round=ROUNDS)


def _verdict_rows(t: dict[str, np.ndarray], x: np.ndarray, logits: np.ndarray) -> np.ndarray:
    bounds = np.searchsorted(t["groups"], np.arange(len(t["answerable"]) + 1))
    rows = []
    for g in range(len(t["answerable"])):
        a, b = bounds[g], bounds[g + 1]
        rows.append(verdict_row(logits[a:b], x[a:b], float(t["absent_share"][g]), int(t["concepts"][g]),
                                "en" if t["lang_en"][g] else "ko", float(t["retrieved"][g])))
    return np.stack(rows) if rows else np.zeros((0, len(VERDICT_FEATURES)), np.float32)


HAS_SIM = VERDICT_FEATURES.index("has_sim")


def _fit_logistic(v: np.ndarray, y: np.ndarray, weight: np.ndarray) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression

    v = np.nan_to_num(v.astype(np.float64))
    mean, scale = v.mean(axis=0), v.std(axis=0)
    scale[scale == 0] = 1.0
    lr = LogisticRegression(C=VERDICT_C, max_iter=2000).fit((v - mean) / scale, y, sample_weight=weight)
    return {"coef": lr.coef_[0].tolist(), "intercept": float(lr.intercept_[0]), "mean": mean.tolist(),
            "scale": scale.tolist()}


def _fit_verdict(v: np.ndarray, y: np.ndarray, weight: np.ndarray) -> dict[str, Any]:
    """One logistic regression per mode: with the semantic features and without them (their
    features are distributed too differently for one linear model)."""
    semantic = v[:, HAS_SIM] > 0.5
    out = {}
    for mode, rows in (("semantic", semantic), ("lexical", ~semantic)):
        if len(np.unique(y[rows])) < 2:  # a table without this mode's examples: one model for both
            rows = np.ones(len(v), dtype=bool)
        out[mode] = _fit_logistic(v[rows], y[rows], weight[rows])
    return out


def _verdict_probability(spec: dict[str, Any], v: np.ndarray) -> np.ndarray:
    out = np.zeros(len(v))
    semantic = v[:, HAS_SIM] > 0.5
    for mode, rows in (("semantic", semantic), ("lexical", ~semantic)):
        m = spec[mode]
        z = (np.nan_to_num(v[rows].astype(np.float64)) - np.array(m["mean"])) / np.array(m["scale"])
        out[rows] = 1.0 / (1.0 + np.exp(-(z @ np.array(m["coef"]) + m["intercept"])))
    return out


def _oof_logits(t: dict[str, np.ndarray], x: np.ndarray, folds: np.ndarray, mask: np.ndarray, seed: int) -> np.ndarray:
    """Each row's ranker logit from a ranker fitted on the other folds' answerable groups (rows in ``mask``)."""
    own = t["variant"][t["groups"]] == 0
    logits = np.zeros(len(x))
    for f in np.unique(folds[mask]):
        train = mask & own & (folds != f)
        ranker = _fit_ranker(x[train], t["labels"][train], seed, t["weight"][t["groups"][train]])
        rows = mask & (folds == f)
        logits[rows] = ranker.predict(x[rows], raw_score=True, num_threads=1)
    return logits


def _metrics(t: dict[str, np.ndarray], logits: np.ndarray, prob: np.ndarray, groups: np.ndarray,
             x: np.ndarray) -> dict[str, Any]:
    """Top-1 accuracy of the ranker (and of the cosine and the rule reader alone) on answerable
    groups; the verdict's AUC and refusal rates at the threshold refusing 5% of answerable groups."""
    from sklearn.metrics import roc_auc_score

    bounds = np.searchsorted(t["groups"], np.arange(len(t["answerable"]) + 1))
    sim, coverage = SENTENCE_FEATURES.index("sim"), SENTENCE_FEATURES.index("coverage")
    top1 = {"ranker": [], "cosine": [], "rule_coverage": []}
    for g in groups:
        if t["variant"][g] != 0 or not t["answerable"][g]:
            continue
        a, b = bounds[g], bounds[g + 1]
        y = t["labels"][a:b]
        for name, score in (("ranker", logits[a:b]), ("cosine", np.nan_to_num(x[a:b, sim], nan=-1)),
                            ("rule_coverage", x[a:b, coverage])):
            top1[name].append(float(y[int(np.argmax(score))] == 1))
    y = t["answerable"][groups]
    p = prob[groups]
    threshold = float(np.quantile(p[y == 1], 0.05)) if (y == 1).any() else 0.5
    out: dict[str, Any] = {"groups": int(len(groups)), "ranker_top1": {k: round(float(np.mean(v)), 4) for k, v in top1.items() if v}}
    if len(np.unique(y)) == 2:
        out["verdict_auc"] = round(float(roc_auc_score(y, p)), 4)
    out["at_5pct_answerable_refused"] = {"threshold": round(threshold, 4), **{
        name: round(float(np.mean(p[t["variant"][groups] == v] < threshold)), 4)
        for name, v in (("refused_without_own", 1), ("refused_other_document", 2), ("refused_without_answer", 3))
        if (t["variant"][groups] == v).any()}}
    return out


def with_masked_copies(t: dict[str, np.ndarray], x: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The table plus a copy of every ``MASKED_EVERY``-th question's groups with the semantic
    columns missing (NaN), as they are at inference with an embedder the reader was not trained
    with: the ranker learns a fallback on the other features, the verdict a ``has_sim`` offset.
    The copies keep their question's id, so they share its fold."""
    pick = np.array([zlib.crc32(f"mask:{q}".encode()) % MASKED_EVERY == 0 for q in t["question"]])
    groups = np.where(pick)[0]
    if not len(groups):
        return t, x
    rows = np.isin(t["groups"], groups)
    masked = x[rows].copy()
    masked[:, [SENTENCE_FEATURES.index(c) for c in SEMANTIC_FEATURES]] = np.nan
    renumber = np.full(len(t["answerable"]), -1)
    renumber[groups] = len(t["answerable"]) + np.arange(len(groups))
    out = {k: v for k, v in t.items()}
    out["groups"] = np.concatenate([t["groups"], renumber[t["groups"][rows]]])
    out["labels"] = np.concatenate([t["labels"], t["labels"][rows]])
    for key in ("answerable", "weight", "variant", "lang_en", "absent_share", "retrieved", "concepts", "question"):
        out[key] = np.concatenate([t[key], t[key][groups]])
    return out, np.concatenate([x, masked])


def fit(t: dict[str, np.ndarray], seed: int = 0) -> dict[str, Any]:
    """The model file's content (see rag.reading.model) fitted on table ``t``."""
    qa_file = t.get("qa_file", np.array([]))  # the QA set whose tuning split is in the table
    if "weight" not in t:
        t = {**t, "weight": np.ones(len(t["answerable"]), np.float32)}
    n_original, source = len(t["answerable"]), {"rows": int(len(t["labels"])), "groups": int(len(t["answerable"])),
                                                "answerable_groups": int(t["answerable"].sum()), "sha256": table_hash(t)}
    t, x = with_masked_copies(t, dequantise(t["features"], t["low"], t["high"]))
    qfold = np.array([fold_of(str(q)) for q in t["question"]])
    folds = qfold[t["groups"]]
    everything = np.ones(len(x), dtype=bool)
    # Validation: fold 0 out of every fit.
    heldout = folds == 0
    val_logits = _oof_logits(t, x, folds, ~heldout, seed)
    fit_rows = ~heldout & (t["variant"][t["groups"]] == 0)
    ranker_val = _fit_ranker(x[fit_rows], t["labels"][fit_rows], seed, t["weight"][t["groups"][fit_rows]])
    val_logits[heldout] = ranker_val.predict(x[heldout], raw_score=True, num_threads=1)
    v_all = _verdict_rows(t, x, val_logits)
    train_groups = np.where(qfold != 0)[0]
    original = np.arange(len(qfold)) < n_original
    verdict_val = _fit_verdict(v_all[train_groups], t["answerable"][train_groups], t["weight"][train_groups])
    probability = _verdict_probability(verdict_val, v_all)
    validation = _metrics(t, val_logits, probability, np.where((qfold == 0) & original)[0], x)
    validation["without_semantic_features"] = _metrics(t, val_logits, probability,
                                                       np.where((qfold == 0) & ~original)[0], x)
    # The committed models: every group.
    oof = _oof_logits(t, x, folds, everything, seed)
    v_oof = _verdict_rows(t, x, oof)
    verdict = _fit_verdict(v_oof, t["answerable"], t["weight"])
    own = t["variant"][t["groups"]] == 0
    ranker = _fit_ranker(x[own], t["labels"][own], seed, t["weight"][t["groups"][own]])
    return {
        "format": FORMAT, "sentence_features": SENTENCE_FEATURES, "verdict_features": VERDICT_FEATURES,
        "ranker": ranker.model_to_string(), "verdict": verdict, "seed": seed,
        "ranker_params": {**RANKER_PARAMS, "rounds": ROUNDS}, "verdict_c": VERDICT_C,
        "table": source,
        "validation": validation, "trained": date.today().isoformat(),
        **({"trained_on_qa": str(qa_file[0]), "qa_cross_fitted": _qa_cross_fitted(t, v_oof, qfold, original)}
           if len(qa_file) else {}),
    }


def _qa_cross_fitted(t: dict[str, np.ndarray], v: np.ndarray, qfold: np.ndarray,
                     original: np.ndarray) -> dict[str, dict[str, float]]:
    """Mode ("semantic": read with e5's similarities; "lexical": the masked copies, without them)
    -> question id -> the probability that the notes answer it, for the QA set's own questions as
    asked (variant OWN, weighted above KorQuAD's, not the off-topic ones), each from a verdict
    fitted without its fold on ranker logits from rankers fitted without it: what the committed
    model would say of a question it never saw. `rag calibrate` chooses the threshold on these
    and the held-out split together (rag.evaluation.calibrate), not on the held-out quarter alone.
    A question of several parts gets the mean over its parts, as the gate does."""
    probability = np.zeros(len(qfold))
    for f in np.unique(qfold):
        fit_groups = qfold != f
        spec = _fit_verdict(v[fit_groups], t["answerable"][fit_groups], t["weight"][fit_groups])
        probability[qfold == f] = _verdict_probability(spec, v[qfold == f])
    own_qa = (t["variant"] == 0) & (t["weight"] > 1.0)
    out: dict[str, dict[str, float]] = {}
    for mode, groups in (("semantic", own_qa & original), ("lexical", own_qa & ~original)):
        parts: dict[str, list[float]] = {}
        for g in np.where(groups)[0]:
            question = str(t["question"][g])
            if not question.startswith(OFF_TOPIC_PREFIX):
                parts.setdefault(question, []).append(float(probability[g]))
        out[mode] = {q: round(float(np.mean(p)), 4) for q, p in sorted(parts.items())}
    return out


def table_hash(t: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for key in sorted(t):
        h.update(key.encode())
        h.update(np.ascontiguousarray(t[key]).tobytes() if t[key].dtype.kind != "U" else "\n".join(t[key]).encode())
    return h.hexdigest()


def load_table(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def save_table(path: Path, arrays: dict[str, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)


def write_model(spec: dict[str, Any], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(spec, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--table", type=Path, required=True, help="training table (.npz) written by `rag train-reader`")
    parser.add_argument("--out", type=Path, required=True, help="where to write the model JSON")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    spec = fit(load_table(args.table), args.seed)
    write_model(spec, args.out)
    print(json.dumps({"out": str(args.out), "table": spec["table"], "validation": spec["validation"]}, indent=1))


if __name__ == "__main__":
    main()
