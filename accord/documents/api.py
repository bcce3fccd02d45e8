"""API: document templates, and documents made from a deal (make, list, one, again, PDF)."""

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from accord.core.api.pagination import ListParams, Page, paginate
from accord.core.api.problems import Problem, invalid
from accord.core.api.schemas import RecordId, WithId, id_of
from accord.documents.models import Document
from accord.documents.queries import documents_visible_to, templates_in_use
from accord.documents.services.documents import document_generate, document_regenerate
from accord.sales.queries import deals_visible_to

router = Router(tags=["documents"])


class DocumentTemplateOut(WithId):
    name: str
    kind: str = Field(description="The kind's code: offer, contract, invoice, act or the admin's")
    kind_name: str

    @staticmethod
    def resolve_name(template) -> str:
        return str(template)

    @staticmethod
    def resolve_kind(template) -> str:
        return template.kind.code

    @staticmethod
    def resolve_kind_name(template) -> str:
        return str(template.kind)


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
        return f"/api/v1/documents/{document.pk}/pdf" if document.state == Document.READY else None


class DocumentIn(Schema):
    deal: str = Field(max_length=20)
    template: str = Field(max_length=20)
    language: str = Field("", max_length=10, description="en, ru, he or hy; the company's if empty")


@router.get("/document-templates", response=list[DocumentTemplateOut], summary="Templates in use")
def document_templates_list(request):
    return templates_in_use()


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
    openapi_extra={
        "responses": {
            200: {
                "description": "The PDF",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def documents_file(request, document_id: RecordId):
    document = get_object_or_404(documents_visible_to(request.auth), pk=document_id)
    if document.state != Document.READY or not document.pdf:
        raise Problem(409, "The PDF is not ready: it is being made, or making it failed.")
    return FileResponse(
        document.pdf.open("rb"), content_type="application/pdf", filename=document.file_name
    )
