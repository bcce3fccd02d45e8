"""API: documents made from a deal (make, list, one, again, PDF), and
the files on a client, a deal or a task."""

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from accord.core.api.pagination import ListParams, Page, paginate
from accord.core.api.problems import Problem, invalid
from accord.core.api.schemas import RecordId, WithId, id_of
from accord.documents import word
from accord.documents.models import Attachment, Document
from accord.documents.queries import (
    attached_record,
    attachment_by_token,
    attachments_of,
    documents_visible_to,
    templates_in_use,
)
from accord.documents.services.attachments import attachment_delete, attachments_add
from accord.documents.services.documents import document_generate, document_regenerate
from accord.documents.template_api import WORD_FILE, file_answers
from accord.sales.queries import deals_visible_to

router = Router(tags=["documents"])


class DocumentOut(WithId):
    kind: str
    title: str
    number: str
    version: int
    language: str
    issued_on: date
    state: str = Field(description="pending (the PDF is being made), ready or failed")
    error: str
    warnings: list[str] = Field(description="The fields the deal had nothing in")
    deal: str | None
    template: str | None
    created_at: datetime
    ready_at: datetime | None
    pdf: str | None = Field(description="Where the PDF is downloaded, once ready")
    docx: str | None = Field(description="A Word template's document: the filled Word file")

    @staticmethod
    def resolve_kind(document) -> str:
        return document.kind.code

    @staticmethod
    def resolve_deal(document) -> str | None:
        return str(document.deal_id) if document.deal_id else None

    @staticmethod
    def resolve_template(document) -> str | None:
        return str(document.template_id) if document.template_id else None

    @staticmethod
    def resolve_pdf(document) -> str | None:
        if document.state != Document.READY or not document.pdf:
            return None
        return f"/api/v1/documents/{document.pk}/pdf"

    @staticmethod
    def resolve_docx(document) -> str | None:
        if document.state != Document.READY or not document.docx:
            return None
        return f"/api/v1/documents/{document.pk}/docx"


class DocumentIn(Schema):
    deal: str = Field(max_length=20)
    template: str = Field(max_length=20)
    language: str = Field("", max_length=10, description="en, ru, he or hy; the company's if empty")


@router.get("/documents", response=Page[DocumentOut], summary="Documents (of one deal: ?deal=)")
def documents_list(request, params: Query[ListParams], deal: str | None = None):
    documents = documents_visible_to(request.auth).select_related("kind")
    if deal is not None:
        documents = documents.filter(deal_id=id_of(deal))
    return paginate(documents, params, sorts={"created_at", "number"}, default_sort="-created_at")


@router.post("/documents", response={201: DocumentOut}, summary="Make a document from a deal")
def documents_create(request, response: HttpResponse, payload: DocumentIn):
    deal = deals_visible_to(request.auth).filter(pk=id_of(payload.deal)).first()
    template = next((t for t in templates_in_use() if t.pk == id_of(payload.template)), None)
    errors = []
    if deal is None:
        errors.append({"field": "deal", "message": "No such deal, or you may not see it."})
    if template is None:
        errors.append({"field": "template", "message": "No such template in use."})
    if errors:
        raise Problem(422, "The document cannot be made.", errors=errors)
    try:
        document = document_generate(
            actor=request.auth, deal=deal, template=template, language=payload.language
        )
    except ValidationError as error:
        raise invalid(error) from None
    response["Location"] = f"/api/v1/documents/{document.pk}"
    return Status(201, document)


@router.get("/documents/{document_id}", response=DocumentOut, summary="One document")
def documents_detail(request, document_id: RecordId):
    return get_object_or_404(
        documents_visible_to(request.auth).select_related("kind"), pk=document_id
    )


@router.post(
    "/documents/{document_id}/again",
    response={201: DocumentOut},
    summary="Make the document again from its deal: the next version, same number",
)
def documents_regenerate(request, response: HttpResponse, document_id: RecordId):
    document = get_object_or_404(documents_visible_to(request.auth), pk=document_id)
    try:
        again = document_regenerate(actor=request.auth, document=document)
    except ValidationError as error:
        raise invalid(error) from None
    response["Location"] = f"/api/v1/documents/{again.pk}"
    return Status(201, again)


