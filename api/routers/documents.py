"""Maintainers' routes: list, upload, replace, delete, re-index. Every write needs the admin
bearer token and returns the ingest summary; the work runs in the threadpool (plain ``def``)."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Path, UploadFile

from api.deps import AdminDep, ServicesDep
from api.errors import responses
from api.schemas import DocumentList, IngestSummaryOut
from ingest.loader_registry import accepted_types

router = APIRouter(tags=["documents"])

WRITE_ERRORS = responses(400, 401, 403, 409, 413, 415, 422, 503, 507)
UploadDep = Annotated[UploadFile, File(description=f"The document: {accepted_types()} (limit RAG_MAX_UPLOAD_MB)")]
DocId = Annotated[str, Path(description="Document id as listed by GET /documents", examples=["yolo-notes.md"])]


@router.get("/documents", response_model=DocumentList, summary="Documents in the live snapshot",
            responses=responses(503))
def list_documents(services: ServicesDep) -> dict[str, Any]:
    return services.documents.list()


@router.post("/documents", response_model=IngestSummaryOut, status_code=201, responses=WRITE_ERRORS,
             summary="Upload a new document; it is validated, ingested and published before this returns",
             description="The file name becomes the document id. An existing id is a 409: use PUT to replace it. "
                         "A corrupt or unreadable file, or one whose content is another format than its extension "
                         "says (a .pptx named .docx, a ZIP that is none of the formats), is a 400 with the reason "
                         "and leaves the live snapshot unchanged; an unknown extension is a 415.")
def upload_document(_: AdminDep, services: ServicesDep, file: UploadDep) -> dict[str, Any]:
    return services.documents.add(file.filename, file.file)


@router.put("/documents/{doc_id:path}", response_model=IngestSummaryOut, responses={**WRITE_ERRORS, **responses(404)},
            summary="Replace a document's content and re-index")
def replace_document(_: AdminDep, services: ServicesDep, doc_id: DocId, file: UploadDep) -> dict[str, Any]:
    return services.documents.replace(doc_id, file.file)


@router.delete("/documents/{doc_id:path}", response_model=IngestSummaryOut,
               responses=responses(401, 403, 404, 409, 422, 503, 507), summary="Remove a document and re-index")
def delete_document(_: AdminDep, services: ServicesDep, doc_id: DocId) -> dict[str, Any]:
    return services.documents.delete(doc_id)


@router.post("/reindex", response_model=IngestSummaryOut, responses=responses(401, 403, 409, 503, 507),
             summary="Re-ingest the notes directory (publishes only when something changed)")
def reindex(_: AdminDep, services: ServicesDep) -> dict[str, Any]:
    return services.documents.reindex()
