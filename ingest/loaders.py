"""Loading documents as text with page spans, keeping offsets meaningful for citations."""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ContextManager

from rag.errors import BadDocument, UnsupportedType

from ingest.encoding import decode_text

SUPPORTED = {".txt": "txt", ".md": "md", ".markdown": "md", ".pdf": "pdf", ".html": "html", ".htm": "html"}
PAGE_SEPARATOR = "\n\n"

# A PDF is small on disk but its streams may inflate to gigabytes (a "PDF bomb"): bound what one
# stream may decompress to and how much work parsing it may take, then the text a page and a
# document may yield, and the time a whole document may take to read.
PDF_LIMITS = {
    "maximum_declared_stream_length": 16 * 2**20,
    "zlib_maximum_output_length": 16 * 2**20,
    "lzw_maximum_output_length": 16 * 2**20,
    "run_length_maximum_output_length": 16 * 2**20,
    "brotli_maximum_output_length": 16 * 2**20,
    "array_based_stream_maximum_output_length": 16 * 2**20,
    "stream_decoding_work_maximum_length": 32 * 2**20,
    "stream_parsing_work_maximum_count": 300_000,
}
MAX_PAGE_CHARS = 1_000_000
MAX_PDF_CHARS = 10_000_000
MAX_PDF_SECONDS = 60.0
TOO_LARGE = "PDF too large when decompressed"

# Leading bytes of formats that are never text: a file named .txt/.md/.html that starts with one
# of these was misnamed (or is hostile), and indexing its bytes as text would be garbage.
MAGIC = {b"%PDF-": "a PDF", b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"GIF8": "a GIF image",
         b"PK\x03\x04": "a ZIP archive (docx, xlsx, ...)", b"\x1f\x8b": "a gzip archive", b"\x7fELF": "a program",
         b"RIFF": "a RIFF file (image or audio)", b"\xd0\xcf\x11\xe0": "an old Office document"}


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


def sniff(data: bytes) -> str | None:
    """What a file's first bytes say it is, when that is a binary format (else None)."""
    head = data[:8]
    return next((name for magic, name in MAGIC.items() if head.startswith(magic)), None)


def check_content(data: bytes, kind: str) -> None:
    """The content must match the extension: a .pdf is a PDF, a text type is not a known binary format."""
    found = sniff(data)
    if kind == "pdf":
        if b"%PDF-" not in data[:1024]:
            what = f"it is {found}" if found else "it does not start with %PDF-"
            raise BadDocument(f"not a PDF: {what}")
    elif found is not None:
        raise BadDocument(f"binary content: the file is {found}, not {kind} text (its extension does not match)")


def _pdf_limits() -> ContextManager[object]:
    """pypdf's resource limits, lowered for the duration of one load (pypdf 6.4+ has them)."""
    try:
        from pypdf import Configuration, apply_configuration
    except ImportError:  # older pypdf: only its built-in limits and ours below apply
        return contextlib.nullcontext()
    known = {f.name for f in dataclasses.fields(Configuration)}
    return apply_configuration(**{k: v for k, v in PDF_LIMITS.items() if k in known})


def _load_pdf(data: bytes) -> tuple[str, tuple[Page, ...], str]:
    with _pdf_limits():
        return _read_pdf(data)


def _read_pdf(data: bytes) -> tuple[str, tuple[Page, ...], str]:
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError, PdfReadError

    started = time.monotonic()
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
            if len(page_text) > MAX_PAGE_CHARS:
                raise BadDocument(f"{TOO_LARGE}: page {number} has over {MAX_PAGE_CHARS:,} characters of text")
            if pos + len(page_text) > MAX_PDF_CHARS:
                raise BadDocument(f"{TOO_LARGE}: over {MAX_PDF_CHARS:,} characters of text")
            if time.monotonic() - started > MAX_PDF_SECONDS:
                raise BadDocument(f"PDF takes too long to read (over {MAX_PDF_SECONDS:g} s by page {number})")
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
    except LimitReachedError as exc:
        raise BadDocument(f"{TOO_LARGE}: {exc}") from exc
    except MemoryError as exc:
        raise BadDocument(f"{TOO_LARGE}: out of memory while reading it") from exc
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
    check_content(data, kind)
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
