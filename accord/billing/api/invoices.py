"""API: invoices and credit notes — draft, change, issue, cancel, correct, credit, PDF."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Status

from accord.billing.api.schemas import (
    QUANTITY_LIMIT,
    TOTAL_LIMIT,
    CancelIn,
    InvoiceCreate,
    InvoiceFilters,
    InvoiceIn,
    InvoiceOut,
    fail,
    no_nulls,
)
from accord.billing.models import Invoice
from accord.billing.queries import invoice_list, invoices_visible_to
from accord.billing.services import (
    apply_credit,
    invoice_cancel,
    invoice_correct,
    invoice_delete_draft,
    invoice_from_deal,
    invoice_issue,
    invoice_save,
)
from accord.billing.services.common import require_write
from accord.catalog.models import Product
from accord.contacts.queries import companies_visible_to, people_visible_to
from accord.core.api.concurrency import (
    ANSWERS_ETAG,
    CREATES,
    IF_MATCH_HEADER,
    TAKES_IF_MATCH,
    etag_of,
    if_match,
)
from accord.core.api.pagination import ListParams, Page, paginate
from accord.core.api.problems import Problem, invalid, one_of
from accord.core.api.schemas import RecordId, id_of
from accord.core.company import default_currency
from accord.core.money import parse_decimal
from accord.documents.fields import language_choices
from accord.documents.models import Document
from accord.sales.queries import deals_visible_to

router = Router()
# An action that answers another record (a credit note, a new draft), honouring If-Match.
TAKES_IF_MATCH_CREATES = {"parameters": [IF_MATCH_HEADER], **CREATES}


def _with_details(invoices):
    return invoices.prefetch_related(
        "lines", "corrections", "allocations__payment", "allocations__invoice"
    )


def _printed(invoices: list[Invoice]) -> list[Invoice]:
    """Each invoice with its printed document (the latest version of its number) as
    `printed`, in one query for the lot."""
    numbers = {invoice.number for invoice in invoices if invoice.number}
    latest: dict[tuple[str, str], Document] = {}
    if numbers:
        documents = Document.objects.filter(
            number__in=numbers, kind__code__in=[Invoice.INVOICE, Invoice.CREDIT_NOTE]
        ).select_related("kind")
        for document in documents.order_by("version"):
            latest[(document.kind.code, document.number)] = document
    for invoice in invoices:
        invoice.printed = latest.get((invoice.kind, invoice.number)) if invoice.number else None
    return invoices


def _invoice_answer(response: HttpResponse, invoice: Invoice) -> Invoice:
    invoice = _with_details(Invoice.objects.all()).get(pk=invoice.pk)
    _printed([invoice])
    response["ETag"] = etag_of(invoice)
    return invoice


def _created(response: HttpResponse, invoice: Invoice):
    response["Location"] = f"/api/v1/invoices/{invoice.pk}"
    return Status(201, _invoice_answer(response, invoice))


def _invoice_data(request, data: dict) -> dict:
    """The body's ids as the records they name (422 for one the caller may not see), its
    language and its lines checked as far as the service leaves them to the columns."""
    no_nulls(data, ("currency", "lines"))
    user = request.auth
    for field, queryset in (
        ("deal", deals_visible_to(user)),
        ("person", people_visible_to(user)),
        ("company", companies_visible_to(user)),
    ):
        if data.get(field) is not None:
            data[field] = one_of(queryset, data[field], field)
    errors: dict[str, str] = {}
    if data.get("language") and data["language"] not in dict(language_choices()):
        errors["language"] = "Choose one of the languages Accord speaks: " + ", ".join(
            code for code, _name in language_choices()
        )
    if "lines" in data:
        _products_of(data["lines"], errors)
        _check_lines(data["lines"], errors)
    fail(errors)
    return data


def _products_of(lines: list[dict], errors: dict[str, str]) -> None:
    """The lines' product ids as the catalogue's products, in one query."""
    wanted = {id_of(line["product"]) for line in lines if line.get("product") is not None}
    products = Product.objects.filter(active=True).in_bulk(wanted - {None})
    for index, line in enumerate(lines):
        if line.get("product") is None:
            continue
        line["product"] = products.get(id_of(line["product"]))
        if line["product"] is None:
            errors[f"lines.{index}.product"] = "No such product in the catalogue."


def _check_lines(lines: list[dict], errors: dict[str, str]) -> None:
    """What the invoice's columns cannot hold: a quantity of ten digits or more than three
    decimals, a percentage of more than two, a total past a trillion."""
    total = Decimal(0)
    for index, line in enumerate(lines):
        quantity = parse_decimal(line.get("quantity", "1"))
        if quantity is not None and abs(quantity) >= QUANTITY_LIMIT:
            errors[f"lines.{index}.quantity"] = "Enter a quantity below 1,000,000,000."
        elif quantity is not None and quantity != quantity.quantize(Decimal("0.001")):
            errors[f"lines.{index}.quantity"] = "At most three decimals."
        for field in ("discount_percent", "tax_percent"):
            percent = parse_decimal(line.get(field, "0"))
            if percent is not None and abs(percent) <= 100 and percent != round(percent, 2):
                errors[f"lines.{index}.{field}"] = "At most two decimals."
        product = line.get("product")
        price = parse_decimal(line.get("unit_price", product.price if product else None))
        tax = parse_decimal(line.get("tax_percent", "0"))
        if quantity is None or price is None or abs(quantity) >= QUANTITY_LIMIT:
            continue
        if abs(price) >= TOTAL_LIMIT:
            continue  # the service names the price
        tax = min(max(tax or Decimal(0), Decimal(0)), Decimal(100))
        total += abs(quantity * price) * (1 + tax / 100)
    if total >= TOTAL_LIMIT and not errors:
        errors["lines"] = "The invoice's total would be a trillion or more."


def _status_problem(message: str) -> Problem:
    return Problem(
        422,
        "The invoice is not in a state that allows this.",
        errors=[{"field": "status", "message": message}],
    )


@router.get("/invoices", response=Page[InvoiceOut], summary="Invoices and credit notes")
def invoices_list(request, params: Query[ListParams], filters: Query[InvoiceFilters]):
    invoices = invoice_list(request.auth, status=filters.status or "", query=filters.q or "")
    if filters.kind is not None:
        invoices = invoices.filter(kind=filters.kind)
    for field in ("deal", "person", "company"):
        if getattr(filters, field) is not None:
            invoices = invoices.filter(**{f"{field}_id": getattr(filters, field)})
    page = paginate(
        _with_details(invoices), params, sorts={"created_at"}, default_sort="-created_at"
    )
    _printed(page["items"])
    return page


@router.post(
    "/invoices",
    response={201: InvoiceOut},
    summary="Draft an invoice: by hand, or from a deal's line items",
    openapi_extra=CREATES,
)
def invoices_create(request, response: HttpResponse, payload: InvoiceCreate):
    data = payload.dict(exclude_unset=True)
    from_deal = data.pop("from_deal", False)
    if from_deal:
        errors = {
            field: "Comes from the deal: change the draft after."
            for field in ("person", "company", "currency", "lines")
            if field in data
        }
        if data.get("deal") is None:
            errors["deal"] = "Name the deal to invoice."
        fail(errors)
    data = _invoice_data(request, data)
    try:
        with transaction.atomic():
            if from_deal:
                invoice = invoice_from_deal(actor=request.auth, deal=data.pop("deal"))
                if data:  # due_on, note, language
                    invoice = invoice_save(actor=request.auth, invoice=invoice, data=data)
            else:
                data.setdefault("currency", default_currency())
                invoice = invoice_save(actor=request.auth, data=data)
    except ValidationError as error:
        raise invalid(error) from None
    return _created(response, invoice)


@router.get(
    "/invoices/{invoice_id}", response=InvoiceOut, summary="One invoice", openapi_extra=ANSWERS_ETAG
)
def invoices_detail(request, response: HttpResponse, invoice_id: RecordId):
    invoice = get_object_or_404(invoices_visible_to(request.auth), pk=invoice_id)
    return _invoice_answer(response, invoice)


@router.patch(
    "/invoices/{invoice_id}",
    response=InvoiceOut,
    summary="Change a draft (send If-Match); an issued invoice is frozen: correct it",
    openapi_extra=TAKES_IF_MATCH,
)
def invoices_update(request, response: HttpResponse, invoice_id: RecordId, payload: InvoiceIn):
    get_object_or_404(invoices_visible_to(request.auth), pk=invoice_id)
    data = _invoice_data(request, payload.dict(exclude_unset=True))
    invoice = if_match(
        request,
        invoices_visible_to(request.auth),
        invoice_id,
        lambda invoice: invoice_save(actor=request.auth, invoice=invoice, data=data),
    )
    return _invoice_answer(response, invoice)


@router.delete("/invoices/{invoice_id}", response={204: None}, summary="Delete a draft")
def invoices_delete(request, invoice_id: RecordId):
    invoice = get_object_or_404(invoices_visible_to(request.auth), pk=invoice_id)
    try:
        invoice_delete_draft(actor=request.auth, invoice=invoice)
    except ValidationError as error:
        raise invalid(error) from None
    return Status(204, None)


@router.post(
    "/invoices/{invoice_id}/issue",
    response=InvoiceOut,
    summary="Issue a draft: numbered, frozen, printed; the client's credit is set against it",
    openapi_extra=TAKES_IF_MATCH,
)
def invoices_issue(request, response: HttpResponse, invoice_id: RecordId):
    invoice = if_match(
        request,
        invoices_visible_to(request.auth),
        invoice_id,
        lambda invoice: invoice_issue(actor=request.auth, invoice=invoice),
    )
    return _invoice_answer(response, invoice)


@router.post(
    "/invoices/{invoice_id}/cancel",
    response={201: InvoiceOut},
    summary="Cancel an issued invoice: answers the credit note issued for it",
    openapi_extra=TAKES_IF_MATCH_CREATES,
)
def invoices_cancel(request, response: HttpResponse, invoice_id: RecordId, payload: CancelIn):
    def cancel(invoice):
        if invoice.status == Invoice.DRAFT:
            raise _status_problem("A draft has no number to cancel: delete it.")
        return invoice_cancel(actor=request.auth, invoice=invoice, reason=payload.reason)

    note = if_match(request, invoices_visible_to(request.auth), invoice_id, cancel)
    return _created(response, note)


@router.post(
    "/invoices/{invoice_id}/correct",
    response={201: InvoiceOut},
    summary="Correct an issued invoice: a credit note cancels it; answers the new draft",
    openapi_extra=TAKES_IF_MATCH_CREATES,
)
def invoices_correct(request, response: HttpResponse, invoice_id: RecordId):
    def correct(invoice):
        if invoice.status == Invoice.DRAFT:
            raise _status_problem("A draft is changed as it is: PATCH it.")
        return invoice_correct(actor=request.auth, invoice=invoice)

    draft = if_match(request, invoices_visible_to(request.auth), invoice_id, correct)
    return _created(response, draft)


@router.post(
    "/invoices/{invoice_id}/apply-credit",
    response=InvoiceOut,
    summary="Set the client's unused payments (same currency) against the invoice",
    openapi_extra=ANSWERS_ETAG,
)
def invoice_credit_apply(request, response: HttpResponse, invoice_id: RecordId):
    invoice = get_object_or_404(invoices_visible_to(request.auth), pk=invoice_id)
    with transaction.atomic():
        require_write(request.auth, invoice.owner)
        apply_credit(invoice=invoice, actor=request.auth)
    return _invoice_answer(response, invoice)


@router.get(
    "/invoices/{invoice_id}/pdf",
    summary="The invoice's PDF (404 until it is made)",
    openapi_extra={
        "responses": {
            200: {
                "description": "The PDF",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def invoice_pdf_download(request, invoice_id: RecordId):
    invoice = get_object_or_404(invoices_visible_to(request.auth), pk=invoice_id)
    document = _printed([invoice])[0].printed
    if document is None or document.state != Document.READY or not document.pdf:
        raise Problem(404, "The invoice has no PDF yet: a draft, or it is being made.")
    try:
        stream = document.pdf.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(stream, content_type="application/pdf", filename=document.file_name)
