"""Students' feedback on answers ("helpful" / "wrong", with an optional comment), kept in its
own SQLite file (``RAG_FEEDBACK_DB``), outside the index folder that ``make clean-index``
removes, and exported as QA-set candidates for evaluators.

Only what the request held is stored (question, how it was understood, answer, sources,
snapshot id, verdict, comment) plus the time it arrived: no address, no client id.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Literal

from rag.errors import StorageFull
from rag.language.korean import detect_lang

Verdict = Literal["helpful", "wrong"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('helpful', 'wrong')),
    comment TEXT,
    question TEXT NOT NULL,
    understood_as TEXT,
    answer TEXT NOT NULL,
    refused INTEGER NOT NULL,
    sources TEXT NOT NULL,
    snapshot TEXT
);
"""


@dataclass
class Feedback:
    verdict: Verdict
    question: str
    answer: str
    refused: bool = False
    sources: list[dict[str, Any]] = field(default_factory=list)
    snapshot: str | None = None
    understood_as: str | None = None
    comment: str | None = None
    id: int | None = None
    created: str | None = None


def _private(path: Path) -> None:
    """Create ``path`` readable and writable by the service's user only (0600: students'
    questions and comments), or tighten an existing file we own to that. SQLite gives its
    ``-wal`` and ``-shm`` files the database file's permissions."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if os.fstat(fd).st_uid == os.getuid() and os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


class FeedbackStore:
    """Append-only store; one connection per call, so it is safe across threads and workers."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._ready = False
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        if not self._ready:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                _private(self.path)
                con = sqlite3.connect(self.path, timeout=10)
                con.execute("PRAGMA journal_mode=WAL")
                con.executescript(SCHEMA)
                con.close()
                self._ready = True
        return sqlite3.connect(self.path, timeout=10)

    def add(self, fb: Feedback) -> Feedback:
        """Store ``fb``; returns it with its id and time. A full disk is StorageFull."""
        created = datetime.now(timezone.utc).isoformat(timespec="seconds")
        try:
            con = self._connect()
            try:
                with con:
                    cur = con.execute(
                        "INSERT INTO feedback (created, verdict, comment, question, understood_as, answer, refused, "
                        "sources, snapshot) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (created, fb.verdict, fb.comment, fb.question, fb.understood_as, fb.answer, int(fb.refused),
                         json.dumps(fb.sources, ensure_ascii=False), fb.snapshot))
            finally:
                con.close()
        except sqlite3.OperationalError as exc:
            if "full" in str(exc).lower():
                raise StorageFull(f"feedback not saved: disk full ({self.path})") from exc
            raise
        return Feedback(**{**asdict(fb), "id": cur.lastrowid, "created": created})

    def all(self, verdict: Verdict | None = None) -> Iterator[Feedback]:
        if not self.path.is_file():
            return
        con = self._connect()
        try:
            query = ("SELECT id, created, verdict, comment, question, understood_as, answer, refused, sources, snapshot "
                     "FROM feedback" + (" WHERE verdict = ?" if verdict else "") + " ORDER BY id")
            for row in con.execute(query, (verdict,) if verdict else ()):
                yield Feedback(id=row[0], created=row[1], verdict=row[2], comment=row[3], question=row[4],
                               understood_as=row[5], answer=row[6], refused=bool(row[7]), sources=json.loads(row[8]),
                               snapshot=row[9])
        finally:
            con.close()


def qa_candidate(fb: Feedback) -> dict[str, Any]:
    """A marked-wrong answer as a line of the QA test set (``data/qa/testset.jsonl`` format).

    It is a valid item as exported, typed "unanswerable" with empty answers: the evaluator
    decides. If the notes do answer the question, they fill ``answers``, ``keywords``,
    ``source`` and ``evidence`` and set ``type``; if not, the item already checks a refusal.
    The question is the standalone one (as understood), since a QA item has no conversation.
    """
    question = fb.understood_as or fb.question
    return {"id": f"feedback-{fb.id}", "question": question, "answers": [], "keywords": [], "source": None,
            "evidence": None, "type": "unanswerable", "lang": detect_lang(question)}


def review_note(fb: Feedback) -> dict[str, Any]:
    """What the student saw and said, for the evaluator (a side file, keyed by the same id)."""
    return {"id": f"feedback-{fb.id}", "created": fb.created, "asked": fb.question, "understood_as": fb.understood_as,
            "answer": fb.answer, "refused": fb.refused, "comment": fb.comment, "snapshot": fb.snapshot,
            "sources": [{k: s.get(k) for k in ("n", "doc", "title", "section", "page")} for s in fb.sources]}
