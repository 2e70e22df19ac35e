"""Whether a model is on disk or the model hub can be reached, decided in seconds."""
from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import urlparse


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


def locally_available(model: str) -> bool:
    """A local path, or a hub model already in the local cache."""
    if Path(model).expanduser().exists():
        return True
    try:
        from huggingface_hub import snapshot_download

        snapshot_download(model, local_files_only=True)
        return True
    except Exception:
        return False
