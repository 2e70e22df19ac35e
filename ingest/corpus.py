"""Reading a notes directory into loaded documents: per-file failures with their reason, and
exact duplicates (same text as another document) set aside, never indexed twice."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from rag.errors import RagError

from ingest.load_cache import LoadCache, text_key
from ingest.loaders import SUPPORTED, LoadedDocument
from ingest.normalize import normalize_id


@dataclass
class Corpus:
    """``docs`` to index; ``failed``: ``{"path", "error"}``; ``duplicates``: ``{"path", "duplicate_of"}``."""

    docs: list[LoadedDocument] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    duplicates: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)  # ``{"path", "warning"}``: parts left out
    parsed: int = 0  # files parsed (not served by the document cache)


def scan(directory: Path) -> list[Path]:
    """Every regular file below ``directory`` (hidden ones skipped), sorted for stable ids."""
    return sorted(
        p for p in directory.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(directory).parts)
    )


def load_directory(directory: Path, cache: LoadCache, step: Callable[[], None] = lambda: None) -> Corpus:
    """Load every file of ``directory`` (an existing directory); one bad file never stops the rest."""
    corpus = Corpus()
    paths = scan(directory)
    seen: dict[str, str] = {}  # normalised id -> the file that has it
    for path in paths:
        rel = path.relative_to(directory).as_posix()
        try:
            if path.suffix.lower() not in SUPPORTED:
                corpus.failed.append({"path": rel, "error": f"unknown extension {path.suffix or '(none)'!r}"})
                continue
            doc_id = normalize_id(rel)
            if doc_id in seen:  # e.g. the same name in NFC and in NFD (macOS) side by side
                corpus.failed.append({"path": rel, "error": f"same name as {seen[doc_id]!r} once Unicode-normalised"})
                continue
            seen[doc_id] = rel
            corpus.docs.append(cache.load(path, doc_id))
            corpus.warnings.extend({"path": rel, "warning": w} for w in corpus.docs[-1].warnings)
        except RagError as exc:
            corpus.failed.append({"path": rel, "error": exc.message})
        except Exception as exc:  # one unreadable file must not stop the others
            corpus.failed.append({"path": rel, "error": f"{type(exc).__name__}: {exc}"})
        finally:
            step()
    corpus.parsed = cache.misses
    return corpus


def set_aside_duplicates(corpus: Corpus, live: Mapping[str, str]) -> None:
    """Keep one document per text (:func:`text_key`); list the others as duplicates.

    ``live`` maps the live snapshot's document ids to their file hashes. The copy kept is the
    one already indexed unchanged, else one already indexed, else the first by path: an upload
    or an edit never displaces the note that was there first.
    """
    groups: dict[str, list[LoadedDocument]] = {}
    for doc in corpus.docs:
        groups.setdefault(text_key(doc.text), []).append(doc)
    dropped: set[str] = set()
    for docs in groups.values():
        if len(docs) < 2:
            continue
        keep = min(docs, key=lambda d: (live.get(d.doc_id) != d.hash, d.doc_id not in live, d.doc_id))
        for d in docs:
            if d is not keep:
                dropped.add(d.doc_id)
                corpus.duplicates.append({"path": d.doc_id, "duplicate_of": keep.doc_id})
    corpus.docs = [d for d in corpus.docs if d.doc_id not in dropped]
