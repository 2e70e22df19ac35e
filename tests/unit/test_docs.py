"""The README's settings table names every setting the code reads, and nothing else."""
from __future__ import annotations

import re

from rag.settings import Settings
from tests.conftest import ROOT


def test_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(RAG_[A-Z0-9_]+)` \|", readme, flags=re.M))
    expected = {f"RAG_{name.upper()}" for name in Settings.model_fields}
    assert documented == expected
