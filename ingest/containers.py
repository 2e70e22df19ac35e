"""What a file is by its content: magic bytes, and for a ZIP container its members.

Word (.docx), PowerPoint (.pptx) and Hangul (.hwpx) files are all ZIP archives, so "starts with
PK" says little: the members tell them apart (``word/document.xml``, ``ppt/presentation.xml``,
a ``mimetype`` member holding ``application/hwp+zip``). This module only reads a ZIP's central
directory and small members; the loaders read the rest through their libraries, after
:func:`open_zip` has checked the sizes the archive declares (a "zip bomb" is refused before
anything is inflated: ``zipfile`` never inflates a member past its declared size).
"""
from __future__ import annotations

import io
import zipfile

from rag.errors import BadDocument

# Formats no loader reads: a file named .txt/.md/.html that starts with one of these was misnamed
# (or is hostile), and indexing its bytes as text would be garbage.
FOREIGN_MAGIC = {b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"GIF8": "a GIF image",
                 b"\x1f\x8b": "a gzip archive", b"\x7fELF": "a program", b"RIFF": "a RIFF file (image or audio)",
                 b"\xd0\xcf\x11\xe0": "an OLE compound file (a legacy .doc/.ppt/.hwp, or a password-protected "
                                      "Office file)",
                 b"7z\xbc\xaf": "a 7-Zip archive", b"Rar!": "a RAR archive"}
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header, or the end record of an empty archive
# Other ZIP-based formats, named in errors: (a member that marks it, its name), then by the
# ``mimetype`` member OpenDocument and EPUB files start with.
FOREIGN_ZIPS = (("xl/workbook.xml", "an Excel workbook (.xlsx)"),)
FOREIGN_MIMETYPES = ((b"application/vnd.oasis.opendocument", "an OpenDocument file (.odt, .odp, ...)"),
                     (b"application/epub+zip", "an EPUB book"))
UNKNOWN_ZIP = "a ZIP archive of an unknown kind"

# Bounds on what a document container may declare. A course deck with images is tens of MB; the
# upload limit (RAG_MAX_UPLOAD_MB) bounds the compressed size, these bound what it inflates to.
MAX_MEMBERS = 10_000
MAX_MEMBER_BYTES = 128 * 2**20
MAX_TOTAL_BYTES = 512 * 2**20
# Deflate reaches about 1:1000 at best; XML compresses to 1:10-1:50. Only members above
# RATIO_FLOOR bytes are checked, so a small run of repeated characters is never refused.
MAX_RATIO = 200
RATIO_FLOOR = 2**20
SMALL_MEMBER_BYTES = 4096  # mimetype and other markers


def is_zip(data: bytes) -> bool:
    return data[:4] in ZIP_MAGIC


def open_zip(data: bytes) -> zipfile.ZipFile:
    """The archive, its declared sizes checked. Raises BadDocument: damaged (or truncated),
    too many members, a member or the whole too large when inflated, a zip-bomb ratio."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise BadDocument(f"a damaged or truncated ZIP archive ({exc})") from None
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise BadDocument(f"ZIP archive with too many members ({len(infos)} > {MAX_MEMBERS})")
    total = 0
    for info in infos:
        total += info.file_size
        too_big = info.file_size > MAX_MEMBER_BYTES or total > MAX_TOTAL_BYTES
        bomb = info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1)
        if too_big or bomb:
            raise BadDocument(f"ZIP member {info.filename!r} too large when decompressed "
                              f"({info.file_size:,} bytes from {info.compress_size:,}); a zip bomb?")
    return archive


def zip_members(data: bytes) -> frozenset[str] | None:
    """The member names of a readable ZIP archive, else None (not a ZIP, or damaged)."""
    if not is_zip(data):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return frozenset(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None


def small_member(data: bytes, name: str) -> bytes | None:
    """The bytes of a small marker member (``mimetype``), None when absent, unreadable or large."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo(name)
            if info.file_size > SMALL_MEMBER_BYTES:
                return None
            return archive.read(info)
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, NotImplementedError):
        return None


def describe_foreign(data: bytes) -> str | None:
    """What a file is when it is a binary format no loader reads (None when none is recognised)."""
    if is_zip(data):
        names = zip_members(data)
        if names is None:
            return "a damaged or truncated ZIP archive"
        mimetype = small_member(data, "mimetype") or b"-"
        return next((what for member, what in FOREIGN_ZIPS if member in names), None) or next(
            (what for prefix, what in FOREIGN_MIMETYPES if mimetype.startswith(prefix)), UNKNOWN_ZIP)
    head = data[:8]
    return next((name for magic, name in FOREIGN_MAGIC.items() if head.startswith(magic)), None)


XML_SUFFIXES = (".xml", ".rels", ".hpf")
PROLOG_BYTES = 4096


def refuse_dtd(archive: zipfile.ZipFile) -> None:
    """Every Office format refuses XML with a document type declaration the same way: Word,
    PowerPoint and Hangul never write one, and a DTD is how entities ("billion laughs", external
    files) get in; python-docx and python-pptx would silently drop the text holding one, and
    python-hwpx refuses it. Only each XML member's prolog is read (the DTD must come before the
    root element). Raises BadDocument naming the member."""
    for info in archive.infolist():
        if not info.filename.lower().endswith(XML_SUFFIXES) or info.is_dir():
            continue
        try:
            with archive.open(info) as member:
                head = member.read(PROLOG_BYTES)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, NotImplementedError):
            raise BadDocument(f"the part {info.filename!r} cannot be read: the file is damaged or encrypted") from None
        head = head.replace(b"\x00", b"")  # UTF-16 XML: the ASCII markup without its zero bytes
        if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
            raise BadDocument(f"the part {info.filename!r} declares XML entities (a DTD), which Office and Hangul "
                              "files never contain; refused rather than read with text missing")
