"""API: invoices (drafted from a deal or typed by hand, changed while a draft, issued,
cancelled by a credit note, corrected, their PDF), payments and refunds, expenses and
their categories, and the money report."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from accord.billing.models import Allocation, Expense, Invoice, Payment
from accord.billing.queries import (
    billing_speed,
    categories_in_use,
    expenses_visible_to,
    income_and_expenses,
    invoice_list,
    invoices_visible_to,
    payments_visible_to,
    unpaid_totals,
)
from accord.billing.services import (
    apply_credit,
    expense_delete,
    expense_save,
    invoice_cancel,
    invoice_correct,
    invoice_delete_draft,
    invoice_from_deal,
    invoice_issue,
    invoice_save,
    payment_delete,
    payment_record,
    refund_record,
)
from accord.billing.services.common import RECORD_TYPE, require_write
from accord.catalog.models import Product
from accord.contacts.queries import companies_visible_to, people_visible_to
from accord.core.api.concurrency import (
    ANSWERS_ETAG,
    CREATES,
    IF_MATCH_HEADER,
    TAKES_IF_MATCH,
    etag_of,
    run_if_match,
)
from accord.core.api.pagination import ListParams, Page, paginate
from accord.core.api.problems import Problem, invalid, one_of
from accord.core.api.schemas import RecordId, WithId, id_of
from accord.core.company import default_currency
from accord.core.errors import StaleVersion
from accord.core.money import parse_decimal
from accord.core.visibility import NONE, READ, effective_level
from accord.documents.fields import language_choices
from accord.documents.models import Document
from accord.sales.queries import deals_visible_to

router = Router(tags=["money"])

Method = Literal["cash", "card", "bank_transfer", "online"]
InvoiceStatus = Literal["draft", "issued", "partly_paid", "paid", "overdue", "cancelled", "unpaid"]
Id = Annotated[str, Field(max_length=20, description="A record's id")]
Amount = Annotated[str, Field(max_length=40, description='A decimal number as text: "1250.50"')]
Percent = Annotated[str, Field(max_length=20, description='A percentage as text: "20"')]
MAX_LINES = 200  # as the invoice form
QUANTITY_LIMIT = Decimal(10**9)  # the column keeps 9 digits before the point
TOTAL_LIMIT = Decimal(10**12)  # an invoice's sums keep 12 digits before the point
RATE_LIMIT = Decimal(10**10)
CENT = Decimal("0.01")  # an allocation's rate keeps 10 digits before the point
# An action that answers another record (a credit note, a new draft), honouring If-Match.
TAKES_IF_MATCH_CREATES = {"parameters": [IF_MATCH_HEADER], **CREATES}


def ref(value_id) -> str | None:
    return str(value_id) if value_id else None


# --- Schemas -----------------------------------------------------------------------------


class InvoiceLineOut(WithId):
    product: str | None
    name: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount_percent: Decimal
    tax_percent: Decimal
    tax_included: bool
    net: Decimal = Field(description="The line without tax, after its discount")
    total: Decimal = Field(description="The line with tax")

    @staticmethod
    def resolve_product(line) -> str | None:
        return ref(line.product_id)


class AllocationOut(Schema):
    invoice: str
    invoice_number: str
    payment: str
    kind: str = Field(description="payment, or refund (its amounts are negative)")
    received_on: date
    amount: Decimal = Field(description="In the invoice's currency")
    payment_amount: Decimal = Field(description="In the payment's currency")
    payment_currency: str
    rate: Decimal | None = Field(description="Invoice currency per payment currency; null: same")

    @staticmethod
    def resolve_invoice(allocation) -> str:
        return str(allocation.invoice_id)

    @staticmethod
    def resolve_invoice_number(allocation) -> str:
        return allocation.invoice.number

    @staticmethod
    def resolve_payment(allocation) -> str:
        return str(allocation.payment_id)

    @staticmethod
    def resolve_kind(allocation) -> str:
        return allocation.payment.kind

    @staticmethod
    def resolve_received_on(allocation) -> date:
        return allocation.payment.received_on

    @staticmethod
    def resolve_payment_currency(allocation) -> str:
        return allocation.payment.currency


class InvoiceOut(WithId):
    kind: str = Field(description="invoice or credit_note")
    number: str | None = Field(description="INV-2026-0001 (CN- for a credit note); null: a draft")
    status: str = Field(description="draft, issued, partly_paid, paid, overdue or cancelled")
    deal: str | None
    person: str | None
    company: str | None
    owner: str | None
    currency: str
    issued_on: date | None
    due_on: date | None
    paid_on: date | None
    subtotal: Decimal = Field(description="Without tax")
    tax: Decimal
    total: Decimal
    paid: Decimal
    due: Decimal = Field(description="Still to pay (0 for a draft, a cancelled invoice, a note)")
    days_overdue: int
    corrects: str | None = Field(description="A credit note: the invoice it cancels")
    corrections: list[str] = Field(description="The credit notes that cancel this invoice")
    language: str
    note: str
    lines: list[InvoiceLineOut]
    allocations: list[AllocationOut] = Field(description="The payments and refunds on it")
    document: str | None = Field(description="The printed document, once issued")
    document_state: str | None = Field(description="pending, ready or failed; null: none")
    pdf: str | None = Field(description="Where the PDF is downloaded, once ready")
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_number(invoice) -> str | None:
        return invoice.number or None

    @staticmethod
    def resolve_deal(invoice) -> str | None:
        return ref(invoice.deal_id)

    @staticmethod
    def resolve_person(invoice) -> str | None:
        return ref(invoice.person_id)

    @staticmethod
    def resolve_company(invoice) -> str | None:
        return ref(invoice.company_id)

    @staticmethod
    def resolve_owner(invoice) -> str | None:
        return ref(invoice.owner_id)

    @staticmethod
    def resolve_due(invoice) -> Decimal:
        return invoice.due.quantize(CENT)  # as the stored sums are written

    @staticmethod
    def resolve_corrects(invoice) -> str | None:
        return ref(invoice.corrects_id)

    @staticmethod
    def resolve_corrections(invoice) -> list[str]:
        return [str(note.pk) for note in invoice.corrections.all()]

    @staticmethod
    def resolve_lines(invoice) -> list:
        return list(invoice.lines.all())

    @staticmethod
    def resolve_allocations(invoice) -> list:
        return list(invoice.allocations.all())

    @staticmethod
    def resolve_document(invoice) -> str | None:
        document = invoice.printed
        return str(document.pk) if document is not None else None

    @staticmethod
    def resolve_document_state(invoice) -> str | None:
        return invoice.printed.state if invoice.printed is not None else None

    @staticmethod
    def resolve_pdf(invoice) -> str | None:
        document = invoice.printed
        if document is None or document.state != Document.READY:
            return None
        return f"/api/v1/invoices/{invoice.pk}/pdf"


class InvoiceLineIn(Schema):
    product: Id | None = Field(None, description="A product: its name, unit and price by default")
    name: str | None = Field(None, max_length=200)
    quantity: Amount = "1"
    unit: str | None = Field(None, max_length=20)
    unit_price: Amount | None = None
    discount_percent: Percent = "0"
    tax_percent: Percent = "0"
    tax_included: bool = Field(False, description="The price holds the tax already")


class InvoiceIn(Schema):
    deal: Id | None = None
    person: Id | None = None
    company: Id | None = None
    currency: str | None = Field(None, max_length=3, description="ISO 4217: EUR, RUB, ILS")
    due_on: date | None = None
    note: str | None = Field(None, max_length=2000, description="Printed on the invoice")
    language: str | None = Field(
        None,
        max_length=10,
        description="Of the printed invoice: en, ru, he or hy; the company's if empty",
    )
    lines: Annotated[list[InvoiceLineIn], Field(max_length=MAX_LINES)] | None = Field(
        None, description="All the lines, in order: they replace the draft's"
    )


class InvoiceCreate(InvoiceIn):
    from_deal: bool = Field(
        False,
        description="Draft it from `deal`: its client, currency and line items (or one line "
        "for its amount); only due_on, note and language may be given beside it",
    )


class CancelIn(Schema):
    reason: str = Field("", max_length=2000, description="Printed on the credit note")


class PaymentOut(WithId):
    kind: str = Field(description="payment or refund")
    method: str
    received_on: date
    amount: Decimal
    currency: str
    allocated: Decimal = Field(description="Set against invoices (a refund: all of it)")
    unallocated: Decimal = Field(description="The client's credit left from it")
    person: str | None
    company: str | None
    deal: str | None
    owner: str | None
    reference: str
    note: str
    refund_of: str | None = Field(description="A refund out of a payment's credit: the payment")
    allocations: list[AllocationOut]
    version: int
    created_at: datetime

    @staticmethod
    def resolve_person(payment) -> str | None:
        return ref(payment.person_id)

    @staticmethod
    def resolve_company(payment) -> str | None:
        return ref(payment.company_id)

    @staticmethod
    def resolve_deal(payment) -> str | None:
        return ref(payment.deal_id)

    @staticmethod
    def resolve_owner(payment) -> str | None:
        return ref(payment.owner_id)

    @staticmethod
    def resolve_refund_of(payment) -> str | None:
        return ref(payment.refund_of_id)

    @staticmethod
    def resolve_allocations(payment) -> list:
        return list(payment.allocations.all())


class PaymentIn(Schema):
    amount: Amount
    currency: str = Field(max_length=3, description="ISO 4217: the currency the money came in")
    received_on: date | None = Field(None, description="Default today; never in the future")
    method: Method = "bank_transfer"
    invoice: Id | None = Field(None, description="The invoice it pays; the rest is credit")
    person: Id | None = Field(None, description="Who paid, when no invoice is named")
    company: Id | None = None
    rate: Amount | None = Field(
        None, description="Money in another currency than the invoice's: invoice units per unit"
    )
    reference: str = Field("", max_length=200)
    note: str = Field("", max_length=2000)


class RefundIn(Schema):
    amount: Amount
    invoice: Id | None = Field(None, description="Take back from this invoice (in its currency)")
    payment: Id | None = Field(None, description="Or give back this payment's unused credit")
    received_on: date | None = Field(None, description="Default today; never in the future")
    method: Method = "bank_transfer"
    reference: str = Field("", max_length=200)
    note: str = Field("", max_length=2000)


class ExpenseOut(WithId):
    spent_on: date
    amount: Decimal
    currency: str
    category: str
    category_name: str
    deal: str | None
    supplier: str
    description: str
    owner: str | None
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_category(expense) -> str:
        return str(expense.category_id)

    @staticmethod
    def resolve_category_name(expense) -> str:
        return str(expense.category)

    @staticmethod
    def resolve_deal(expense) -> str | None:
        return ref(expense.deal_id)

    @staticmethod
    def resolve_owner(expense) -> str | None:
        return ref(expense.owner_id)


class ExpenseIn(Schema):
    spent_on: date | None = None
    amount: Amount | None = None
    currency: str | None = Field(None, max_length=3)
    category: Id | None = None
    deal: Id | None = Field(None, description="Spent on this deal (it counts in its margin)")
    supplier: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=500)


class ExpenseCreate(ExpenseIn):
    amount: Amount
    category: Id
    currency: str | None = Field(
        None, max_length=3, description="Default: the deal's currency, else the company's"
    )


class ExpenseCategoryOut(WithId):
    name: str
    position: int

    @staticmethod
    def resolve_name(category) -> str:
        return str(category)


class MonthOut(Schema):
    month: date = Field(description="The month's first day")
    currency: str
    income: Decimal = Field(description="Received, less refunds")
    expenses: Decimal
    result: Decimal


class UnpaidOut(Schema):
    currency: str
    due: Decimal = Field(description="All that issued invoices still ask")
    overdue: Decimal = Field(description="The part of it past its due date")


class SpeedOut(Schema):
    name: str
    count: int = Field(description="Invoices issued in the period")
    to_invoice: float | None = Field(description="Median days from the deal's win to invoice")
    to_pay: float | None = Field(description="Median days from the invoice to its payment")


class BillingSpeedOut(Schema):
    owners: list[SpeedOut]
    clients: list[SpeedOut] = Field(description="The 20 with most invoices")


class MoneyReportOut(Schema):
    since: date
    until: date
    months: list[MonthOut]
    unpaid: list[UnpaidOut]
    speed: BillingSpeedOut


class InvoiceFilters(Schema):
    status: InvoiceStatus | None = Field(None, description="unpaid: issued and not paid yet")
    kind: Literal["invoice", "credit_note"] | None = None
    deal: RecordId | None = None
    person: RecordId | None = None
    company: RecordId | None = None
    q: str | None = Field(None, max_length=100, description="Number, client or deal")


class PaymentFilters(Schema):
    kind: Literal["payment", "refund"] | None = None
    person: RecordId | None = None
    company: RecordId | None = None
    deal: RecordId | None = None
    invoice: RecordId | None = None


class ExpenseFilters(Schema):
    deal: RecordId | None = None
    category: RecordId | None = None


class PeriodParams(Schema):
    since: date | None = Field(None, alias="from", description="Default: the 1st of January")
    until: date | None = Field(None, alias="to", description="Default: today")


# --- Helpers -------------------------------------------------------------------------------


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


def _fail(errors: dict[str, str]) -> None:
    """A 422 naming each field, when there are errors; nothing was written."""
    if errors:
        raise Problem(
            422,
            "The request has invalid values; nothing was saved.",
            errors=[{"field": field, "message": message} for field, message in errors.items()],
        )


def _no_nulls(data: dict, fields: tuple[str, ...]) -> None:
    """A PATCH may leave a field out, not empty one the record cannot be without."""
    _fail(
        {
            field: "Give a value, or leave the field out."
            for field in fields
            if field in data and data[field] is None
        }
    )


def _invoice_data(request, data: dict) -> dict:
    """The body's ids as the records they name (422 for one the caller may not see), its
    language and its lines checked as far as the service leaves them to the columns."""
    _no_nulls(data, ("currency", "lines"))
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
    _fail(errors)
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


def _if_match(request, visible, pk: int, action):
    """Lock the visible record, check the version If-Match names (412 when stale), then
    run `action(record)`; a ValidationError is a 422 and nothing is written."""

    def guarded(record, version):
        with transaction.atomic():
            current = type(record).objects.select_for_update().get(pk=record.pk)
            if version is not None and version != current.version:
                raise StaleVersion(current.version)
            return action(current)

    return run_if_match(request, visible, pk, guarded)


def _status_problem(message: str) -> Problem:
    return Problem(
        422,
        "The invoice is not in a state that allows this.",
        errors=[{"field": "status", "message": message}],
    )


# --- Invoices --------------------------------------------------------------------------------


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
        _fail(errors)
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
    invoice = _if_match(
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
    invoice = _if_match(
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

    note = _if_match(request, invoices_visible_to(request.auth), invoice_id, cancel)
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

    draft = _if_match(request, invoices_visible_to(request.auth), invoice_id, correct)
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


# --- Payments and refunds ----------------------------------------------------------------


def _payment_answer(response: HttpResponse, payment: Payment, *, created: bool = False):
    payment = Payment.objects.prefetch_related("allocations__payment", "allocations__invoice").get(
        pk=payment.pk
    )
    response["ETag"] = etag_of(payment)
    if created:
        response["Location"] = f"/api/v1/payments/{payment.pk}"
        return Status(201, payment)
    return payment


def _checked_rate(payload: PaymentIn, invoice: Invoice | None) -> None:
    """A rate the allocation's columns can hold (the service asks for a missing one)."""
    rate = parse_decimal(payload.rate) if payload.rate not in (None, "") else None
    amount = parse_decimal(payload.amount)
    if invoice is None or rate is None or rate <= 0:
        return
    if rate >= RATE_LIMIT:
        _fail({"rate": "Enter a rate below 10,000,000,000."})
    if rate != rate.quantize(Decimal("1e-8")):
        _fail({"rate": "At most eight decimals."})
    if amount is not None and abs(amount) < TOTAL_LIMIT and abs(amount * rate) >= TOTAL_LIMIT:
        _fail({"rate": "At this rate the payment would be a trillion or more."})


