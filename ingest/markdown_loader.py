"""Markdown through a real parser (markdown-it-py, CommonMark with GFM tables): headings come from
the parse, so a ``# comment`` inside a fenced code block is never one; code blocks and tables are
chunk boundaries; a table longer than a chunk is laid out as row groups that each repeat the
header row, so every table chunk says what its columns are.

The loaded text is the Markdown source itself (quotes keep what the author wrote), except that
long tables get their header row repeated before each group of rows.
"""
from __future__ import annotations

import re
from typing import Any

from markdown_it import MarkdownIt

from ingest.document import Heading, Loaded, Loader, Page
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


def markdown_layout(source: str, chunk_chars: int) -> tuple[str, tuple[Heading, ...], tuple[int, ...]]:
    """(text, headings, breaks) of a Markdown document.

    ``chunk_chars``: the chunk size; a table whose text is longer is cut into groups of whole
    rows that fit it, each group led by the header and delimiter rows and separated by a blank
    line. ``breaks``: offsets where code blocks and table groups start and end.
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
    tables: dict[int, int] = {}  # first line -> end line (exclusive)
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
        elif tok.type == "table_open":
            tables[a] = b
            block_edges.update((a, b))
    out: list[str] = []
    pos = 0
    headings: list[Heading] = []
    breaks: set[int] = set()
    line = 0
    while line < len(lines):
        if line in block_edges:
            breaks.add(pos)
        if line in heading_at:
            headings.append(Heading(pos, *heading_at[line]))
        if line in tables:
            end = tables[line]
            for group in _row_groups(lines[line:end], chunk_chars):
                if group is not None:
                    breaks.add(pos)
                    out.append(group)
                    pos += len(group)
            line = end
            continue
        out.append(lines[line])
        pos += len(lines[line])
        line += 1
    if len(lines) in block_edges:
        breaks.add(pos)
    return "".join(out), tuple(headings), tuple(sorted(breaks))


def _row_groups(table: list[str], chunk_chars: int) -> list[str]:
    """A table's lines as groups of whole rows within ``chunk_chars``, each led by the header and
    delimiter rows; the first group is the table as written, later ones follow a blank line."""
    head, rows = table[:2], table[2:]
    if sum(map(len, table)) <= chunk_chars or not rows:
        return ["".join(table)]
    lead = "".join(head)
    groups: list[str] = []
    current: list[str] = []
    size = len(lead)
    for row in rows:
        if current and size + len(row) > chunk_chars:
            groups.append(lead + "".join(current))
            current, size = [], len(lead)
        current.append(row)
        size += len(row)
    if current:
        groups.append(lead + "".join(current))
    return [groups[0], *("\n" + g for g in groups[1:])]


def front_matter_title(source: str) -> str:
    """The ``title:`` of a YAML front matter block, unquoted; "" without one. Read line by line
    (a YAML parser for one scalar would be a new dependency); a multi-line title is not read."""
    front = _FRONT_MATTER.match(source)
    m = _TITLE_LINE.search(front.group(1) or "") if front else None
    return " ".join(m.group(1).strip().strip("'\"").split()) if m else ""


def load(data: bytes, chunk_chars: int) -> Loaded:
    source = decoded(data)
    text, headings, breaks = markdown_layout(source, chunk_chars)
    title = front_matter_title(source) or (headings[0].title if headings else "")
    return Loaded(text, (Page(None, 0, len(text)),), title, headings, breaks)


LOADER = Loader("md", "a Markdown note", (".md", ".markdown"), ("text/markdown",),
                "the Markdown source (front matter dropped); sections from its headings; code blocks "
                "and tables kept whole, long tables in row groups led by the header row", load,
                metadata_title=True)  # a front matter's title:
