"""Domain errors: raised by the core, mapped to HTTP status codes once, in the API."""
from __future__ import annotations


class RagError(Exception):
    """Base of every error a user can cause or needs to read."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(RagError):
    code = "invalid_input"


class NotFound(RagError):
    code = "not_found"


class UnsupportedType(RagError):
    code = "unsupported_type"


class BadDocument(RagError):
    """A document that cannot be read: corrupt, binary, empty, encrypted."""

    code = "bad_document"


class TooLarge(RagError):
    code = "too_large"


class Conflict(RagError):
    code = "conflict"


class NoIndex(RagError):
    """No usable snapshot: nothing ingested yet, or every snapshot is damaged."""

    code = "no_index"


class IndexUnavailable(NoIndex):
    """The index engine (Milvus) does not answer, refused the connection, or failed a write."""

    code = "index_unavailable"


class SnapshotDamaged(RagError):
    code = "snapshot_damaged"


class ModelUnavailable(RagError):
    code = "model_unavailable"


class StorageFull(RagError):
    """The disk (or quota) ran out while writing: nothing was published, the live snapshot stands."""

    code = "storage_full"


class DuplicateDocument(Conflict):
    """A document whose text (loaded, Unicode-normalised, whitespace folded) is exactly that of
    an existing one; ``existing`` is that document's id. HTTP 409 through ``Conflict``."""

    code = "duplicate_document"

    def __init__(self, doc_id: str, existing: str) -> None:
        super().__init__(f"{doc_id!r} has the same text as the existing document {existing!r}; "
                         f"it was not added twice (replace {existing!r} with PUT, or delete it first)")
        self.doc_id = doc_id
        self.existing = existing


class GenerationCancelled(RagError):
    """A generation stopped because nobody wants its answer any more (the client went away)."""

    code = "cancelled"


class GenerationTimeout(RagError):
    """A generation stopped at its deadline (RAG_LLM_TIMEOUT_S)."""

    code = "generation_timeout"