@router.get("/payments", response=Page[PaymentOut], summary="Payments and refunds, newest first")
def payments_list(request, params: Query[ListParams], filters: Query[PaymentFilters]):
    payments = payments_visible_to(request.auth)
    if filters.kind is not None:
        payments = payments.filter(kind=filters.kind)
    for field in ("person", "company", "deal"):
        if getattr(filters, field) is not None:
            payments = payments.filter(**{f"{field}_id": getattr(filters, field)})
    if filters.invoice is not None:
        paid = Allocation.objects.filter(invoice_id=filters.invoice).values("payment_id")
        payments = payments.filter(pk__in=paid)
    payments = payments.prefetch_related("allocations__payment", "allocations__invoice")
    return paginate(payments, params, sorts={"received_on"}, default_sort="-received_on")


@router.post(
    "/payments",
    response={201: PaymentOut},
    summary="Record money received: on an invoice (the rest is credit) or as a client's credit",
    openapi_extra=CREATES,
)
def payments_record(request, response: HttpResponse, payload: PaymentIn):
    user = request.auth
    invoice = one_of(invoices_visible_to(user), payload.invoice, "invoice")
    person = one_of(people_visible_to(user), payload.person, "person")
    company = one_of(companies_visible_to(user), payload.company, "company")
    _checked_rate(payload, invoice)
    try:
        payment = payment_record(
            actor=user, amount=payload.amount, currency=payload.currency,
            received_on=payload.received_on, method=payload.method, invoice=invoice,
            person=person, company=company, rate=payload.rate, reference=payload.reference,
            note=payload.note,
        )  # fmt: skip
    except ValidationError as error:
        raise invalid(error) from None
    return _payment_answer(response, payment, created=True)


