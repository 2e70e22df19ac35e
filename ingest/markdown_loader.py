"""Markdown through a real parser (markdown-it-py, CommonMark with GFM tables): headings come from
the parse, so a ``# comment`` inside a fenced code block is never one; code blocks and tables are
chunk boundaries.

The loaded text is the Markdown source itself (quotes keep what the author wrote), except
tables: their cells come from the parse and are laid out as in every other format
(``ingest.document.table_lines``), each row on its own line with its column headers, so every
row says what its values are wherever a chunk cuts the table.
"""
from __future__ import annotations

import re
from typing import Any

from markdown_it import MarkdownIt

from ingest.document import Heading, Loaded, Loader, Page, table_lines, table_parts
from ingest.text_loader import decoded

_PARSER = MarkdownIt("commonmark").enable("table")
# YAML front matter (Jekyll, Hugo, Obsidian): metadata, not text; its closing "---" would
# otherwise make the line above it a setext heading.
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?(---|\.\.\.)[ \t]*(\n|\Z)", re.S)
_TITLE_LINE = re.compile(r"^title:[ \t]*(\S.*?)[ \t]*$", re.M)


def _plain(inline: Any) -> str:
    """The text of an inline token without its markup (``**Adam** `lr``` -> ``Adam lr``)."""
    parts = [" " if c.type in ("softbreak", "hardbreak") else c.content
             for c in (inline.children or []) if c.type in ("text", "code_inline", "softbreak", "hardbreak")]
    return " ".join("".join(parts).split())


def table_rows(tokens: list[Any], i: int) -> tuple[list[list[str]], int]:
    """The cells of the table opened at ``tokens[i]`` (``table_open``), row by row, as plain text,
    and the index of its ``table_close``."""
    rows: list[list[str]] = []
    while i < len(tokens) and tokens[i].type != "table_close":  # GFM tables hold no tables
        if tokens[i].type == "tr_open":
            rows.append([])
        elif tokens[i].type == "inline" and rows:
            rows[-1].append(_plain(tokens[i]))
        i += 1
    return rows, i


def markdown_layout(source: str) -> tuple[str, tuple[Heading, ...], tuple[int, ...], tuple[Heading, ...]]:
    """(text, headings, breaks, structure) of a Markdown document.

    The text is the source, except that a table is written as :func:`ingest.document.table_lines`
    lays tables out in every format: the header row's cells separated by " | ", each later row on
    a line of its own with its column headers ("모델: GoogLeNet · 연도: 2014"), so a row read alone
    (a chunk, a quoted sentence) says what its values are. ``breaks``: offsets where code blocks
    and tables start and end. ``structure``: each table row as a part named by its table and row
    (:func:`ingest.document.table_parts`).
    """
    front = _FRONT_MATTER.match(source)
    if front:
        source = source[front.end():]
    tokens = _PARSER.parse(source)
    lines = source.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    heading_at: dict[int, tuple[str, int]] = {}
    block_edges: set[int] = set()  # line numbers where a code block or table starts or ends
    tables: dict[int, tuple[int, list[list[str]]]] = {}  # first line -> (end line (exclusive), cells)
    for i, tok in enumerate(tokens):
        if tok.map is None:
            continue
        a, b = tok.map
        if tok.type == "heading_open" and i + 1 < len(tokens):
            title = _plain(tokens[i + 1])
            if title:
                heading_at[a] = (title, int(tok.tag[1:]))  # h1..h6, setext headings too
        elif tok.type in ("fence", "code_block"):
            block_edges.update((a, b))
        elif tok.type == "table_open" and a not in tables:
            tables[a] = (b, table_rows(tokens, i)[0])
            block_edges.update((a, b))
    out: list[str] = []
    pos = 0
    headings: list[Heading] = []
    structure: list[Heading] = []
    breaks: set[int] = set()
    numbered = 0  # tables laid out so far
    line = 0
    while line < len(lines):
        if line in block_edges:
            breaks.add(pos)
        if line in heading_at:
            headings.append(Heading(pos, *heading_at[line]))
        if line in tables:
            end, rows = tables[line]
            starts = []
            for row in table_lines(rows, header=True):  # GFM's first row is its header row
                starts.append(pos)
                out.append(row + "\n")
                pos += len(row) + 1
            if starts:
                numbered += 1
                structure.extend(table_parts(numbered, starts, pos - 1))
            line = end
            continue
        out.append(lines[line])
        pos += len(lines[line])
        line += 1
    if len(lines) in block_edges:
        breaks.add(pos)
    return "".join(out), tuple(headings), tuple(sorted(breaks)), tuple(structure)


def front_matter_title(source: str) -> str:
    """The ``title:`` of a YAML front matter block, unquoted; "" without one. Read line by line
    (a YAML parser for one scalar would be a new dependency); a multi-line title is not read."""
    front = _FRONT_MATTER.match(source)
    m = _TITLE_LINE.search(front.group(1) or "") if front else None
    return " ".join(m.group(1).strip().strip("'\"").split()) if m else ""


def load(data: bytes, chunk_chars: int) -> Loaded:
    source = decoded(data)
    text, headings, breaks, structure = markdown_layout(source)
    title = front_matter_title(source) or (headings[0].title if headings else "")
    return Loaded(text, (Page(None, 0, len(text)),), title, headings, breaks, structure=structure)


LOADER = Loader("md", "a Markdown note", (".md", ".markdown"), ("text/markdown",),
                "the Markdown source (front matter dropped); sections from its headings; code blocks "
                "kept whole; tables a row per line, with its column headers ('모델: GoogLeNet · 연도: 2014'), "
                "each row cited at its table and row ('표 2, 3행')", load,
                metadata_title=True)  # a front matter's title:
