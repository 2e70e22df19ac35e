"""A registry of the backends that can write and read one part of a snapshot (its dense index,
its lexical index): the snapshot's meta names the backend that wrote the part
(``meta[part]["backend"]``), and the same backend reads it back.

Used by ``rag.dense.registry`` and ``rag.lexical.registry``; a new backend is one module plus one
line in its part's registry.
"""
from __future__ import annotations

from typing import Any, Generic, Iterator, TypeVar

from rag.errors import SnapshotDamaged

T = TypeVar("T")


class BackendRegistry(Generic[T]):
    """``registry[name]`` → the class; ``for_meta(meta)`` → the class that reads a snapshot's part.

    ``default`` is the backend of snapshots written before their meta named one."""

    def __init__(self, part: str, backends: dict[str, type[T]], default: str) -> None:
        if default not in backends:
            raise ValueError(f"default {default!r} is not among the {part} backends {list(backends)}")
        self.part, self.backends, self.default = part, dict(backends), default

    def __iter__(self) -> Iterator[str]:
        return iter(self.backends)

    def __getitem__(self, name: str) -> type[T]:
        """Raises KeyError naming the known backends."""
        try:
            return self.backends[name]
        except KeyError:
            raise KeyError(f"unknown {self.part} index backend {name!r} (known: {', '.join(self.backends)})") from None

    def for_meta(self, meta: dict[str, Any]) -> type[T]:
        """The backend ``meta[part]["backend"]`` names (the default when absent); an unknown one is
        SnapshotDamaged (the snapshot was built by another version)."""
        info = meta.get(self.part)
        name = info.get("backend", self.default) if isinstance(info, dict) else self.default
        try:
            return self[str(name)]
        except KeyError as exc:
            raise SnapshotDamaged(f"snapshot {meta.get('id')}: {exc.args[0]}") from None
