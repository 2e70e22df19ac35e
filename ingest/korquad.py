"""An open-domain KorQuAD index in a work folder: every article a note, all indexed together.

Used by `rag eval --korquad` and `rag train-reader`; the work folder is reused, so a second run
re-indexes nothing (notes with unchanged text, embeddings cached by text).
"""
from __future__ import annotations

from pathlib import Path

from rag.errors import RagError
from rag.evaluation import korquad
from rag.settings import Settings

from ingest.pipeline import Ingestor


def build_index(korquad_file: Path, work: Path, settings: Settings, progress: bool | None = None
                ) -> tuple[Settings, list[dict]]:
    """(settings pointing at ``work``/notes and ``work``/index, the articles). Raises RagError
    when the file is not KorQuAD 1.0 or the ingest fails."""
    articles = korquad.load(korquad_file)
    notes, index = work / "notes", work / "index"
    korquad.write_notes(articles, notes)
    local = settings.model_copy(update={"notes_dir": notes, "index_dir": index, "index_backend": "faiss"})
    summary = Ingestor(local, progress=progress).sync(notes)
    if summary.failed or summary.aborted:
        raise RagError(f"indexing the KorQuAD notes in {work} failed: {summary.line()}")
    return local, articles