@router.post(
    "/refunds",
    response={201: PaymentOut},
    summary="Record money given back: from an invoice, or out of a payment's credit",
    openapi_extra=CREATES,
)
def refunds_record(request, response: HttpResponse, payload: RefundIn):
    user = request.auth
    invoice = one_of(invoices_visible_to(user), payload.invoice, "invoice")
    payment = one_of(
        payments_visible_to(user).filter(kind=Payment.PAYMENT), payload.payment, "payment"
    )
    try:
        refund = refund_record(
            actor=user, amount=payload.amount, received_on=payload.received_on,
            method=payload.method, invoice=invoice, payment=payment,
            reference=payload.reference, note=payload.note,
        )  # fmt: skip
    except ValidationError as error:
        raise invalid(error) from None
    return _payment_answer(response, refund, created=True)


@router.get(
    "/payments/{payment_id}",
    response=PaymentOut,
    summary="One payment or refund",
    openapi_extra=ANSWERS_ETAG,
)
def payments_detail(request, response: HttpResponse, payment_id: RecordId):
    payment = get_object_or_404(payments_visible_to(request.auth), pk=payment_id)
    return _payment_answer(response, payment)


@router.delete(
    "/payments/{payment_id}",
    response={204: None},
    summary="Remove a payment entered by mistake: its invoices ask for it again",
)
def payments_delete(request, payment_id: RecordId):
    payment = get_object_or_404(payments_visible_to(request.auth), pk=payment_id)
    try:
        payment_delete(actor=request.auth, payment=payment)
    except ValidationError as error:
        raise invalid(error) from None
    return Status(204, None)


