"""A library's error on a damaged or hostile file, said in words for the 400 and the summary.

The loaders' libraries (zipfile, lxml, python-docx, python-pptx, python-hwpx, pypdf) raise
their own exceptions; a user uploading a file should read what is wrong with it ("a part it
refers to is missing: Contents/section9.xml"), not ``KeyError: "There is no item named ..."``.
The full exception is logged for the maintainer.
"""
from __future__ import annotations

import logging
import re
import zipfile

log = logging.getLogger(__name__)

_MISSING_MEMBER = re.compile(r"no item named '([^']+)'")
_XML_ERRORS = ("XMLSyntaxError", "ParseError", "ExpatError", "SAXParseException", "XMLSyntaxAssertionError")
_ENTITY_ERRORS = ("EntitiesForbidden", "DTDForbidden", "ExternalReferenceForbidden", "NotSupportedError")


def _line(exc: Exception) -> str:
    line = getattr(exc, "lineno", None) or (getattr(exc, "position", None) or (None,))[0]
    return f" at line {line}" if isinstance(line, int) and line > 0 else ""


def in_words(exc: Exception) -> str:
    """What is wrong with the file, in words; the library's own text only where it is plain."""
    name = type(exc).__name__
    text = str(exc)
    if isinstance(exc, KeyError):
        m = _MISSING_MEMBER.search(text)
        return f"a part the file refers to is missing{f': {m.group(1)}' if m else ''}"
    if name in _ENTITY_ERRORS or "DTD" in text or "ntit" in text and "Amplification" in text:
        return "its XML declares entities (a DTD), which Office and Hangul files never contain"
    if "Amplification" in text or "huge input" in text.lower():
        return "its XML expands past the size a document may reach"
    if name in _XML_ERRORS:
        return f"its XML is malformed{_line(exc)}"
    if isinstance(exc, zipfile.BadZipFile):
        return "its ZIP package is damaged"
    if isinstance(exc, UnicodeDecodeError):
        return f"text in it is not valid {exc.encoding}"
    if isinstance(exc, (ValueError, TypeError, AttributeError, IndexError, LookupError)):
        return "its structure is not what the format requires (a damaged or hand-made file?)"
    return "it is damaged or not a valid file of this kind"


def describe(exc: Exception, what: str) -> str:
    """``cannot read it as <what>: <in words>``; the exception itself goes to the log."""
    log.info("loader failure reading %s: %s: %s", what, type(exc).__name__, exc)
    return f"cannot read it as {what}: {in_words(exc)}"
