"""The Q&A test set (``data/qa/testset.jsonl``): its schema, loader and evidence check.

The evaluation scores retrieval and answers against hand-written items, so a broken item
would silently skew every number. Loading therefore fails loudly, naming the line, and the
evidence of each item is checked to be a verbatim span of its note.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

ItemType = Literal["factoid", "explain", "multi", "unanswerable"]


class QAItem(BaseModel):
    """One question with its reference answers and the passage(s) that answer it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    answers: list[str]
    keywords: list[str]
    source: str | None
    evidence: str | None
    type: ItemType
    lang: str = Field(min_length=1)
    evidence2: str | None = None
    source2: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "QAItem":
        # Each type has its own contract; checking it here keeps scorers free of special cases.
        if self.type == "unanswerable":
            if self.answers or self.keywords:
                raise ValueError("an unanswerable item must have empty answers and keywords")
            if any(v is not None for v in (self.source, self.evidence, self.source2, self.evidence2)):
                raise ValueError("an unanswerable item must have source and evidence null")
            return self
        if not self.source or not self.evidence:
            raise ValueError(f"a {self.type} item needs a non-empty source and evidence")
        if not 1 <= len(self.keywords) <= 3 or not all(k.strip() for k in self.keywords):
            raise ValueError("an answerable item needs 1-3 non-empty keywords")
        if not self.answers or not all(a.strip() for a in self.answers):
            raise ValueError("an answerable item needs at least one non-empty answer")
        if self.type == "multi":
            if not self.evidence2 or not self.source2:
                raise ValueError("a multi item needs evidence2 and source2")
        elif self.evidence2 is not None or self.source2 is not None:
            raise ValueError("only multi items may have evidence2/source2")
        return self


class TestsetError(ValueError):
    """A test-set line that cannot be used; ``line`` is 1-based so an editor can jump to it."""

    __test__ = False  # not a pytest test class, despite the name

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


def _describe(err: ValidationError) -> str:
    """Condense pydantic's multi-line report into one line for the error message."""
    parts = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"])
        parts.append(f"{loc}: {e['msg']}" if loc else e["msg"])
    return "; ".join(parts)


def load_testset(path: Path) -> list[QAItem]:
    """Read a JSONL test set; blank lines are skipped, anything else must be a valid item."""
    items: list[QAItem] = []
    first_line: dict[str, int] = {}
    with Path(path).open(encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                data = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise TestsetError(lineno, f"invalid JSON: {exc.msg}") from exc
            if not isinstance(data, dict):
                raise TestsetError(lineno, "expected a JSON object")
            try:
                item = QAItem.model_validate(data)
            except ValidationError as exc:
                raise TestsetError(lineno, f"invalid item: {_describe(exc)}") from exc
            if item.id in first_line:
                raise TestsetError(
                    lineno, f"duplicate id {item.id!r} (first on line {first_line[item.id]})"
                )
            first_line[item.id] = lineno
            items.append(item)
    return items


def check_evidence(items: list[QAItem], notes_dir: Path) -> list[str]:
    """List every evidence that is not a verbatim span of its source note; empty means fine.

    Problems are reported, not raised, so one run shows all of them at once.
    """
    notes_dir = Path(notes_dir)
    root = notes_dir.resolve()
    texts: dict[str, str | None] = {}
    problems: list[str] = []

    def text_of(source: str) -> str | None:
        if source not in texts:
            path = (notes_dir / source).resolve()
            if not path.is_relative_to(root) or not path.is_file():
                texts[source] = None
            else:
                try:
                    texts[source] = path.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError):
                    texts[source] = None
        return texts[source]

    for item in items:
        for field_src, field_ev, source, evidence in (
            ("source", "evidence", item.source, item.evidence),
            ("source2", "evidence2", item.source2, item.evidence2),
        ):
            if source is None and evidence is None:
                continue
            if not source or not evidence:
                problems.append(f"{item.id}: {field_src}/{field_ev} incomplete")
                continue
            text = text_of(source)
            if text is None:
                problems.append(f"{item.id}: {field_src} file not found or unreadable: {source}")
            elif evidence not in text:
                problems.append(f"{item.id}: {field_ev} is not an exact substring of {source}")
    return problems


def items_digest(ids: list[str]) -> str:
    """sha256 of the sorted item ids, one a line: equal exactly when two runs scored the same
    item set, whatever the order of the lines."""
    return hashlib.sha256("\n".join(sorted(ids)).encode("utf-8")).hexdigest()


def testset_identity(items: list[QAItem], path: Path | None) -> dict[str, object]:
    """What identifies the QA set a report was made from, so two reports can be compared:
    file name and path (as given), sha256 of the file's bytes (changes when any question or
    reference is edited) and of its item ids (changes when items are added or removed)."""
    content = None
    if path is not None:
        try:
            content = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        except OSError:
            content = None
    return {"name": Path(path).name if path is not None else None,
            "path": str(path) if path is not None else None,
            "file_sha256": content, "items_sha256": items_digest([i.id for i in items]),
            "n_items": len(items)}