# --- Expenses ------------------------------------------------------------------------------


def _expense_data(request, data: dict) -> dict:
    _no_nulls(data, ("amount", "currency", "category", "spent_on"))
    if data.get("deal") is not None:
        data["deal"] = one_of(deals_visible_to(request.auth), data["deal"], "deal")
    if "category" in data:
        data["category"] = one_of(categories_in_use(), data["category"], "category")
    for field in ("supplier", "description"):
        if field in data and data[field] is None:
            data[field] = ""
    return data


def _expense_answer(response: HttpResponse, expense: Expense) -> Expense:
    expense = Expense.objects.select_related("category").get(pk=expense.pk)
    response["ETag"] = etag_of(expense)
    return expense


@router.get("/expenses", response=Page[ExpenseOut], summary="Expenses, newest first")
def expenses_list(request, params: Query[ListParams], filters: Query[ExpenseFilters]):
    expenses = expenses_visible_to(request.auth).select_related("category")
    if filters.deal is not None:
        expenses = expenses.filter(deal_id=filters.deal)
    if filters.category is not None:
        expenses = expenses.filter(category_id=filters.category)
    return paginate(expenses, params, sorts={"spent_on"}, default_sort="-spent_on")


@router.post(
    "/expenses", response={201: ExpenseOut}, summary="Record an expense", openapi_extra=CREATES
)
def expenses_create(request, response: HttpResponse, payload: ExpenseCreate):
    data = _expense_data(request, payload.dict(exclude_unset=True))
    if "currency" not in data:
        deal = data.get("deal")
        data["currency"] = deal.currency if deal is not None else default_currency()
    try:
        expense = expense_save(actor=request.auth, data=data)
    except ValidationError as error:
        raise invalid(error) from None
    response["Location"] = f"/api/v1/expenses/{expense.pk}"
    return Status(201, _expense_answer(response, expense))


