"""Loading sentence-transformers models, deciding quickly when the model hub cannot be reached."""
from __future__ import annotations

import logging
import os
import socket
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse

from rag.embedders.base import Embedder
from rag.errors import ModelUnavailable

log = logging.getLogger(__name__)


def hub_reachable(timeout: float = 2.0) -> bool:
    """A TCP connect to the hub endpoint: seconds, not the minute of retries a download takes."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes"}:
        return False
    from huggingface_hub import constants

    url = urlparse(constants.ENDPOINT)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "", port), timeout=timeout):
            return True
    except OSError:
        return False


def _locally_available(model: str) -> bool:
    if Path(model).expanduser().exists():
        return True
    try:
        from huggingface_hub import snapshot_download

        snapshot_download(model, local_files_only=True)
        return True
    except Exception:
        return False


@lru_cache(maxsize=2)
def load_sentence_transformer(model: str, batch_size: int = 32, threads: int | None = None) -> Embedder:
    """Load a sentence-transformers model, or raise ModelUnavailable saying why."""
    from rag.embedders.sentence_transformer import SentenceTransformerEmbedder

    if not _locally_available(model) and not hub_reachable():
        raise ModelUnavailable(f"embedding model {model!r} is not on disk and the model hub is unreachable")
    try:
        return SentenceTransformerEmbedder(model, batch_size=batch_size, threads=threads)
    except Exception as exc:  # any loader failure means "not available here"
        raise ModelUnavailable(f"embedding model {model!r} did not load: {exc}") from exc
