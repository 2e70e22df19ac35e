"""PDFs page by page (pypdf): bounded work, encrypted files with an empty password, and pages
that have no usable text layer (fonts without a Unicode map, scans) reported instead of indexed.
"""
from __future__ import annotations

import contextlib
import dataclasses
import io
import re
import time
from dataclasses import dataclass
from typing import ContextManager

from rag.errors import BadDocument

from ingest import cleaning
from ingest.document import PAGE_SEPARATOR, Loaded, Loader, Page
from ingest.normalize import normalize_text

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
NO_TEXT_LAYER = "no Unicode text layer"
# What a glyph without a Unicode mapping comes out as: C0/C1 controls, U+FFFD, private use.
_UNMAPPED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd\ue000-\uf8ff]")
_SPACE = re.compile(r"\s")
# A page is "mostly unmapped" above this share of its visible characters. Real text has none
# of these characters; a font without a ToUnicode map yields little else.
UNMAPPED_SHARE = 0.1


@dataclass(frozen=True)
class PdfText:
    text: str
    pages: tuple[Page, ...]
    title: str
    warnings: tuple[str, ...]


def unmapped_share(text: str) -> float:
    """Share of ``text``'s visible characters that are control, replacement or private-use
    characters (the extraction of glyphs that have no Unicode mapping); 0.0 for blank text."""
    visible = len(text) - len(_SPACE.findall(text))
    return len(_UNMAPPED.findall(text)) / visible if visible > 0 else 0.0


def _pdf_limits() -> ContextManager[object]:
    """pypdf's resource limits, lowered for the duration of one load (pypdf 6.4+ has them)."""
    try:
        from pypdf import Configuration, apply_configuration
    except ImportError:  # older pypdf: only its built-in limits and ours below apply
        return contextlib.nullcontext()
    known = {f.name for f in dataclasses.fields(Configuration)}
    return apply_configuration(**{k: v for k, v in PDF_LIMITS.items() if k in known})


def load_pdf(data: bytes) -> PdfText:
    """The text of a PDF's pages, joined by PAGE_SEPARATOR, each page's span in ``pages``.

    Raises BadDocument: encrypted with a password, corrupt, too large, no text at all, most
    pages without a Unicode text layer, or only a line repeated on every page (needs OCR).
    """
    with _pdf_limits():
        texts, title = _read_pages(data)
    warnings: list[str] = []
    unmapped = [n for n, t in enumerate(texts, start=1) if unmapped_share(t) > UNMAPPED_SHARE]
    with_text = sum(1 for t in texts if t.strip())
    if unmapped and len(unmapped) * 2 > with_text:  # most pages: the document fails
        raise BadDocument(f"{NO_TEXT_LAYER}: {len(unmapped)} of {len(texts)} pages give unmapped glyphs "
                          "(a font without a ToUnicode map); the text cannot be read without OCR")
    if unmapped:
        warnings.append(f"{NO_TEXT_LAYER} on page{'s' if len(unmapped) > 1 else ''} "
                        f"{', '.join(map(str, unmapped))}: skipped (a font without a ToUnicode map)")
    parts: list[str] = []
    pages: list[Page] = []
    pos = 0
    for number, raw in enumerate(texts, start=1):
        page_text = "" if number in unmapped else normalize_text(_UNMAPPED.sub("", raw))
        if parts:
            pos += len(PAGE_SEPARATOR)
        pages.append(Page(number, pos, pos + len(page_text)))
        parts.append(page_text)
        pos += len(page_text)
    text = PAGE_SEPARATOR.join(parts)
    if not text.strip():
        raise BadDocument("PDF has no extractable text (scanned images or empty pages): it needs OCR")
    running = cleaning.running_lines_spans(text, [(p.start, p.end) for p in pages])
    kept, last = [], 0
    for a, b in running:
        kept.append(text[last:a])
        last = b
    kept.append(text[last:])
    if not "".join(kept).strip():
        sample = text[running[0][0] : running[0][1]].strip()[:60] if running else ""
        raise BadDocument(f"PDF needs OCR: its only text ({sample!r}) repeats on every page, "
                          "a footer or watermark over scanned images")
    return PdfText(text, tuple(pages), title, tuple(warnings))


def _read_pages(data: bytes) -> tuple[list[str], str]:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, LimitReachedError, PdfReadError

    started = time.monotonic()
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise BadDocument("encrypted PDF: a password is needed to open it")
            except BadDocument:
                raise
            except DependencyError as exc:  # cryptography is a dependency; this is a broken install
                raise BadDocument(f"encrypted PDF: cannot decrypt here ({exc})") from exc
            except Exception as exc:
                raise BadDocument(f"encrypted PDF that cannot be opened: {exc}") from exc
        texts: list[str] = []
        total = 0
        for number, page in enumerate(reader.pages, start=1):
            page_text = page.extract_text() or ""
            if len(page_text) > MAX_PAGE_CHARS:
                raise BadDocument(f"{TOO_LARGE}: page {number} has over {MAX_PAGE_CHARS:,} characters of text")
            total += len(page_text)
            if total > MAX_PDF_CHARS:
                raise BadDocument(f"{TOO_LARGE}: over {MAX_PDF_CHARS:,} characters of text")
            if time.monotonic() - started > MAX_PDF_SECONDS:
                raise BadDocument(f"PDF takes too long to read (over {MAX_PDF_SECONDS:g} s by page {number})")
            texts.append(page_text)
        title = ""
        if reader.metadata is not None and reader.metadata.title:
            title = normalize_text(str(reader.metadata.title))[:80]
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
    return texts, title


def load(data: bytes, chunk_chars: int) -> Loaded:
    pdf = load_pdf(data)
    return Loaded(pdf.text, pdf.pages, pdf.title, None, (), pdf.warnings)


LOADER = Loader("pdf", "a PDF", (".pdf",), ("application/pdf",),
                "the text layer page by page (page numbers kept for citations); pages without "
                "a Unicode text layer reported, not indexed; sections from heading-like lines",
                load, sniff=lambda data: b"%PDF-" in data[:1024], expected="it does not start with %PDF-",
                metadata_title=True)
