"""HTML as a reader sees it: block elements end lines, inline ones do not, headings are sections,
data tables are laid out a row per line with their column headers (``ingest.html_tables``), and
nothing hidden from readers (or planted for a model to read) is indexed.

BeautifulSoup parses; soupsieve (bs4's CSS selector engine) applies the page's own style rules;
tinycss2 parses declarations and colours. What is written here by hand is only the walk that
lays the text out, since no library renders HTML to plain text with offsets kept.
"""
from __future__ import annotations

from typing import Any

import tinycss2
import tinycss2.color3

from rag.errors import BadDocument

from ingest.document import Heading, Loaded, Loader, Page, table_lines, table_parts
from ingest.html_tables import children, is_data_table, table_cells
from ingest.text_loader import decoded

# Elements that are never content: code, templates, embedded objects and site chrome.
DROP = {"script", "style", "template", "noscript", "nav", "aside", "form", "iframe", "object", "embed", "svg",
        "canvas", "button", "select", "textarea", "input", "dialog", "head", "title", "meta", "link"}
# <header>/<footer> are site chrome at page level, but an article's own header holds its title.
CHROME = {"header", "footer"}
CHROME_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "menu", "menubar", "toolbar"}
BLOCK = {"address", "article", "blockquote", "body", "caption", "dd", "details", "div", "dl", "dt", "fieldset",
         "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "html", "legend",
         "li", "main", "ol", "p", "pre", "section", "summary", "table", "tbody", "tfoot", "thead", "tr", "ul"}
PARAGRAPH = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "table", "blockquote", "ul", "ol", "dl", "section",
             "article", "figure", "hr", "details"}
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
CELLS = {"td", "th"}
WHITE = (1.0, 1.0, 1.0)
# Text at most this far (RGB distance, 0..1 per channel) from its background cannot be read.
INVISIBLE_CONTRAST = 0.08
# Below this font size in px (or em/rem x 16) text cannot be read.
MIN_FONT_PX = 2.0
OFFSCREEN_PX = 1000.0
_END = object()  # marks, on the walk's stack, where an element's children end


def html_to_text(raw: str) -> tuple[str, tuple[Heading, ...], str, tuple[Heading, ...]]:
    """(text, headings, title, structure: the data tables' rows) of an HTML page; BadDocument
    when no visible text is left."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(raw, "html.parser")
    title = " ".join(soup.title.get_text(" ").split()) if soup.title else ""
    hidden = _hidden_by_stylesheets(soup)
    layout = _Layout()
    text, headings = layout.run(soup, hidden)
    if not text.strip():
        raise BadDocument("HTML page has no visible text")
    return text, headings, title or (headings[0].title if headings else ""), tuple(layout.structure)


def _declarations(css: str) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for decl in tinycss2.parse_blocks_contents(css, skip_comments=True, skip_whitespace=True):
        if decl.type == "declaration":
            out[decl.lower_name] = [t for t in decl.value if t.type not in ("whitespace", "comment")]
    return out


def _length_px(tokens: list[Any]) -> float | None:
    if not tokens:
        return None
    t = tokens[0]
    if t.type == "number":
        return float(t.value)
    if t.type == "dimension":
        unit = t.lower_unit
        return float(t.value) * (16.0 if unit in ("em", "rem") else 0.75 * 16 / 12 if unit == "pt" else 1.0)
    if t.type == "percentage":
        return float(t.value) * 16 / 100
    return None


def _color(tokens: list[Any]) -> tuple[float, float, float, float] | None:
    for t in tokens:
        parsed = tinycss2.color3.parse_color(t)
        if parsed is not None and parsed != "currentColor":
            return tuple(parsed)  # type: ignore[return-value]
    return None


def _hides(decls: dict[str, list[Any]]) -> bool:
    """Whether these declarations alone hide an element: display:none, visibility:hidden,
    opacity:0, font-size:0, zero size with overflow hidden, or positioned far off-screen."""
    def ident(name: str) -> str:
        v = decls.get(name)
        return v[0].lower_value if v and v[0].type == "ident" else ""

    if ident("display") == "none" or ident("visibility") in ("hidden", "collapse"):
        return True
    opacity = decls.get("opacity")
    if opacity and opacity[0].type in ("number", "percentage") and float(opacity[0].value) <= 0.01:
        return True
    size = _length_px(decls.get("font-size", []))
    if size is not None and size < MIN_FONT_PX:
        return True
    if ident("overflow") == "hidden" and any((_length_px(decls.get(k, [])) or 1) <= 1 for k in ("height", "width")):
        return True
    if any((_length_px(decls.get(k, [])) or 0) <= -OFFSCREEN_PX for k in ("left", "top", "text-indent", "margin-left")):
        return True
    return False


def _hidden_by_stylesheets(soup: Any) -> set[int]:
    """ids (``id()``) of elements that the page's <style> rules hide."""
    hidden: set[int] = set()
    for style in soup.find_all("style"):
        for rule in tinycss2.parse_stylesheet(style.get_text(), skip_comments=True, skip_whitespace=True):
            if rule.type != "qualified-rule":
                continue
            if not _hides(_declarations(tinycss2.serialize(rule.content))):
                continue
            selector = tinycss2.serialize(rule.prelude).strip()
            try:
                hidden.update(id(el) for el in soup.select(selector))
            except Exception:  # a selector soupsieve does not support: that rule cannot be applied
                continue
    return hidden