@router.get(
    "/documents/{document_id}/pdf",
    summary="The document's PDF",
    openapi_extra=file_answers(
        "application/pdf", "The PDF", "No PDF: being made, failed, or a Word file only."
    ),
)
def documents_file(request, document_id: RecordId):
    document = get_object_or_404(documents_visible_to(request.auth), pk=document_id)
    if document.state != Document.READY or not document.pdf:
        raise Problem(
            409,
            "No PDF: it is being made, making it failed, or the server cannot print a Word "
            "template's document (its Word file is at /docx).",
        )
    return FileResponse(
        document.pdf.open("rb"), content_type="application/pdf", filename=document.file_name
    )


@router.get(
    "/documents/{document_id}/docx",
    summary="A Word template's document, as the Word file",
    openapi_extra=WORD_FILE,
)
def documents_word_file(request, document_id: RecordId):
    document = get_object_or_404(documents_visible_to(request.auth), pk=document_id)
    if document.state != Document.READY or not document.docx:
        raise Problem(409, "No Word file: the document is being made, or is not from Word.")
    return FileResponse(
        document.docx.open("rb"),
        content_type=word.CONTENT_TYPE,
        as_attachment=True,
        filename=document.docx_name,
    )


# --- Files on a client, a deal or a task -------------------------------------------------


class AttachmentOut(WithId):
    name: str
    content_type: str
    size: int
    person: str | None
    company: str | None
    deal: str | None
    task: str | None
    uploaded_by: str | None
    created_at: datetime
    file: str = Field(description="Where the file is downloaded")

    @staticmethod
    def resolve_person(attachment) -> str | None:
        return str(attachment.person_id) if attachment.person_id else None

    @staticmethod
    def resolve_company(attachment) -> str | None:
        return str(attachment.company_id) if attachment.company_id else None

    @staticmethod
    def resolve_deal(attachment) -> str | None:
        return str(attachment.deal_id) if attachment.deal_id else None

    @staticmethod
    def resolve_task(attachment) -> str | None:
        return str(attachment.task_id) if attachment.task_id else None

    @staticmethod
    def resolve_uploaded_by(attachment) -> str | None:
        return str(attachment.uploaded_by_id) if attachment.uploaded_by_id else None

    @staticmethod
    def resolve_file(attachment) -> str:
        return f"/api/v1/attachments/{attachment.pk}/file"


def _attached(request, person, company, deal, task):
    named = {"person": person, "company": company, "deal": deal, "task": task}
    given = {link: value for link, value in named.items() if value is not None}
    if len(given) != 1:
        raise Problem(
            422,
            "Name one record the files are on.",
            errors=[{"field": "deal", "message": "Give one of person, company, deal or task."}],
        )
    ((link, value),) = given.items()
    record = attached_record(request.auth, link, value)
    if record is None:  # a filter naming nothing the caller sees: bad input, like a bad id
        raise Problem(
            422,
            "No such record, or you may not see it.",
            errors=[{"field": link, "message": "No such record, or you may not see it."}],
        )
    return link, record


@router.get("/attachments", response=list[AttachmentOut], summary="The files on one record")
def attachments_list(
    request,
    person: str | None = None,
    company: str | None = None,
    deal: str | None = None,
    task: str | None = None,
):
    link, record = _attached(request, person, company, deal, task)
    return attachments_of(record, link)


@router.post("/attachments", response={201: list[AttachmentOut]}, summary="Add files to a record")
def attachments_create(
    request,
    files: File[list[UploadedFile]],
    person: Form[str | None] = None,
    company: Form[str | None] = None,
    deal: Form[str | None] = None,
    task: Form[str | None] = None,
):
    _link, record = _attached(request, person, company, deal, task)
    try:
        return Status(201, attachments_add(actor=request.auth, record=record, files=files))
    except ValidationError as error:
        raise invalid(error) from None


def _visible_attachment(request, attachment_id: int):
    attachment = get_object_or_404(Attachment, pk=attachment_id)
    found = attachment_by_token(request.auth, attachment.token)
    if found is None:
        raise Http404
    return found


@router.get(
    "/attachments/{attachment_id}/file",
    summary="The file",
    openapi_extra={
        "responses": {
            200: {
                "description": "The file, as an attachment",
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            }
        }
    },
)
def attachments_file(request, attachment_id: RecordId):
    attachment, _record = _visible_attachment(request, attachment_id)
    try:
        stream = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(
        stream, as_attachment=True, filename=attachment.name, content_type=attachment.content_type
    )


@router.delete("/attachments/{attachment_id}", response={204: None}, summary="Remove a file")
def attachments_delete(request, attachment_id: RecordId):
    attachment, record = _visible_attachment(request, attachment_id)
    attachment_delete(actor=request.auth, attachment=attachment, record=record)
    return Status(204, None)
