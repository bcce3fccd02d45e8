"""API: payments and refunds, and a bank statement's CSV imported as payments."""

from decimal import Decimal
from typing import Annotated

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile

from accord.billing.api.schemas import (
    RATE_LIMIT,
    TOTAL_LIMIT,
    BankImportOut,
    PaymentFilters,
    PaymentIn,
    PaymentOut,
    RefundIn,
    fail,
)
from accord.billing.models import Allocation, Invoice, Payment
from accord.billing.queries import invoices_visible_to, payments_visible_to
from accord.billing.services import payment_delete, payment_record, refund_record
from accord.billing.services.bank import MAX_BYTES, bank_import
from accord.contacts.queries import companies_visible_to, people_visible_to
from accord.core.api.concurrency import ANSWERS_ETAG, CREATES, etag_of
from accord.core.api.pagination import ListParams, Page, paginate
from accord.core.api.problems import invalid, one_of
from accord.core.api.schemas import RecordId
from accord.core.money import parse_decimal

router = Router()
OUTCOMES = ("matched", "unmatched", "already", "outgoing", "bad")
StatementCurrency = Annotated[
    str, Form(max_length=3, description="ISO 4217: the currency of the lines that name none")
]


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
        fail({"rate": "Enter a rate below 10,000,000,000."})
    if rate != rate.quantize(Decimal("1e-8")):
        fail({"rate": "At most eight decimals."})
    if amount is not None and abs(amount) < TOTAL_LIMIT and abs(amount * rate) >= TOTAL_LIMIT:
        fail({"rate": "At this rate the payment would be a trillion or more."})


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


# Declared before /payments/{payment_id}, whose pattern would take "bank-import" for an id.
@router.post(
    "/payments/bank-import",
    response=BankImportOut,
    summary="Import a bank statement (CSV): each incoming line recorded on the invoice its "
    "purpose names, or the one waiting for its amount; the rest listed with the reason",
)
def bank_statements_import(request, file: File[UploadedFile], currency: StatementCurrency):
    try:
        statement = bank_import(
            actor=request.auth, content=file.read(MAX_BYTES + 1), currency=currency
        )
    except ValidationError as error:
        raise invalid(error) from None
    counts = {outcome: len(statement.of(outcome)) for outcome in OUTCOMES}
    return {"recorded": counts.pop("matched"), **counts, "lines": statement.lines}


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
