"""sentence-transformers embedder: the online default (a small multilingual e5-class model)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from rag.embedders.base import Embedder, Kind, normalise
from rag.errors import ModelUnavailable
from rag.hub import hub_reachable, locally_available


def quiet_model_loading() -> None:
    """transformers draws a "Loading weights" bar on every model load, tty or not; our own
    progress (ingest.progress) is shown on a terminal only, so this one goes."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()


class SentenceTransformerEmbedder(Embedder):
    kind = "sentence-transformers"

    def __init__(self, model_name: str, batch_size: int = 32, device: str = "cpu", threads: int | None = None) -> None:
        import torch
        from sentence_transformers import SentenceTransformer  # heavy import, only when used

        quiet_model_loading()
        if threads:  # torch's intra-op threads spin; on shared cores they starve each other
            torch.set_num_threads(threads)
        self.model_name = model_name
        self.model = SentenceTransformer(model_name, device=device)
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self.batch_size = batch_size
        # e5 models were trained with these prefixes and lose accuracy without them.
        self.prefixes = {"query": "query: ", "passage": "passage: "} if "e5" in model_name.lower() else {"query": "", "passage": ""}
        self.id = f"st:{model_name}"

    @classmethod
    def from_snapshot(cls, info: dict[str, Any], directory: Path, settings: Any) -> Embedder:
        return load_sentence_transformer(str(info["model"]), settings.embed_batch_size, settings.embed_threads)

    def embed_batch(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        prefix = self.prefixes[kind]
        vectors = self.model.encode(
            [prefix + t for t in texts],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return normalise(vectors)

    def describe(self) -> dict[str, object]:
        return {**super().describe(), "model": self.model_name}


@lru_cache(maxsize=2)
def load_sentence_transformer(model: str, batch_size: int = 32, threads: int | None = None) -> Embedder:
    """Load a sentence-transformers model, or raise ModelUnavailable saying why."""
    if not locally_available(model) and not hub_reachable():
        raise ModelUnavailable(f"embedding model {model!r} is not on disk and the model hub is unreachable")
    try:
        return SentenceTransformerEmbedder(model, batch_size=batch_size, threads=threads)
    except Exception as exc:  # any loader failure means "not available here"
        raise ModelUnavailable(f"embedding model {model!r} did not load: {exc}") from exc
