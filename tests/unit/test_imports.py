"""The import structure: no cycle among the project's modules, and DESIGN.md's direction
(`rag` imports neither `ingest` nor `api`; `ingest` does not import `api`).

Every ``import`` statement counts, at module level or inside a function; only imports under
``if TYPE_CHECKING:`` are left out of the cycle check (they never run), but not out of the
direction check.
"""
from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("rag", "ingest", "api")
FORBIDDEN = {"rag": ("ingest", "api"), "ingest": ("api",)}


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_only(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def import_graph(root: Path, packages: tuple[str, ...]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(runtime edges, all edges including TYPE_CHECKING ones): module -> project modules it imports."""
    files = {module_name(root, p): p for pkg in packages for p in sorted((root / pkg).rglob("*.py"))}
    runtime: dict[str, set[str]] = {m: set() for m in files}
    every: dict[str, set[str]] = {m: set() for m in files}

    def resolve(name: str) -> str | None:
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    for mod, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = mod.split(".") if is_pkg else mod.split(".")[:-1]
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [f"{base}.{a.name}" for a in node.names]  # a submodule, or a name in `base`
            for target in targets:
                found = resolve(target)
                if found is None or found == mod:
                    continue
                every[mod].add(found)
                if not _type_checking_only(node, parents):
                    runtime[mod].add(found)
    return runtime, every


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        return list(exc.args[1])
    return None


def direction_violations(graph: dict[str, set[str]]) -> list[str]:
    return sorted(f"{m} imports {t}" for m, targets in graph.items() for t in targets
                  if t.split(".")[0] in FORBIDDEN.get(m.split(".")[0], ()))


def test_the_project_has_no_import_cycle() -> None:
    runtime, _ = import_graph(ROOT, PACKAGES)
    assert len(runtime) > 100  # every module was read
    assert find_cycle(runtime) is None, " -> ".join(find_cycle(runtime) or [])


def test_the_project_imports_in_the_design_direction() -> None:
    _, every = import_graph(ROOT, PACKAGES)
    assert direction_violations(every) == []


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")


def test_the_check_finds_a_cycle_through_an_import_inside_a_function(tmp_path: Path) -> None:
    write(tmp_path, {
        "ingest/__init__.py": "",
        "ingest/a.py": "from ingest.b import thing\n",
        "ingest/b.py": "def thing():\n    from ingest import a\n    return a\n",
        "ingest/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ingest.d import x\n",
        "ingest/d.py": "from ingest.c import y\n",
    })
    runtime, every = import_graph(tmp_path, ("ingest",))
    assert sorted(find_cycle(runtime) or []) == ["ingest.a", "ingest.a", "ingest.b"]
    assert "ingest.d" not in runtime["ingest.c"] and "ingest.d" in every["ingest.c"]


@pytest.mark.parametrize("source", ["from api.schemas import X\n", "def f():\n    import api.cli\n",
                                    "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from api import x\n"])
def test_the_check_finds_an_import_against_the_direction(tmp_path: Path, source: str) -> None:
    write(tmp_path, {"rag/__init__.py": "", "rag/m.py": source, "api/__init__.py": "",
                     "api/schemas.py": "", "api/cli.py": "", "api/x.py": ""})
    _, every = import_graph(tmp_path, ("rag", "api"))
    assert direction_violations(every) and direction_violations(every)[0].startswith("rag.m imports api")
