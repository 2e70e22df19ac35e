"""Decoding text files: UTF-8, BOM-marked UTF-16/32 (Windows Notepad's "Unicode"), or the
CP949/EUC-KR that older Korean files use, never mangled."""
from __future__ import annotations

import re

from charset_normalizer import from_bytes

from rag.errors import BadDocument

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
# Byte-order marks, longest first: the UTF-32 LE mark starts with the UTF-16 LE one.
BOMS = ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
        (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def _plausible(text: str) -> bool:
    """Decoded text should not be full of control characters (the mark of a wrong guess)."""
    return len(_CONTROL.findall(text)) <= max(2, len(text) // 1000)


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding) of a text file's bytes; BadDocument when they are not text."""
    if not data.strip():
        raise BadDocument("empty document")
    for bom, codec in BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)  # the codec reads the mark for the byte order, then drops it
            except UnicodeDecodeError as exc:
                raise BadDocument(f"damaged {codec.upper()} text: {exc.reason} at byte {exc.start}") from None
            if not text.strip():
                raise BadDocument("empty document")
            if not _plausible(text):
                raise BadDocument(f"not a text file: decoding as {codec.upper()} gives control characters")
            return text, codec
    if b"\x00" in data[:8192]:
        raise BadDocument("binary content (NUL bytes), not a text file (UTF-16/32 text needs a byte-order mark)")
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
