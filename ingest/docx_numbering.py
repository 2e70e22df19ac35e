"""Word's automatic list numbers (``w:numPr``), written as Word shows them ("1.", "가.", "①").

python-docx exposes a paragraph's text without the number Word draws before it, so "the second
step" of a numbered list would be lost. No maintained library renders them for python-docx's
object model (docx2python reads a whole document its own way), so the rendering is written
here, following ECMA-376 Part 1, 17.9 (Numbering): a paragraph's ``w:numPr`` (its own, else its
style's) names a ``w:num`` (``numId``) and a level (``ilvl``); the ``w:num`` points at a
``w:abstractNum`` whose ``w:lvl`` gives the format (``w:numFmt``), the pattern (``w:lvlText``,
``%1``..``%9`` standing for the counters of levels 1..9) and the start value. Counters run per
``numId`` in document order; a level restarts when a shallower level advances. Overrides
(``w:lvlOverride``) and legal numbering are not read: the number shown may then differ from
Word's, never the text.
"""
from __future__ import annotations

import re
from typing import Any

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

_PATTERN = re.compile(r"%([1-9])")
_GANADA = "가나다라마바사아자차카타파하"
_CHOSUNG = "ㄱㄴㄷㄹㅁㅂㅅㅇㅈㅊㅋㅌㅍㅎ"
_ROMAN = ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"), (40, "xl"),
          (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"))
BULLET = "•"


def qn(tag: str) -> str:
    """``w:numPr`` -> Clark notation (only WordprocessingML names are used here; python-docx's own
    ``qn`` is not imported so that loading the registry does not import python-docx)."""
    return f"{{{W_NS}}}{tag.split(':', 1)[1]}"


def _roman(n: int) -> str:
    out = ""
    for value, letters in _ROMAN:
        while n >= value:
            out, n = out + letters, n - value
    return out


def _letters(n: int) -> str:  # a..z, then aa, bb (as Word counts)
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def format_number(n: int, fmt: str) -> str:
    """Counter ``n`` (1-based) in the ``w:numFmt`` ``fmt``; unknown formats as decimal."""
    if fmt in ("lowerLetter", "upperLetter"):
        s = _letters(n)
        return s.upper() if fmt == "upperLetter" else s
    if fmt in ("lowerRoman", "upperRoman"):
        s = _roman(n)
        return s.upper() if fmt == "upperRoman" else s
    if fmt in ("ganada", "chosung"):
        letters = _GANADA if fmt == "ganada" else _CHOSUNG
        return letters[(n - 1) % len(letters)]
    if fmt in ("decimalEnclosedCircle", "decimalEnclosedCircleChinese") and 1 <= n <= 20:
        return chr(0x2460 + n - 1)
    return str(n)


def _val(element: Any, tag: str) -> str | None:
    child = element.find(qn(tag)) if element is not None else None
    return child.get(qn("w:val")) if child is not None else None


class ListNumbers:
    """``prefix(paragraph, style)``: the number Word shows before a paragraph, or ""."""

    def __init__(self, document: Any) -> None:
        self.levels: dict[str, dict[int, tuple[str, str, int]]] = {}  # numId -> ilvl -> (fmt, text, start)
        self.counters: dict[str, list[int]] = {}
        try:
            numbering = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        abstract: dict[str | None, dict[int, tuple[str, str, int]]] = {}
        for an in numbering.findall(qn("w:abstractNum")):
            levels = {}
            for lvl in an.findall(qn("w:lvl")):
                try:
                    ilvl = int(lvl.get(qn("w:ilvl"), "0"))
                    start = int(_val(lvl, "w:start") or 1)
                except ValueError:
                    continue
                levels[ilvl] = (_val(lvl, "w:numFmt") or "decimal", _val(lvl, "w:lvlText") or f"%{ilvl + 1}.", start)
            abstract[an.get(qn("w:abstractNumId"))] = levels
        for num in numbering.findall(qn("w:num")):
            self.levels[num.get(qn("w:numId"), "")] = abstract.get(_val(num, "w:abstractNumId"), {})

    def prefix(self, p: Any, style: Any = None) -> str:
        """``p``: a ``w:p`` element; ``style``: its python-docx paragraph style (for style numbering)."""
        num_id, ilvl = self._num_pr(p, style)
        if not num_id or num_id == "0" or num_id not in self.levels:
            return ""
        levels = self.levels[num_id]
        if ilvl not in levels:
            return ""
        counters = self.counters.setdefault(num_id, [0] * 9)
        ilvl = max(0, min(ilvl, 8))
        for deeper in range(ilvl + 1, 9):
            counters[deeper] = 0
        counters[ilvl] = counters[ilvl] + 1 if counters[ilvl] else levels[ilvl][2]
        fmt, text, _ = levels[ilvl]
        if fmt == "bullet":
            return BULLET
        if fmt == "none":
            return ""

        def level(m: re.Match[str]) -> str:
            k = int(m.group(1)) - 1
            kfmt, _, kstart = levels.get(k, ("decimal", "", 1))
            return format_number(counters[k] or kstart, kfmt)

        return _PATTERN.sub(level, text).strip()

    @staticmethod
    def _num_pr(p: Any, style: Any) -> tuple[str | None, int]:
        num_pr = p.find(f"{qn('w:pPr')}/{qn('w:numPr')}")
        while num_pr is None and style is not None:
            num_pr = style.element.find(f"{qn('w:pPr')}/{qn('w:numPr')}")
            style = style.base_style
        if num_pr is None:
            return None, 0
        try:
            ilvl = int(_val(num_pr, "w:ilvl") or 0)
        except ValueError:
            ilvl = 0
        return _val(num_pr, "w:numId"), ilvl
