"""Formatting values and Markdown tables for the eval reports."""
from __future__ import annotations

from typing import Any, Sequence


def fmt(value: Any, digits: int = 3) -> str:
    """A metric for a table: ``-`` for None (no item to average over), floats to ``digits``."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def cell(text: Any) -> str:
    """Text safe inside one Markdown table cell: no raw pipe, newline or HTML."""
    s = "" if text is None else str(text)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = s.replace("\\", "\\\\").replace("|", "\\|")  # backslash first, so a text "\|" stays literal
    return s.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """A GitHub-flavoured Markdown table, every cell escaped with ``cell``."""
    out = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    return out + ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows]
