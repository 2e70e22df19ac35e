"""Loading documents as text with page spans, keeping offsets meaningful for citations."""
from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

from rag.errors import BadDocument, UnsupportedType

from ingest.encoding import decode_text

SUPPORTED = {".txt": "txt", ".md": "md", ".markdown": "md", ".pdf": "pdf", ".html": "html", ".htm": "html"}
PAGE_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class Page:
    number: int | None
    start: int
    end: int


@dataclass(frozen=True)
class LoadedDocument:
    """A document as loaded: chunk offsets index into ``text``."""

    doc_id: str
    type: str
    text: str
    pages: tuple[Page, ...]
    title: str
    hash: str
    size: int


def doc_type(path: Path) -> str:
    try:
        return SUPPORTED[path.suffix.lower()]
    except KeyError:
        raise UnsupportedType(
            f"unsupported file type {path.suffix or '(none)'!r}; supported: {', '.join(sorted(SUPPORTED))}"
        ) from None


def _first_line_title(text: str) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if len(line) >= 2:
            return line[:80]
    return ""


def _load_pdf(data: bytes) -> tuple[str, tuple[Page, ...], str]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise BadDocument("encrypted PDF: a password is needed")
            except BadDocument:
                raise
            except Exception as exc:
                raise BadDocument(f"encrypted PDF that cannot be opened: {exc}") from exc
        parts: list[str] = []
        pages: list[Page] = []
        pos = 0
        for number, page in enumerate(reader.pages, start=1):
            page_text = (page.extract_text() or "").replace("\x00", "")
            if parts:
                pos += len(PAGE_SEPARATOR)
            pages.append(Page(number, pos, pos + len(page_text)))
            parts.append(page_text)
            pos += len(page_text)
        title = ""
        if reader.metadata is not None and reader.metadata.title:
            title = str(reader.metadata.title)[:80]
    except BadDocument:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as exc:
        raise BadDocument(f"corrupt PDF: {exc}") from exc
    except Exception as exc:  # pypdf raises a wide variety on damaged files
        raise BadDocument(f"unreadable PDF: {type(exc).__name__}: {exc}") from exc
    text = PAGE_SEPARATOR.join(parts)
    if not text.strip():
        raise BadDocument("PDF has no extractable text (scanned images or empty pages)")
    return text, tuple(pages), title


def _load_html(data: bytes) -> tuple[str, str]:
    from bs4 import BeautifulSoup

    raw, _ = decode_text(data)
    soup = BeautifulSoup(raw, "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "footer", "header", "aside", "form"]):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else ""
    if soup.title:
        soup.title.decompose()
    text = re.sub(r"\n{3,}", "\n\n", soup.get_text("\n"))
    if not text.strip():
        raise BadDocument("HTML page has no text")
    return text, title[:80]


def load_bytes(doc_id: str, data: bytes, kind: str) -> LoadedDocument:
    """Load a document from its bytes; ``kind`` is one of the SUPPORTED types."""
    if not data:
        raise BadDocument("empty document (0 bytes)")
    digest = hashlib.sha256(data).hexdigest()
    if kind == "pdf":
        text, pages, title = _load_pdf(data)
    elif kind == "html":
        text, title = _load_html(data)
        pages = (Page(None, 0, len(text)),)
    else:
        text, _ = decode_text(data)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        title = ""
        pages = (Page(None, 0, len(text)),)
    if not text.strip():
        raise BadDocument("empty document (no text)")
    return LoadedDocument(doc_id, kind, text, pages, title or _first_line_title(text), digest, len(data))


def load_document(path: Path, doc_id: str) -> LoadedDocument:
    kind = doc_type(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BadDocument(f"file not found: {path}") from None
    except OSError as exc:
        raise BadDocument(f"cannot read file: {exc.strerror or exc}") from exc
    return load_bytes(doc_id, data, kind)
