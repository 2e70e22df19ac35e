"""Plain text (.txt): decoded (``ingest.encoding``), line endings unified, Unicode-normalised.

Also the decoding step of the other text formats (Markdown, HTML)."""
from __future__ import annotations

from ingest.document import Loaded, Loader, Page
from ingest.encoding import decode_text
from ingest.normalize import normalize_text


def decoded(data: bytes) -> str:
    """The text of a text file: its encoding detected, ``\\r\\n``/``\\r`` as ``\\n``, normalised."""
    raw, _ = decode_text(data)
    return normalize_text(raw.replace("\r\n", "\n").replace("\r", "\n"))


def load(data: bytes, chunk_chars: int) -> Loaded:
    text = decoded(data)
    return Loaded(text, (Page(None, 0, len(text)),))


LOADER = Loader("txt", "plain text", (".txt",), ("text/plain",),
                "the text as written; sections from heading-like lines", load)
