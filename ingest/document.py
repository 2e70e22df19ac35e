"""What a loader returns: the document's text with page spans, headings and chunk breaks.

Every offset indexes the loaded text, which is already Unicode-normalised
(``ingest.normalize``), so ``chunk.text == text[start:end]`` holds for every chunk cut from it.
:class:`TextLayout` builds such a text block by block for the loaders of structured formats
(Word, PowerPoint, Hangul), normalising each block as it is appended.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ingest.normalize import normalize_text

PAGE_SEPARATOR = "\n\n"
DEFAULT_CHUNK_CHARS = 500  # Settings.chunk_size's default
CELL_SEPARATOR = " | "
FIELD_SEPARATOR = " · "
# Level of a table row's part in the heading table: deeper than any heading a format has (Markdown
# and HTML 1-6, Word 1-9, Hangul outline 1-10), so a row is named under the section it sits in.
TABLE_ROW_LEVEL = 100


def table_row_label(table: int, row: int) -> str:
    """How a citation names a table row: ``"표 2, 3행"`` (the document's 2nd table, its 3rd row
    counted from the top, the header row being row 1)."""
    return f"표 {table}, {row}행"


def table_parts(table: int, row_starts: list[int], end: int) -> list[Heading]:
    """The labelled parts of one laid-out table (``Loaded.structure``): each row from its line's
    start offset, named by :func:`table_row_label`, and an untitled part at ``end`` (just after
    the last row) where the enclosing section resumes (``rag.snapshots.sections``)."""
    parts = [Heading(start, table_row_label(table, n), TABLE_ROW_LEVEL) for n, start in enumerate(row_starts, 1)]
    return [*parts, Heading(end, "", TABLE_ROW_LEVEL)] if parts else []


def table_lines(rows: list[list[str]], header: bool | None = None) -> list[str]:
    """A table's rows as lines of text, for every format with tables (Word, PowerPoint, Hangul,
    Markdown, HTML).

    The first row as written, its cells separated by ``CELL_SEPARATOR``; each later row with its
    column headers, "모델: GoogLeNet · 연도: 2014", so that a row read alone (a passage, a quoted
    sentence) says what its values are. Headers are used when the first row names every column
    once (as many non-empty, distinct cells as the row has); other rows (merged cells, a table
    with no header row) keep their cells separated by ``CELL_SEPARATOR``. Empty cells are left out
    of a row with headers; empty rows are dropped. ``header``: whether the first row is a header
    row as the format marks it (HTML ``<th>`` cells, Markdown's header row): False when the format
    says there is none (every row keeps its cells as written); True or None (a format that marks
    nothing) apply the rule above.
    """
    rows = [[" ".join(c.split()) for c in r] for r in rows if any(c.strip() for c in r)]
    if not rows:
        return []
    first = rows[0]
    named = all(first) and len(set(first)) == len(first) and header is not False
    out = [CELL_SEPARATOR.join(first)]
    for row in rows[1:]:
        if named and len(row) == len(first):
            out.append(FIELD_SEPARATOR.join(f"{h}: {c}" for h, c in zip(first, row) if c))
        else:
            out.append(CELL_SEPARATOR.join(row))
    return out


@dataclass(frozen=True)
class Page:
    """``number``: the page (PDF) or slide (PowerPoint) number, 1-based; None for formats without pages.
    ``start``/``end``: its span in the loaded text, in characters."""

    number: int | None
    start: int
    end: int


@dataclass(frozen=True)
class Heading:
    """A section heading: ``start`` is the offset of its line in the loaded text; ``level``: 1 for
    a top-level heading (Markdown ``#``, HTML ``h1``, Word "Heading 1", a slide title), deeper
    ones larger. A section's path is its heading and the nearest shallower headings before it."""

    start: int
    title: str
    level: int = 1


@dataclass(frozen=True)
class Loaded:
    """One loader's result, before the document's id, hash and size are added.

    ``headings``: the format's own headings, or None when the splitter must find heading-like
    lines itself (plain text, PDF pages). ``breaks``: offsets where a chunk should end.
    ``warnings``: what was skipped and why, for the ingest summary. ``structure``: positions of
    parts the loader labels (a slide's speaker notes, table rows: :func:`table_parts`), named like
    sections in citations but no chunk boundary; the label is never written into ``text``, so no quote carries it.
    """

    text: str
    pages: tuple[Page, ...]
    title: str = ""
    headings: tuple[Heading, ...] | None = None
    breaks: tuple[int, ...] = ()
    warnings: tuple[str, ...] = ()
    structure: tuple[Heading, ...] = ()


@dataclass(frozen=True)
class LoadedDocument:
    """A document as loaded: chunk offsets index into ``text`` (already Unicode-normalised).

    ``type``: the loader's type name (``ingest.loader_registry``). For ``headings``, ``breaks``
    ``warnings`` and ``structure`` see :class:`Loaded`.
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
    structure: tuple[Heading, ...] = ()


@dataclass(frozen=True)
class Loader:
    """One document format: how to recognise it and how to load it (``ingest.loader_registry``).

    ``type``: the short name stored with the document (``docx``). ``name``: what it is, for
    errors ("not a Word document (.docx): it is ..."). ``extensions`` (lower case, with the dot)
    and ``media_types``: what uploads and directories may call it. ``keeps``: one line saying
    what the loader keeps (pages, sections, tables), for docs/formats.md. ``load(data, chunk_chars)``
    returns :class:`Loaded` or raises ``BadDocument``. ``sniff(data)``: True when the bytes are
    this format; None for text formats, which accept any content that is no known binary format.
    ``expected``: what the content lacks when ``sniff`` says no and nothing else is recognised.
    ``metadata_title``: the format has a title of its own beside the text (HTML ``<title>``, PDF
    and Office document properties, a Markdown front matter's ``title:``), which ``Loaded.title`` then holds and titles prefer.
    """

    type: str
    name: str
    extensions: tuple[str, ...]
    media_types: tuple[str, ...]
    keeps: str
    load: Callable[[bytes, int], Loaded]
    sniff: Callable[[bytes], bool] | None = None
    expected: str = ""
    metadata_title: bool = False


@dataclass
class TextLayout:
    """A text built from blocks (paragraphs, table rows, slides), keeping offsets exact.

    Blocks are normalised and stripped of surrounding whitespace; blank ones are dropped.
    ``paragraph`` ends a block with a newline, ``heading`` and ``start_page`` put a blank line
    before themselves so the splitter sees a paragraph edge there; ``mark_break`` records a
    chunk boundary (a table's edges).
    """

    parts: list[str] = field(default_factory=list)
    pos: int = 0
    headings: list[Heading] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)
    breaks: set[int] = field(default_factory=set)
    structure: list[Heading] = field(default_factory=list)
    tables: int = 0  # tables laid out so far (a table's number in citations)
    _page: tuple[int, int] | None = None  # (number, start) of the page being written

    def _write(self, s: str) -> None:
        self.parts.append(s)
        self.pos += len(s)

    def _blank_line(self) -> None:
        if self.pos and not "".join(self.parts[-2:]).endswith("\n\n"):
            self._write("\n" if self.parts[-1].endswith("\n") else "\n\n")

    def paragraph(self, text: str) -> bool:
        """Append one block of text; False (nothing written) when it is blank."""
        lines = [" ".join(line.split()) for line in normalize_text(text).splitlines()]
        block = "\n".join(line for line in lines if line)
        if not block:
            return False
        self._write(block + "\n")
        return True

    def heading(self, title: str, level: int = 1, *, record_only: bool = False) -> None:
        """A section heading here, ``level`` 1 (top) or deeper. ``record_only``: name the section
        without writing its title into the text (a slide without a title is still its own section)."""
        title = " ".join(normalize_text(title).split())
        if not title:
            return
        self._blank_line()
        self.headings.append(Heading(self.pos, title, level))
        if not record_only:
            self._write(title + "\n")

    def part(self, label: str, level: int) -> None:
        """The blocks that follow are a labelled part (a slide's speaker notes): ``label`` names
        it in citations, as a heading of ``level`` would, but is neither text nor a chunk boundary."""
        self.structure.append(Heading(self.pos, label, level))

    def table(self, rows: list[list[str]], header: bool | None = None) -> None:
        """A table (cells of each row), as :func:`table_lines`, between two chunk breaks; each
        row a part named by its table and row (:func:`table_parts`)."""
        self.mark_break()
        starts = []
        for line in table_lines(rows, header):
            start = self.pos
            if self.paragraph(line):
                starts.append(start)
        if starts:
            self.tables += 1
            self.structure.extend(table_parts(self.tables, starts, self.pos - 1))
        self.mark_break()

    def mark_break(self) -> None:
        self.breaks.add(self.pos)

    def start_page(self, number: int) -> None:
        self.end_page()
        if self.pos:
            self._write("\n" if self.parts[-1].endswith("\n") else "\n\n")
        self._page = (number, self.pos)

    def end_page(self) -> None:
        if self._page is not None:
            number, start = self._page
            end = self.pos
            for part in reversed(self.parts):  # the page ends with its text, not the newlines after it
                kept = len(part.rstrip())
                end -= len(part) - kept
                if kept:
                    break
            self.pages.append(Page(number, start, max(start, end)))
            self._page = None

    def result(self, title: str = "", warnings: tuple[str, ...] = ()) -> Loaded:
        """The text laid out; ``title``: the format's metadata title, if any."""
        self.end_page()
        text = "".join(self.parts)
        pages = tuple(self.pages) or (Page(None, 0, len(text)),)
        return Loaded(text, pages, title[:80], tuple(self.headings), tuple(sorted(self.breaks)), warnings,
                      tuple(self.structure))
