"""An embedder fitted on the corpus itself, so retrieval works with no model download.

Latent semantic analysis: TF-IDF over Kiwi morphemes and character n-grams (robust to Korean
spacing variants such as "트랜스 포머"), reduced with a truncated SVD fitted on the corpus'
sentences. It is saved next to the index and reused, so its id stays stable and the embedding
cache stays valid across ingests.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Sequence

import joblib
import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer

from rag.embedders.base import Embedder, Kind, normalise
from rag.korean import content_tokens_by_sentence

MODEL_FILE = "lsa.joblib"
MAX_SVD_SAMPLES = 3000
INFO_FILE = "embedder.json"


def _identity(tokens: list[str]) -> list[str]:
    return tokens


class OfflineEmbedder(Embedder):
    kind = "offline"

    def __init__(self, words: TfidfVectorizer, chars: TfidfVectorizer, svd: TruncatedSVD, fit_size: int, id: str) -> None:
        self.words, self.chars, self.svd = words, chars, svd
        self.fit_size = fit_size
        self.id = id
        self.dim = int(svd.n_components)
        # (features x dim), C-contiguous: sklearn's transform copies the components on every call.
        self._projection = np.ascontiguousarray(svd.components_.T, dtype=np.float32)

    @classmethod
    def fit(cls, texts: Sequence[str], dim: int = 256, seed: int = 0) -> "OfflineEmbedder":
        texts = [t for t in texts if t.strip()]
        if len(texts) < 2:
            raise ValueError("the offline embedder needs at least two non-empty texts to fit")
        words = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, min_df=1)
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3), sublinear_tf=True, min_df=2, lowercase=True)
        x = sp.hstack([words.fit_transform(content_tokens_by_sentence(texts)), chars.fit_transform(texts)]).tocsr()
        n_components = max(2, min(dim, x.shape[0] - 1, x.shape[1] - 1))
        if x.shape[0] > MAX_SVD_SAMPLES:  # the topic space of a large corpus shows in a sample
            rows = np.random.default_rng(seed).choice(x.shape[0], MAX_SVD_SAMPLES, replace=False)
            x = x[np.sort(rows)]
        svd = TruncatedSVD(n_components=n_components, random_state=seed, algorithm="randomized", n_iter=3,
                           power_iteration_normalizer="QR")
        svd.fit(x)
        digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:12]
        return cls(words, chars, svd, len(texts), f"offline-lsa-{n_components}-{digest}")

    def embed_batch(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        x = sp.hstack([self.words.transform(content_tokens_by_sentence(texts)), self.chars.transform(texts)]).tocsr()
        x = x.astype(np.float32)
        if x.shape[0] == 1:  # one query: gather only the rows of its non-zero features
            return normalise((x.data @ self._projection[x.indices])[None, :])
        return normalise(np.asarray(x @ self._projection))

    def describe(self) -> dict[str, object]:
        return {**super().describe(), "fit_size": self.fit_size}

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        joblib.dump({"words": self.words, "chars": self.chars, "svd": self.svd}, directory / MODEL_FILE)
        (directory / INFO_FILE).write_text(json.dumps({"id": self.id, "fit_size": self.fit_size}))

    @classmethod
    def load(cls, directory: Path) -> "OfflineEmbedder":
        info = json.loads((directory / INFO_FILE).read_text())
        parts = joblib.load(directory / MODEL_FILE)
        return cls(parts["words"], parts["chars"], parts["svd"], int(info["fit_size"]), str(info["id"]))
