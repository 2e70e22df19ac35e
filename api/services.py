"""What the app holds for its lifetime: settings, the live snapshot and the services the CLI
uses too (searcher, answer pipeline, documents). Built once per process, in the lifespan."""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from api.documents import DocumentService
from api.forwarding import ForwardingDocuments
from ingest import staging
from ingest.notes_audit import NotesAudit
from rag.live import LiveSnapshot
from rag.pipeline import AnswerPipeline
from rag.search import Searcher
from rag.settings import Settings
from rag.wiring import Wiring

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    live: LiveSnapshot
    searcher: Searcher
    pipeline: AnswerPipeline
    documents: DocumentService
    audit: NotesAudit
    recovered: list[dict[str, Any]] = field(default_factory=list)  # writes a killed server left, settled at start-up
    _drift: tuple[str | None, dict[str, Any]] | None = None
    _drift_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def load(cls, settings: Settings) -> "Services":
        wired = Wiring(settings)
        documents = (ForwardingDocuments(settings, wired.live) if settings.ingest_url
                     else DocumentService(settings, wired.live))
        return cls(settings, wired.live, wired.searcher, wired.pipeline, documents,  # type: ignore[arg-type]
                   NotesAudit(settings.notes_dir))

    def reconcile(self) -> None:
        """At start-up: settle staged writes a killed server left, then compare the notes
        directory with the live snapshot (logged; reported by ``notes_drift``)."""
        self.recovered = self.documents.recover()
        self.notes_drift()

    def notes_drift(self) -> dict[str, Any]:
        """How the notes directory differs from the live snapshot, checked again whenever
        CURRENT moves (a publish by any process)."""
        current = self.live.store.current_id()
        with self._drift_lock:
            if self._drift is None or self._drift[0] != current:
                drift = self.audit.check(staging.live_documents(self.settings.index_dir))
                if not drift.in_sync:
                    log.warning(drift.line())
                self._drift = (current, drift.to_dict())
            return self._drift[1]

    @property
    def generator_name(self) -> str:
        return self.pipeline.generator.name