@router.get(
    "/expenses/{expense_id}", response=ExpenseOut, summary="One expense", openapi_extra=ANSWERS_ETAG
)
def expenses_detail(request, response: HttpResponse, expense_id: RecordId):
    expense = get_object_or_404(expenses_visible_to(request.auth), pk=expense_id)
    return _expense_answer(response, expense)


@router.patch(
    "/expenses/{expense_id}",
    response=ExpenseOut,
    summary="Change an expense (send If-Match)",
    openapi_extra=TAKES_IF_MATCH,
)
def expenses_update(request, response: HttpResponse, expense_id: RecordId, payload: ExpenseIn):
    get_object_or_404(expenses_visible_to(request.auth), pk=expense_id)
    data = _expense_data(request, payload.dict(exclude_unset=True))
    expense = _if_match(
        request,
        expenses_visible_to(request.auth),
        expense_id,
        lambda expense: expense_save(actor=request.auth, expense=expense, data=data),
    )
    return _expense_answer(response, expense)


@router.delete("/expenses/{expense_id}", response={204: None}, summary="Remove an expense")
def expenses_delete(request, expense_id: RecordId):
    expense = get_object_or_404(expenses_visible_to(request.auth), pk=expense_id)
    expense_delete(actor=request.auth, expense=expense)
    return Status(204, None)


