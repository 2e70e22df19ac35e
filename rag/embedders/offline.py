"""An embedder fitted on the corpus itself, so retrieval works with no model download.

Latent semantic analysis: TF-IDF over Kiwi morphemes and character n-grams (robust to Korean
spacing variants such as "트랜스 포머"), reduced with a truncated SVD fitted on the corpus'
sentences. It is saved next to the index and reused, so its id stays stable and the embedding
cache stays valid across ingests.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

import joblib
import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from threadpoolctl import ThreadpoolController

from rag.embedders.base import Embedder, Kind, normalise
from rag.language.korean import content_tokens_by_line

MODEL_FILE = "lsa.joblib"
MAX_FIT_TEXTS = 3000
INFO_FILE = "embedder.json"


def _identity(tokens: list[str]) -> list[str]:
    return tokens


@functools.cache
def _thread_pools() -> ThreadpoolController:
    """The process's BLAS and OpenMP thread pools, found once: ``threadpool_limits()`` scans the
    loaded libraries on each call, which was 2.4 s of a 6,000-paragraph .docx publish (one call
    per embedding batch; ``python -m bench.docx_publish_bench``)."""
    return ThreadpoolController()


def one_thread():  # noqa: ANN201 - threadpoolctl's context manager
    """BLAS threads fight the other cores' work; one is faster here."""
    return _thread_pools().limit(limits=1)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


class OfflineEmbedder(Embedder):
    kind = "offline"
    stored_in_snapshot = True

    def __init__(self, words: TfidfVectorizer, chars: TfidfVectorizer, projection: np.ndarray, fit_size: int,
                 id: str) -> None:
        self.words, self.chars = words, chars
        self.fit_size = fit_size
        self.id = id
        # (features x dim), float32, C-contiguous: a query gathers only the rows of its features.
        self._projection = np.ascontiguousarray(projection, dtype=np.float32)
        self.dim = int(self._projection.shape[1])
        self._char_ngrams = chars.build_analyzer()
        self._n_words = len(words.vocabulary_)
        # the model file this embedder was loaded from or saved to, with its (size, mtime): saving
        # again copies it instead of pickling the vocabularies anew (``save``)
        self._file: tuple[Path, tuple[int, int] | None] | None = None

    @classmethod
    def fit(cls, texts: Sequence[str], dim: int = 256, seed: int = 0) -> "OfflineEmbedder":
        texts = [t for t in texts if t.strip()]
        if len(texts) < 2:
            raise ValueError("the offline embedder needs at least two non-empty texts to fit")
        digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:12]
        fit_size = len(texts)
        if len(texts) > MAX_FIT_TEXTS:  # the vocabulary and topics of a large corpus show in a sample
            rows = np.random.default_rng(seed).choice(len(texts), MAX_FIT_TEXTS, replace=False)
            texts = [texts[i] for i in sorted(rows)]
        words = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, min_df=1)
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3), sublinear_tf=True, min_df=2, lowercase=True)
        with one_thread():
            x = sp.hstack([words.fit_transform(content_tokens_by_line(texts)), chars.fit_transform(texts)]).tocsr()
            n_components = max(2, min(dim, x.shape[0] - 1, x.shape[1] - 1))
            svd = TruncatedSVD(n_components=n_components, random_state=seed, algorithm="randomized", n_iter=3,
                               power_iteration_normalizer="LU")
            svd.fit(x)
        if hasattr(chars, "stop_words_"):  # terms cut by min_df (older scikit-learn): large, unused
            del chars.stop_words_
        return cls(words, chars, svd.components_.T, fit_size, f"offline-lsa-{n_components}-{digest}")

    def _query_vector(self, text: str) -> np.ndarray:
        """TF-IDF of one text as the fitted vectorisers compute it (sublinear tf, idf, l2 per block),
        without sklearn's per-call overhead, which dominated a search."""
        parts = []
        for tokens, vocab, idf, offset in (
            (content_tokens_by_line([text])[0], self.words.vocabulary_, self.words.idf_, 0),
            (self._char_ngrams(text), self.chars.vocabulary_, self.chars.idf_, self._n_words),
        ):
            counts = Counter(j for j in (vocab.get(t) for t in tokens) if j is not None)
            if not counts:
                continue
            idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
            w = tf * idf[idx]
            parts.append((idx + offset, w / np.linalg.norm(w)))
        if not parts:
            return np.zeros((1, self.dim), dtype=np.float32)
        idx = np.concatenate([i for i, _ in parts])
        w = np.concatenate([v for _, v in parts]).astype(np.float32)
        return normalise((w @ self._projection[idx])[None, :])

    def embed_batch(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        if len(texts) == 1:
            return self._query_vector(texts[0])
        with one_thread():
            x = sp.hstack([self.words.transform(content_tokens_by_line(texts)), self.chars.transform(texts)]).tocsr()
            return normalise(np.asarray(x.astype(np.float32) @ self._projection))

    def describe(self) -> dict[str, object]:
        return {**super().describe(), "fit_size": self.fit_size}

    def save(self, directory: Path) -> None:
        """Write the model to ``directory``: a copy of the file it was last loaded from or saved
        to when that file is unchanged (ingest saves the fit beside the index, then into the
        snapshot), else a new pickle."""
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / MODEL_FILE
        if self._file is not None and self._file[1] is not None and _stamp(self._file[0]) == self._file[1]:
            shutil.copyfile(self._file[0], target)
        else:
            joblib.dump({"words": self.words, "chars": self.chars, "projection": self._projection}, target)
            self._file = (target, _stamp(target))
        (directory / INFO_FILE).write_text(json.dumps({"id": self.id, "fit_size": self.fit_size}))

    def moved(self, directory: Path) -> None:
        """The directory it was saved to was renamed to ``directory`` (an atomic replace)."""
        self._file = (directory / MODEL_FILE, _stamp(directory / MODEL_FILE))

    @classmethod
    def from_snapshot(cls, info: dict[str, Any], directory: Path, settings: Any) -> "OfflineEmbedder":
        return cls.load(directory)

    @classmethod
    def load(cls, directory: Path) -> "OfflineEmbedder":
        info = json.loads((directory / INFO_FILE).read_text())
        stamp = _stamp(directory / MODEL_FILE)
        parts = joblib.load(directory / MODEL_FILE)
        embedder = cls(parts["words"], parts["chars"], parts["projection"], int(info["fit_size"]), str(info["id"]))
        embedder._file = (directory / MODEL_FILE, stamp)
        return embedder
