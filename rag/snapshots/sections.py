"""The heading table of a snapshot: where each document's sections start, so any offset in a
document (a quoted sentence, a highlighted span) is named by the innermost section holding it,
whatever the chunk it was retrieved with.

A document's headings are ``(start, level, title)`` rows sorted by ``start`` (a character offset
into the document as loaded, the offsets chunks carry). A section runs from its heading to the
next heading of the same or a shallower level; its path is its title after those of the
headings it sits under (the nearest earlier heading of each shallower level). Loader-made parts
(a slide's speaker notes, a table's rows: ``ingest.document.table_parts``) are rows too, so they
name their part as a heading would; an untitled row ends the part of its level, so the text after
it is named by the section around the part again.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

PATH_SEPARATOR = " › "


@dataclass(frozen=True)
class DocumentSections:
    """One document's headings (sorted by ``start``) and whether it is a collection of posts
    (a blog export: its citations lead with the post's section, the document title second)."""

    starts: tuple[int, ...] = ()
    levels: tuple[int, ...] = ()
    titles: tuple[str, ...] = ()
    collection: bool = False

    def heading_index(self, offset: int) -> int:
        """Index of the last heading at or before ``offset``; -1 before the first."""
        return bisect.bisect_right(self.starts, offset) - 1

    def path(self, offset: int) -> tuple[str, ...]:
        """Titles from the outermost section holding ``offset`` to the innermost; () before any heading."""
        i = self.heading_index(offset)
        if i < 0:
            return ()
        out = [self.titles[i]] if self.titles[i] else []  # an untitled row ends a part: its section resumes
        level = self.levels[i]
        for j in range(i - 1, -1, -1):
            if self.levels[j] < level:
                out.append(self.titles[j])
                level = self.levels[j]
                if level <= 1:
                    break
        return tuple(reversed(out))


@dataclass
class SectionTable:
    """Document id -> :class:`DocumentSections`; immutable once built. An unknown document has
    no sections (every path is ``()``)."""

    docs: dict[str, DocumentSections] = field(default_factory=dict)

    @classmethod
    def from_documents(cls, documents: Iterable[Mapping[str, Any]]) -> "SectionTable":
        """From document rows carrying ``sections`` (``[[start, level, title], ...]``, any order)
        and ``collection``, as :func:`rag.snapshots.format.read_chunks` returns them."""
        docs = {}
        for d in documents:
            rows = sorted((int(a), int(lv), str(t)) for a, lv, t in d.get("sections") or ())
            docs[d["doc"]] = DocumentSections(tuple(r[0] for r in rows), tuple(r[1] for r in rows),
                                              tuple(r[2] for r in rows), bool(d.get("collection")))
        return cls(docs)

    def of(self, doc: str) -> DocumentSections:
        return self.docs.get(doc) or DocumentSections()

    def path(self, doc: str, offset: int) -> tuple[str, ...]:
        """The heading path of the innermost section of ``doc`` holding character ``offset``."""
        return self.of(doc).path(offset)

    def same_section(self, doc: str, offsets: Sequence[int]) -> bool:
        """Whether every offset of ``doc`` lies in one section (no heading starts between the
        first and the last): what sentences quoted together for one answer part should share."""
        if not offsets:
            return True
        d = self.of(doc)
        return len({d.heading_index(o) for o in offsets}) == 1

    def is_collection(self, doc: str) -> bool:
        return self.of(doc).collection


def section_label(path: Sequence[str], title: str | None = None) -> str | None:
    """A path for people: ``"보상 함수 › 할인율"``; a leading heading that repeats the document's
    ``title`` is left out (the title is shown beside it), unless it is the whole path. None for
    an empty path (text before the first heading)."""
    parts = list(path)
    if len(parts) > 1 and title and parts[0].strip() == title.strip():
        parts = parts[1:]
    return PATH_SEPARATOR.join(parts) or None


def citation_where(title: str | None, doc: str, section: str | None, collection: bool) -> str:
    """The name of a cited place: ``Title › section`` (``doc`` when there is no title); for a
    collection of posts the section leads and the document title follows: ``section — Title``."""
    name = title or doc
    if not section or section == name:
        return name
    return f"{section} — {name}" if collection else f"{name}{PATH_SEPARATOR}{section}"
