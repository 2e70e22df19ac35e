"""The one list of document formats: each loader module declares a :class:`Loader`, listed here.

Everything that names the formats derives from ``LOADERS``: the extensions a notes directory and
an upload accept (``SUPPORTED``), the content check (a file whose bytes are another format than
its extension says is refused with what it really is), the accepted-types text of the API, the
CLI and docs/formats.md. Adding a format is one module that defines ``LOADER`` plus one line below.
"""
from __future__ import annotations

import re

from pathlib import PurePath

from rag.errors import BadDocument, UnsupportedType

from ingest import containers, docx_loader, html_loader, hwpx_loader, markdown_loader, pdf_loader, pptx_loader, text_loader
from ingest.document import Loader

LOADERS: tuple[Loader, ...] = (
    text_loader.LOADER,
    markdown_loader.LOADER,
    pdf_loader.LOADER,
    html_loader.LOADER,
    docx_loader.LOADER,
    pptx_loader.LOADER,
    hwpx_loader.LOADER,
)
BY_TYPE: dict[str, Loader] = {loader.type: loader for loader in LOADERS}
# extension (lower case, with the dot) -> type name
SUPPORTED: dict[str, str] = {ext: loader.type for loader in LOADERS for ext in loader.extensions}


def by_type(kind: str) -> Loader:
    try:
        return BY_TYPE[kind]
    except KeyError:
        raise UnsupportedType(f"unknown document type {kind!r}; known: {', '.join(BY_TYPE)}") from None


def for_path(path: PurePath) -> Loader:
    """The loader for a file name by its extension; ``UnsupportedType`` (HTTP 415) when none has it."""
    suffix = path.suffix.lower()
    try:
        return BY_TYPE[SUPPORTED[suffix]]
    except KeyError:
        raise UnsupportedType(f"unsupported file type {suffix or '(none)'!r}; supported: {accepted_types()}") from None


def identify(data: bytes) -> str | None:
    """What the bytes are when they are a binary format: a registered loader's name, else a
    known foreign format ("a PNG image", "a ZIP archive of an unknown kind"), else None (text)."""
    for loader in LOADERS:
        if loader.sniff is not None and loader.sniff(data):
            return loader.name
    return containers.describe_foreign(data)


def check_content(data: bytes, loader: Loader) -> None:
    """The bytes must be what the extension says. Raises BadDocument naming what they are."""
    if loader.sniff is not None:
        if not loader.sniff(data):
            found = identify(data)
            if found is None:
                raise BadDocument(f"not {loader.name}: {loader.expected}")
            unknown = found == containers.UNKNOWN_ZIP
            raise BadDocument(f"not {loader.name}: it is {found}" + (f" ({loader.expected})" if unknown else ""))
        return
    found = identify(data)
    if found is not None:
        raise BadDocument(f"binary content: the file is {found}, not {loader.type} text (its extension does not match)")
    if loader.type != "html" and _HTML_PAGE.match(data[:512]):
        # Markdown may hold HTML blocks, but a whole page (doctype or <html> first) read as text
        # would show students its markup and lose its sections
        raise BadDocument(f"the file is an HTML page, not {loader.type} text (its extension does not match): "
                          "upload it under a .html name")


_HTML_PAGE = re.compile(rb"^(?:\xef\xbb\xbf)?\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>])", re.IGNORECASE | re.DOTALL)


def accepted_types() -> str:
    """".txt, .md, ... or .hwpx": every accepted extension, in registry order."""
    exts = list(SUPPORTED)
    return ", ".join(exts[:-1]) + f" or {exts[-1]}" if len(exts) > 1 else exts[0]


def type_names() -> str:
    """"txt, md, ... or hwpx": the document types as stored with each document."""
    return ", ".join(BY_TYPE)


def formats_table() -> str:
    """The table of formats (Markdown) in docs/formats.md, generated from the registry; a test keeps
    that copy equal to it."""
    rows = ["| type | extensions | media types | what the loader keeps |", "| --- | --- | --- | --- |"]
    rows += [f"| {ld.type} | {', '.join(ld.extensions)} | {', '.join(ld.media_types)} | {ld.keeps} |" for ld in LOADERS]
    return "\n".join(rows)
