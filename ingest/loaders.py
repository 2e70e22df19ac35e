"""Loading documents as text with page spans, keeping offsets meaningful for citations."""
from __future__ import annotations

import hashlib
from pathlib import Path

from rag.errors import BadDocument, RagError

from ingest import load_errors, loader_registry
from ingest.document import DEFAULT_CHUNK_CHARS, PAGE_SEPARATOR, Heading, LoadedDocument, Page
from ingest.normalize import normalize_id

__all__ = ["DEFAULT_CHUNK_CHARS", "PAGE_SEPARATOR", "SUPPORTED", "Heading", "LoadedDocument", "Page", "check_content",
           "doc_type", "find_file", "load_bytes", "load_document", "read_file", "sniff"]

SUPPORTED = loader_registry.SUPPORTED  # extension -> type, from the registry


def doc_type(path: Path) -> str:
    """The document type of a file name by its extension; ``UnsupportedType`` when none is registered."""
    return loader_registry.for_path(path).type


def _first_line_title(text: str) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if len(line) >= 2:
            return line[:80]
    return ""


def sniff(data: bytes) -> str | None:
    """What a file's bytes say it is, when that is a binary format (else None)."""
    return loader_registry.identify(data)


def check_content(data: bytes, kind: str) -> None:
    """The content must match the extension: a .pdf is a PDF, a .docx a Word document, a text
    type no known binary format. Raises BadDocument naming what the bytes are."""
    loader_registry.check_content(data, loader_registry.by_type(kind))


def load_bytes(doc_id: str, data: bytes, kind: str, *, chunk_chars: int = DEFAULT_CHUNK_CHARS) -> LoadedDocument:
    """Load a document from its bytes; ``kind`` is one of the registered types.

    ``chunk_chars``: the chunk size the text will be split to (a Markdown table is laid out in
    row groups that fit one chunk, each led by the header row). The id and the text come back
    Unicode-normalised (see ``ingest.normalize``). Raises BadDocument with the reason, whatever
    the format's library raised on a damaged file.
    """
    loader = loader_registry.by_type(kind)
    if not data:
        raise BadDocument("empty document (0 bytes)")
    doc_id = normalize_id(doc_id)
    digest = hashlib.sha256(data).hexdigest()
    loader_registry.check_content(data, loader)
    try:
        loaded = loader.load(data, chunk_chars)
    except RagError:
        raise
    except Exception as exc:  # a library's error on a damaged or hostile file is that file's failure
        raise BadDocument(load_errors.describe(exc, loader.name)) from exc
    if not loaded.text.strip():
        raise BadDocument("empty document (no text)")
    title = (loaded.title or _first_line_title(loaded.text))[:80]
    return LoadedDocument(doc_id, kind, loaded.text, loaded.pages, title, digest, len(data),
                          loaded.headings, loaded.breaks, loaded.warnings, loaded.structure)


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