@router.get(
    "/expense-categories", response=list[ExpenseCategoryOut], summary="Expense categories in use"
)
def expense_categories_list(request):
    return list(categories_in_use())


# --- The money report ------------------------------------------------------------------------


@router.get(
    "/money/report",
    response=MoneyReportOut,
    summary="Income and expenses per month, what clients owe, how fast we bill and they pay",
)
def money_report_get(request, params: Query[PeriodParams]):
    if effective_level(request.auth, RECORD_TYPE, READ) == NONE:
        raise Http404
    today = timezone.localdate()
    until = params.until or today
    since = params.since or date(until.year, 1, 1)
    if since > until:
        _fail({"from": "The period's start must be on or before its end."})
    months = income_and_expenses(request.auth, start=since, end=until)
    unpaid = unpaid_totals(request.auth)
    return {
        "since": since,
        "until": until,
        "months": [_in_cents(row, ("income", "expenses", "result")) for row in months],
        "unpaid": [_in_cents(row, ("due", "overdue")) for row in unpaid],
        "speed": billing_speed(request.auth, start=since, end=until),
    }


def _in_cents(row: dict, fields: tuple[str, ...]) -> dict:
    """Sums as the stored amounts are written ("58500.50"): SQLite adds decimals as
    floating point and drops the trailing zeros."""
    return {**row, **{field: Decimal(row[field]).quantize(CENT) for field in fields}}
