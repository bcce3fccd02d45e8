"""The money API's schemas (what it takes and answers) and the helpers its modules share."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, Schema

from accord.core.api.problems import Problem
from accord.core.api.schemas import RecordId, WithId
from accord.documents.models import Document

Method = Literal["cash", "card", "bank_transfer", "online"]
InvoiceStatus = Literal["draft", "issued", "partly_paid", "paid", "overdue", "cancelled", "unpaid"]
Id = Annotated[str, Field(max_length=20, description="A record's id")]
Amount = Annotated[str, Field(max_length=40, description='A decimal number as text: "1250.50"')]
Percent = Annotated[str, Field(max_length=20, description='A percentage as text: "20"')]
MAX_LINES = 200  # as the invoice form
QUANTITY_LIMIT = Decimal(10**9)  # the column keeps 9 digits before the point
TOTAL_LIMIT = Decimal(10**12)  # an invoice's sums keep 12 digits before the point
RATE_LIMIT = Decimal(10**10)  # an allocation's rate keeps 10 digits before the point
CENT = Decimal("0.01")


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


class BankLineOut(Schema):
    row: int = Field(description="The line's number in the file (the column titles are line 1)")
    date: Annotated[date | None, Field(description="null: it cannot be read")]
    amount: Decimal | None = Field(description="As written in the file; null: it cannot be read")
    currency: str = Field(description="The line's own, else the one sent with the file")
    purpose: str
    payer: str
    outcome: Literal["matched", "unmatched", "already", "outgoing", "bad"] = Field(
        description="matched: recorded on `invoice`; unmatched: no invoice found (`reason`); "
        "already: imported before; outgoing: money paid out; bad: unreadable or in the future"
    )
    invoice: str | None = Field(description="The number of the invoice it was recorded on")
    reason: str = Field(description="Why it was not recorded")

    @staticmethod
    def resolve_date(line) -> date | None:
        return line.day

    @staticmethod
    def resolve_invoice(line) -> str | None:
        return line.invoice or None


class BankImportOut(Schema):
    recorded: int = Field(description="Lines recorded as payments on the invoices they matched")
    unmatched: int = Field(description="Incoming lines no invoice was found for: record by hand")
    already: int = Field(description="Lines imported before, not recorded again")
    outgoing: int = Field(description="Money paid out, left alone")
    bad: int = Field(description="Lines whose date or amount cannot be read, or in the future")
    lines: list[BankLineOut] = Field(description="Every line of the statement, in order")


class ExpenseOut(WithId):
    spent_on: date
    amount: Decimal
    currency: str
    category: str
    category_name: str
    deal: str | None
    campaign: str | None
    supplier: str
    description: str
    owner: str | None
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_campaign(expense) -> str | None:
        return ref(expense.campaign_id)

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
    campaign: Id | None = Field(None, description="Paid for this campaign (its cost)")
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
    campaign: RecordId | None = None


class PeriodParams(Schema):
    since: date | None = Field(None, alias="from", description="Default: the 1st of January")
    until: date | None = Field(None, alias="to", description="Default: today")


# --- Shared helpers ----------------------------------------------------------------------


def fail(errors: dict[str, str]) -> None:
    """A 422 naming each field, when there are errors; nothing was written."""
    if errors:
        raise Problem(
            422,
            "The request has invalid values; nothing was saved.",
            errors=[{"field": field, "message": message} for field, message in errors.items()],
        )


def no_nulls(data: dict, fields: tuple[str, ...]) -> None:
    """A PATCH may leave a field out, not empty one the record cannot be without."""
    fail(
        {
            field: "Give a value, or leave the field out."
            for field in fields
            if field in data and data[field] is None
        }
    )
