"""Which HTML tables hold data, and their cells row by row, so they are laid out as tables are in
every format (``ingest.document.table_lines``: each row with its column headers).

A data table: at least two rows of two or more cells, and no cell holding a heading or another
table. Anything else (a page laid out with a table, a one-column list) is walked as blocks, as
before. The header row: a first row of ``<th>`` cells (or one inside ``<thead>``) is one; a table
with ``<th>`` cells elsewhere only (row headers) has none; without ``<th>`` the first row is a
header when it names every column once (``table_lines``' rule). Cells spanning columns
(``colspan``) are read once, so such a row keeps its cells separated by " | ".

BeautifulSoup finds the rows and cells; the text of a cell is the caller's (the HTML layout's
walk, which drops what is hidden).
"""
from __future__ import annotations

from typing import Any, Callable

NOT_IN_CELLS = frozenset({"table", "h1", "h2", "h3", "h4", "h5", "h6"})  # a cell holding one: a page's layout
# Data tables need this many rows of at least two cells (one row of cells is a line, not a table).
MIN_DATA_ROWS = 2
GROUPS = ("thead", "tbody", "tfoot")


def own_rows(table: Any) -> list[Any]:
    """The ``<tr>`` elements of ``table`` itself, in order: its children and its row groups'
    (``<thead>``, ``<tbody>``, ``<tfoot>``), never a nested table's. Read from the children only,
    so tables nested in tables cost no search of each one's whole subtree."""
    rows = []
    for child in children(table, ("tr", *GROUPS)):
        rows.extend([child] if child.name == "tr" else children(child, ("tr",)))
    return rows


def own_cells(tr: Any) -> list[Any]:
    return children(tr, ("td", "th"))


def children(element: Any, names: tuple[str, ...]) -> list[Any]:
    """The child elements named one of ``names`` (bs4's ``find_all(recursive=False)`` costs far
    more per call, building a filter each time)."""
    return [c for c in element.contents if getattr(c, "name", None) in names]


def _row_and_groups(tr: Any, table: Any) -> list[Any]:
    """``tr`` and the elements between it and its table (``<thead>``, ``<tbody>``, ``<tfoot>``)."""
    out = [tr]
    for parent in tr.parents:
        if parent is table:
            break
        out.append(parent)
    return out


def is_data_table(table: Any) -> bool:
    """Whether ``table`` holds data (see the module's rule), not a page's layout."""
    rows = own_rows(table)
    if sum(1 for tr in rows if len(own_cells(tr)) >= 2) < MIN_DATA_ROWS:
        return False
    return not any(_holds(cell, NOT_IN_CELLS) for tr in rows for cell in own_cells(tr))


def _holds(element: Any, names: frozenset[str]) -> bool:
    """Whether an element under ``element`` is one of ``names``: a walk of ``.contents`` that stops
    at the first, since bs4's ``find`` first walks to the element's last descendant, quadratic
    over tables nested in tables."""
    stack = list(element.contents)
    while stack:
        node = stack.pop()
        name = getattr(node, "name", None)
        if name is None:
            continue
        if name in names:
            return True
        stack.extend(node.contents)
    return False


def table_cells(table: Any, visible: Callable[[Any], bool],
                cell_text: Callable[[Any], str]) -> tuple[list[list[str]], bool | None]:
    """(cells of each visible row, header) of a data table: ``header`` True when the first row is
    marked as one (all ``<th>``, or in ``<thead>``), False when ``<th>`` cells are only elsewhere
    (row headers), None when the table marks no header. ``visible(tr)``: whether a row (and
    the row groups holding it) is shown; ``cell_text(cell)``: a cell's visible text."""
    rows: list[list[str]] = []
    marked: list[bool] = []
    for tr in own_rows(table):
        around = _row_and_groups(tr, table)
        if not all(visible(el) for el in around):
            continue
        cells = own_cells(tr)
        texts = [" ".join(cell_text(c).split()) for c in cells]
        if not any(texts):
            continue
        rows.append(texts)
        marked.append(bool(cells) and (all(c.name == "th" for c in cells) or any(el.name == "thead" for el in around)))
    if not rows:
        return [], None
    if marked[0]:
        return rows, True
    has_th = any(c.name == "th" for tr in own_rows(table) for c in own_cells(tr))
    return rows, False if has_th else None