def _invisible_attr(el: Any) -> bool:
    if el.has_attr("hidden") or str(el.get("aria-hidden", "")).lower() == "true":
        return True
    if str(el.get("role", "")).lower() in CHROME_ROLES:
        return True
    return el.name == "input" and str(el.get("type", "")).lower() == "hidden"


class _Layout:
    """The walk: one pass over the tree with an explicit stack (no recursion limit on deep pages)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0
        self.pending = 0  # line breaks owed before the next text: 1 a new line, 2 a blank line
        self.space = False
        self.headings: list[Heading] = []
        self.structure: list[Heading] = []  # table rows (``ingest.document.table_parts``)
        self.tables = 0

    def run(self, soup: Any, hidden: set[int], color: tuple[float, ...] = (0.0, 0.0, 0.0),
            background: tuple[float, ...] = WHITE, in_article: bool = False) -> tuple[str, tuple[Heading, ...]]:
        """(text, headings) of ``soup`` (a page, or one element: a table cell, in the colours
        around it); table rows go to ``structure``."""
        from bs4 import Comment, NavigableString, Tag

        # (node, colour, background, in <pre>, inside article/main, heading collector or None)
        stack: list[Any] = [(soup, color, background, False, in_article, None)]
        while stack:
            item = stack.pop()
            if item[0] is _END:
                self._end(item[1], item[2])
                continue
            node, color, background, pre, in_article, heading = item
            if isinstance(node, NavigableString):
                if isinstance(node, Comment) or type(node).__name__ in ("Doctype", "Declaration", "CData",
                                                                       "ProcessingInstruction"):
                    continue
                if _distance(color, background) >= INVISIBLE_CONTRAST:
                    self._text(str(node), pre, heading)
                continue
            if not isinstance(node, Tag):
                continue
            name = (node.name or "").lower()
            if name in DROP or id(node) in hidden or _invisible_attr(node):
                continue
            if name in CHROME and not in_article:
                continue
            decls = _declarations(str(node.get("style", ""))) if node.get("style") else {}
            if decls and _hides(decls):
                continue
            c = _color(decls.get("color", []))
            if c is not None:
                if c[3] <= 0.01:
                    continue  # transparent text
                color = c[:3]
            bg = _color(decls.get("background-color", []) or decls.get("background", []))
            if bg is not None and bg[3] > 0.5:
                background = bg[:3]
            if name == "br":
                self._break(1)
                continue
            if name == "table" and heading is None and not pre and is_data_table(node):
                self._table(node, hidden, color, background, in_article)
                continue
            opens = name in HEADINGS and heading is None
            if opens:
                heading = [None, [], int(name[1])]  # start offset (set by its first text), pieces of its title, level
            self._start(name)
            stack.append((_END, name, heading if opens else None))
            inner = in_article or name in ("article", "main")
            for child in reversed(node.contents):
                stack.append((child, color, background, pre or name == "pre", inner, heading))
        return "".join(self.parts), tuple(self.headings)

    def _table(self, table: Any, hidden: set[int], color: tuple[float, ...], background: tuple[float, ...],
               in_article: bool) -> None:
        """A data table (``ingest.html_tables``): its caption, then a line per row with its column
        headers (``ingest.document.table_lines``), each row a part named by its table and row."""
        def text_of(el: Any) -> str:
            return _Layout().run(el, hidden, color, background, in_article)[0]

        def visible(el: Any) -> bool:
            return not (id(el) in hidden or _invisible_attr(el) or (el.get("style") and _hides(_declarations(str(el["style"])))))

        rows, header = table_cells(table, visible, text_of)
        caption = next(iter(children(table, ("caption",))), None)
        self._break(2)
        if caption is not None and (words := " ".join(text_of(caption).split())):
            self._emit(words)
            self._break(1)
        starts = []
        for line in table_lines(rows, header):
            starts.append(self._emit(line))
            self._break(1)
        if starts:
            self.tables += 1
            self.structure.extend(table_parts(self.tables, starts, self.pos))
        self._break(2)

    def _start(self, name: str) -> None:
        if name in PARAGRAPH:
            self._break(2)
        elif name in BLOCK:
            self._break(1)
        elif name in CELLS and self.parts and not self.pending:
            self._emit(" |")
            self.space = True

    def _end(self, name: str, heading: list[Any] | None) -> None:
        if heading is not None and heading[0] is not None:
            title = " ".join("".join(heading[1]).split())
            if title:
                self.headings.append(Heading(heading[0], title, heading[2]))
        if name in PARAGRAPH:
            self._break(2)
        elif name in BLOCK:
            self._break(1)

    def _break(self, n: int) -> None:
        self.pending = max(self.pending, n)
        self.space = False

    def _text(self, s: str, pre: bool, heading: list[Any] | None) -> None:
        if not s:
            return
        if not pre:
            lead, trail = s[:1].isspace(), s[-1:].isspace()
            words = " ".join(s.split())
            if not words:
                self.space = True
                return
            if (lead or self.space) and not self.pending and self.parts:
                words = " " + words
            s = words
        start = self._emit(s)
        if heading is not None:
            if heading[0] is None:
                heading[0] = start + (len(s) - len(s.lstrip()))
            heading[1].append(s)
        self.space = False if pre else trail

    def _emit(self, s: str) -> int:
        """Append ``s`` after the line breaks owed; returns the offset where ``s`` starts."""
        if self.pending and self.parts:
            self.parts.append("\n" * self.pending)
            self.pos += self.pending
        self.pending = 0
        start = self.pos
        self.parts.append(s)
        self.pos += len(s)
        return start


def _distance(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    return sum((x - y) ** 2 for x, y in zip(a, b)) ** 0.5



def load(data: bytes, chunk_chars: int) -> Loaded:
    text, headings, title, structure = html_to_text(decoded(data))
    return Loaded(text, (Page(None, 0, len(text)),), title, headings, structure=structure)


LOADER = Loader("html", "an HTML page", (".html", ".htm"), ("text/html",),
                "visible text in reading order (scripts, styles and hidden elements dropped); "
                "sections from h1-h6; data tables a row per line, with its column headers ('모델: GoogLeNet · "
                "연도: 2014'), each row cited at its table and row ('표 2, 3행')", load, metadata_title=True)
