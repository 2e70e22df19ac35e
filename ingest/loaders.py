"""Loading documents as text with page spans, keeping offsets meaningful for citations."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from rag.errors import BadDocument, UnsupportedType

from ingest.encoding import decode_text
from ingest.normalize import normalize_id, normalize_text

SUPPORTED = {".txt": "txt", ".md": "md", ".markdown": "md", ".pdf": "pdf", ".html": "html", ".htm": "html"}
PAGE_SEPARATOR = "\n\n"
DEFAULT_CHUNK_CHARS = 500  # Settings.chunk_size's default

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
class Heading:
    """A section heading: ``start`` is the offset of its line in the loaded text."""

    start: int
    title: str


@dataclass(frozen=True)
class LoadedDocument:
    """A document as loaded: chunk offsets index into ``text`` (already Unicode-normalised).

    ``headings``: the format's own headings (Markdown, HTML), or None when the splitter must find
    heading-like lines itself (plain text, PDF pages). ``breaks``: offsets where a chunk should
    end (edges of code blocks and of table row groups). ``warnings``: what was skipped and why
    (a PDF page without a Unicode text layer), for the ingest summary.
    """

    doc_id: str
    type: str
    text: str
    pages: tuple[Page, ...]
    title: str
    hash: str
    size: int
    headings: tuple[Heading, ...] | None = None
    breaks: tuple[int, ...] = ()
    warnings: tuple[str, ...] = ()


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


def load_bytes(doc_id: str, data: bytes, kind: str, *, chunk_chars: int = DEFAULT_CHUNK_CHARS) -> LoadedDocument:
    """Load a document from its bytes; ``kind`` is one of the SUPPORTED types.

    ``chunk_chars``: the chunk size the text will be split to (a Markdown table is laid out in
    row groups that fit one chunk, each led by the header row). The id and the text come back
    Unicode-normalised (see ``ingest.normalize``). Raises BadDocument with the reason.
    """
    from ingest import html_loader, markdown_loader, pdf_loader

    if not data:
        raise BadDocument("empty document (0 bytes)")
    doc_id = normalize_id(doc_id)
    digest = hashlib.sha256(data).hexdigest()
    check_content(data, kind)
    headings: tuple[Heading, ...] | None = None
    breaks: tuple[int, ...] = ()
    warnings: tuple[str, ...] = ()
    if kind == "pdf":
        pdf = pdf_loader.load_pdf(data)
        text, pages, title, warnings = pdf.text, pdf.pages, pdf.title, pdf.warnings
    else:
        raw, _ = decode_text(data)
        raw = normalize_text(raw.replace("\r\n", "\n").replace("\r", "\n"))
        if kind == "html":
            text, headings, title = html_loader.html_to_text(raw)
        elif kind == "md":
            text, headings, breaks = markdown_loader.markdown_layout(raw, chunk_chars)
            title = headings[0].title if headings else ""
        else:
            text, title = raw, ""
        pages = (Page(None, 0, len(text)),)
    if not text.strip():
        raise BadDocument("empty document (no text)")
    return LoadedDocument(doc_id, kind, text, pages, (title or _first_line_title(text))[:80], digest, len(data),
                          headings, breaks, warnings)


def read_file(path: Path) -> bytes:
    """The bytes of a document file; ``BadDocument`` when it is missing or unreadable."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise BadDocument(f"file not found: {path}") from None
    except OSError as exc:
        raise BadDocument(f"cannot read file: {exc.strerror or exc}") from exc


def load_document(path: Path, doc_id: str, *, chunk_chars: int = DEFAULT_CHUNK_CHARS) -> LoadedDocument:
    kind = doc_type(path)
    return load_bytes(doc_id, read_file(path), kind, chunk_chars=chunk_chars)


def find_file(directory: Path, doc_id: str) -> Path | None:
    """The file under ``directory`` whose normalised relative path is ``doc_id`` (a name written
    in NFD by macOS, or with full-width letters, is found by its normalised id), else None."""
    exact = directory / doc_id
    if exact.is_file():
        return exact
    parent = (directory / doc_id).parent
    if not parent.is_dir():
        return None
    for path in parent.iterdir():
        if path.is_file() and normalize_id(path.relative_to(directory).as_posix()) == doc_id:
            return path
    return None
