"""API: document templates — HTML written in the request, or a Word file (DOCX) uploaded —
checked as Settings → Documents checks them, changed with If-Match, retired, downloaded."""

from datetime import datetime
from typing import Annotated, Literal

from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.text import slugify
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from accord.core.api.concurrency import (
    ANSWERS_ETAG,
    CREATES,
    TAKES_IF_MATCH,
    etag_of,
    if_match,
)
from accord.core.api.problems import PROBLEM_CONTENT_TYPE, Problem, invalid
from accord.core.api.schemas import RecordId, WithId
from accord.documents import word
from accord.documents.models import DocumentKind, DocumentTemplate
from accord.documents.queries import templates_in_use
from accord.documents.services.templates import require_settings, template_retire, template_save

router = Router(tags=["documents"])


def file_answers(content_type: str, what: str, conflict: str) -> dict:
    """The schema's answers of a download: the file, or a problem when there is none yet."""
    problem = {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}
    return {
        "responses": {
            200: {
                "description": what,
                "content": {content_type: {"schema": {"type": "string", "format": "binary"}}},
            },
            409: {"description": conflict, "content": {PROBLEM_CONTENT_TYPE: problem}},
        }
    }


WORD_FILE = file_answers(
    word.CONTENT_TYPE, "The Word file", "No Word file: an HTML template, or not made yet."
)


class DocumentTemplateOut(WithId):
    name: str
    kind: str = Field(description="The kind's code: offer, contract, invoice, act or the admin's")
    kind_name: str
    format: Literal["html", "docx"]
    retired: bool
    version: int
    updated_at: datetime
    file: str | None = Field(description="A Word template's file, to download")

    @staticmethod
    def resolve_name(template) -> str:
        return str(template)

    @staticmethod
    def resolve_kind(template) -> str:
        return template.kind.code

    @staticmethod
    def resolve_kind_name(template) -> str:
        return str(template.kind)

    @staticmethod
    def resolve_file(template) -> str | None:
        if template.format != DocumentTemplate.DOCX:
            return None
        return f"/api/v1/document-templates/{template.pk}/file"


class DocumentTemplateDetail(DocumentTemplateOut):
    body: str = Field(description="HTML: the template. Word: its text as read, a paragraph a line")


class DocumentTemplateIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(max_length=30, description="The kind's code (GET /document-templates)")
    body: str = Field(min_length=1, max_length=200_000, description="HTML with merge fields")


class DocumentTemplatePatch(Schema):
    name: str = Field(None, min_length=1, max_length=200)
    body: str = Field(None, min_length=1, max_length=200_000, description="HTML templates only")
    retired: bool = Field(None, description="A retired template is no longer offered")


def _kind(code: str) -> DocumentKind:
    kind = DocumentKind.objects.filter(code=code, retired=False).first()
    if kind is None:
        raise Problem(
            422, "No such kind of document.", errors=[{"field": "kind", "message": "Unknown kind."}]
        )
    return kind


def _created(request, response: HttpResponse, data: dict) -> Status:
    try:
        template = template_save(actor=request.auth, data=data)
    except ValidationError as error:
        raise invalid(error) from None
    response["Location"] = f"/api/v1/document-templates/{template.pk}"
    return Status(201, _answer(response, template))


def _answer(response: HttpResponse, template: DocumentTemplate) -> DocumentTemplate:
    response["ETag"] = etag_of(template)
    return template


@router.get(
    "/document-templates",
    response=list[DocumentTemplateOut],
    summary="Templates (in use; ?retired=true: all)",
)
def document_templates_list(request, retired: bool = False):
    if not retired:
        return templates_in_use()
    return list(DocumentTemplate.objects.select_related("kind"))


@router.post(
    "/document-templates",
    response={201: DocumentTemplateDetail},
    summary="Add an HTML template (checked: an unknown field or a syntax error is a 422)",
    openapi_extra=CREATES,
)
def document_templates_create(request, response: HttpResponse, payload: DocumentTemplateIn):
    data = {"name": payload.name, "kind": _kind(payload.kind), "body": payload.body}
    return _created(request, response, data)


@router.post(
    "/document-templates/word",
    response={201: DocumentTemplateDetail},
    summary="Upload a Word template (DOCX with merge fields; checked like an HTML one)",
    openapi_extra=CREATES,
)
def document_templates_upload(
    request,
    response: HttpResponse,
    file: File[UploadedFile],
    name: Annotated[str, Form(min_length=1, max_length=200)],
    kind: Annotated[str, Form(max_length=30, description="The kind's code")],
):
    data = {"name": name, "kind": _kind(kind), "file": file}
    return _created(request, response, data)


@router.get(
    "/document-templates/{template_id}",
    response=DocumentTemplateDetail,
    summary="One template, with its text",
    openapi_extra=ANSWERS_ETAG,
)
def document_templates_detail(request, response: HttpResponse, template_id: RecordId):
    template = get_object_or_404(DocumentTemplate.objects.select_related("kind"), pk=template_id)
    return _answer(response, template)


@router.patch(
    "/document-templates/{template_id}",
    response=DocumentTemplateDetail,
    summary="Rename, rewrite (HTML) or retire a template (send If-Match)",
    openapi_extra=TAKES_IF_MATCH,
)
def document_templates_update(
    request, response: HttpResponse, template_id: RecordId, payload: DocumentTemplatePatch
):
    require_settings(request.auth)
    changes = payload.dict(exclude_unset=True)

    def change(template):
        if changes.keys() & {"name", "body"}:
            if "body" in changes and template.format == DocumentTemplate.DOCX:
                raise ValidationError({"body": ["A Word template changes by a new file."]})
            data = {"name": str(template), "body": template.body, **changes}
            template = template_save(actor=request.auth, data=data, template=template)
        if "retired" in changes:
            template_retire(actor=request.auth, template=template, retired=changes["retired"])
            template.refresh_from_db()
        return template

    template = if_match(request, DocumentTemplate.objects.all(), template_id, change)
    return _answer(response, template)


@router.post(
    "/document-templates/{template_id}/file",
    response=DocumentTemplateDetail,
    summary="Replace a Word template's file (send If-Match)",
    openapi_extra=TAKES_IF_MATCH,
)
def document_templates_replace(
    request, response: HttpResponse, template_id: RecordId, file: File[UploadedFile]
):
    def replace(template):
        if template.format != DocumentTemplate.DOCX:
            raise ValidationError({"file": ["An HTML template has no file: PATCH its body."]})
        data = {"name": str(template), "file": file}
        return template_save(actor=request.auth, data=data, template=template)

    template = if_match(request, DocumentTemplate.objects.all(), template_id, replace)
    return _answer(response, template)


@router.get(
    "/document-templates/{template_id}/file",
    summary="A Word template's file",
    openapi_extra=WORD_FILE,
)
def document_templates_file(request, template_id: RecordId):
    require_settings(request.auth)
    template = get_object_or_404(DocumentTemplate, pk=template_id)
    if template.format != DocumentTemplate.DOCX or not template.file:
        raise Problem(409, "This is an HTML template: its text is in the template's body.")
    return FileResponse(
        template.file.open("rb"),
        content_type=word.CONTENT_TYPE,
        as_attachment=True,
        filename=f"{slugify(str(template)) or 'template'}.docx",
    )
