"""Decoding text files: UTF-8, or the CP949/EUC-KR that older Korean files use, never mangled."""
from __future__ import annotations

import re

from charset_normalizer import from_bytes

from rag.errors import BadDocument

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _plausible(text: str) -> bool:
    """Decoded text should not be full of control characters (the mark of a wrong guess)."""
    return len(_CONTROL.findall(text)) <= max(2, len(text) // 1000)


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding) of a text file's bytes; BadDocument when they are not text."""
    if not data.strip():
        raise BadDocument("empty document")
    if b"\x00" in data[:8192]:
        raise BadDocument("binary content (NUL bytes), not a text file")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    # CP949 is a superset of EUC-KR; a strict decode that yields Hangul is reliable.
    try:
        text = data.decode("cp949")
        if _HANGUL.search(text) and _plausible(text):
            return text, "cp949"
    except UnicodeDecodeError:
        pass
    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise BadDocument("not a text file: no text encoding fits its bytes")
    text = str(best)
    if not _plausible(text):
        raise BadDocument(f"not a text file: decoding as {best.encoding} gives control characters")
    return text, best.encoding
