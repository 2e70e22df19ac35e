"""Unicode normalisation at load, once, for a document's text and for its id.

What macOS, Word, blogs and chat tools write differs from what a student types: decomposed
Hangul (NFD, as macOS file systems and some exporters write it), zero-width spaces and other
invisible format characters in the middle of words, and full-width Latin letters and digits
(``ＸＬＮｅｔ``, ``２０１９``) from Korean input methods. Left as they are, the morpheme analyser
and the lexical index see other words than the question's, and the note is never found.

The normalised text *is* the document as loaded: chunk offsets, citations and the page all
index into it, so ``chunk.text == loaded_text[start:end]`` holds by construction.

Rules (Unicode Standard Annex #15 for the normal forms; UAX #44 for the categories):
- invisible format characters (general category ``Cf``: U+200B zero-width space, U+200C/D
  joiners, U+2060 word joiner, U+FEFF, U+00AD soft hyphen, bidirectional marks, ...) and
  U+034F combining grapheme joiner are removed;
- NFC composes decomposed Hangul and accented Latin;
- NFKC only for full-width Latin letters and digits (U+FF10-FF19, U+FF21-FF3A, U+FF41-FF5A):
  NFKC everywhere would also rewrite Hangul compatibility jamo (ㅋㅋ, ㄱ-ㄴ lists), circled
  numbers, units and CJK punctuation that notes use on purpose.
"""
from __future__ import annotations

import functools
import re
import sys
import unicodedata

# Full-width forms of [0-9A-Za-z]; NFKC maps each to its ASCII letter or digit.
_FULLWIDTH = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]+")
_EXTRA_INVISIBLE = "\u034f"  # combining grapheme joiner: category Mn, but invisible and meaningless here


@functools.cache
def _invisible() -> re.Pattern[str]:
    """A character class of every ``Cf`` character in Python's Unicode database, plus extras.

    Built once from ``unicodedata`` (about 170 code points) so it follows the interpreter's
    Unicode version instead of a hand-kept list.
    """
    chars = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"]
    chars.append(_EXTRA_INVISIBLE)
    return re.compile("[" + "".join(re.escape(c) for c in chars) + "]+")


def normalize_text(text: str) -> str:
    """``text`` with invisible format characters removed, in NFC, full-width letters/digits as ASCII."""
    text = _invisible().sub("", text)
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
        text = _FULLWIDTH.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
    return text


def normalize_id(doc_id: str) -> str:
    """A document id (a relative path) normalised like text, so ``보고서.txt`` typed on Windows and
    the same name written by macOS (NFD) are one document."""
    return normalize_text(doc_id)
