"""Invoices: drafted from a deal's line items or typed by hand, issued (numbered, frozen,
printed as their document), corrected by a credit note, paid through allocations."""

from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.billing.models import Allocation, Invoice, InvoiceLine, Payment
from accord.billing.queries import client_filter
from accord.billing.services.common import (
    clean_amount,
    clean_currency,
    clean_number,
    require_write,
)
from accord.contacts.queries import companies_visible_to, people_visible_to
from accord.core.events import emit
from accord.core.money import line_sums
from accord.core.timeline import timeline_record
from accord.documents.fields import Line
from accord.documents.models import Document, DocumentKind, DocumentTemplate
from accord.documents.services.documents import document_store
from accord.documents.services.numbers import next_number
from accord.sales.models import Deal
from accord.sales.queries import deals_visible_to

DUE_IN_DAYS = 14  # a new invoice's due date, changed on the draft
HUNDRED = Decimal(100)


@transaction.atomic
def invoice_from_deal(*, actor: User, deal: Deal) -> Invoice:
    """A draft invoice with the deal's line items (or one line for its amount)."""
    deal = deals_visible_to(actor).filter(pk=deal.pk).first()
    if deal is None:
        raise PermissionDenied(_("You cannot see this deal."))
    require_write(actor, deal.owner)
    items = list(deal.line_items.select_related("product"))
    lines = [
        {
            "product": item.product,
            "name": item.name,
            "quantity": item.quantity,
            "unit": item.unit,
            "unit_price": item.unit_price,
            "discount_percent": item.discount_percent,
            "tax_percent": item.tax_percent,
            "tax_included": item.tax_included,
        }
        for item in items
    ]
    if not lines and deal.amount > 0:
        lines = [{"name": deal.title, "quantity": 1, "unit_price": deal.amount}]
    if not lines:
        raise ValidationError(
            {"deal": [_("The deal has neither line items nor an amount to invoice.")]}
        )
    return invoice_save(
        actor=actor,
        data={"deal": deal, "person": deal.person, "company": deal.company,
              "currency": deal.currency, "lines": lines, "owner": deal.owner or actor},
    )  # fmt: skip


@transaction.atomic
def invoice_save(*, actor: User, data: dict, invoice: Invoice | None = None) -> Invoice:
    """Make or change a draft: its client, currency, due date, note and lines (all of
    them, in order). An issued invoice is frozen."""
    if invoice is not None:
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        require_write(actor, invoice.owner)
        if invoice.status != Invoice.DRAFT:
            raise ValidationError(
                {"status": [_("An issued invoice cannot change: correct it instead.")]}
            )
    else:
        require_write(actor)
    errors: dict = {}
    deal = data.get("deal", invoice.deal if invoice else None)
    person = data.get("person", invoice.person if invoice else None)
    company = data.get("company", invoice.company if invoice else None)
    if deal is not None and not deals_visible_to(actor).filter(pk=deal.pk).exists():
        errors["deal"] = [_("You cannot see this deal.")]
    if person is not None and not people_visible_to(actor).filter(pk=person.pk).exists():
        errors["person"] = [_("You cannot see this person.")]
    if company is not None and not companies_visible_to(actor).filter(pk=company.pk).exists():
        errors["company"] = [_("You cannot see this company.")]
    if person is None and company is None:
        errors["person"] = [_("Choose whom the invoice is for: a person or a company.")]
    currency = clean_currency(data.get("currency", invoice.currency if invoice else ""), errors)
    due_on = data.get("due_on", invoice.due_on if invoice else None)
    if invoice is None and "due_on" not in data:
        due_on = timezone.localdate() + timedelta(days=DUE_IN_DAYS)
    if due_on is not None and not isinstance(due_on, date):
        errors["due_on"] = [_("Enter a date.")]
    lines = [_clean_line(line, currency, index, errors) for index, line in
             enumerate(data.get("lines", []))] if "lines" in data else None  # fmt: skip
    if lines and not errors:
        _check_sizes(lines, currency, errors)
    if errors:
        raise ValidationError(errors)
    if invoice is None:
        owner = data.get("owner") or (deal.owner if deal is not None and deal.owner else actor)
        invoice = Invoice(created_by=actor, owner=owner, kind=Invoice.INVOICE)
    invoice.deal, invoice.person, invoice.company = deal, person, company
    invoice.currency, invoice.due_on = currency, due_on
    invoice.note = str(data.get("note", invoice.note) or "")[:2000]
    invoice.language = str(data.get("language", invoice.language) or "")[:10]
    invoice.version = (invoice.version or 0) + (1 if invoice.pk else 0)
    invoice.save()
    if lines is not None:
        invoice.lines.all().delete()
        for position, line in enumerate(lines, start=1):
            line.invoice, line.position = invoice, position
            line.net, line.total = line_sums(line, currency)
        InvoiceLine.objects.bulk_create(lines)
    _sum_up(invoice)
    return invoice


LARGEST = Decimal(10**12)  # what the money columns hold (14 digits, 2 of them decimals)


def _check_sizes(lines: list[InvoiceLine], currency: str, errors: dict) -> None:
    """A line's or the invoice's sum too large to keep is refused, not stored broken."""
    total = Decimal(0)
    for index, line in enumerate(lines):
        net, line_total = line_sums(line, currency)
        if max(abs(net), abs(line_total)) >= LARGEST:
            errors[f"lines.{index}.quantity"] = [_("This line's sum is too large.")]
        total += line_total
    if abs(total) >= LARGEST and not errors:
        errors["lines"] = [_("The invoice's total is too large.")]


def _clean_line(data: dict, currency: str, index: int, errors: dict) -> InvoiceLine:
    field = f"lines.{index}"
    product = data.get("product")
    name = str(data.get("name") or (product.name if product else "")).strip()
    if not name:
        errors[f"{field}.name"] = [_("Name the item or pick a product.")]
    if product is not None and product.currency != currency and "unit_price" not in data:
        errors[f"{field}.product"] = [
            _("The product is priced in %(currency)s, the invoice in another currency.")
            % {"currency": product.currency}
        ]
    price = data.get("unit_price", product.price if product else None)
    return InvoiceLine(
        product=product,
        name=name[:200],
        quantity=clean_number(
            data.get("quantity", 1), errors, f"{field}.quantity", low=Decimal("0.001")
        )
        or Decimal(1),
        unit=str(data.get("unit") or (product.unit if product else ""))[:20],
        unit_price=clean_amount(price, currency, errors, f"{field}.unit_price", positive=False)
        or Decimal(0),
        discount_percent=clean_number(
            data.get("discount_percent"), errors, f"{field}.discount_percent", high=HUNDRED
        )
        or Decimal(0),
        tax_percent=clean_number(
            data.get("tax_percent", product.tax_percent if product else None),
            errors,
            f"{field}.tax_percent",
            high=HUNDRED,
        )
        or Decimal(0),
        tax_included=bool(data.get("tax_included", product.tax_included if product else False)),
    )


def _sum_up(invoice: Invoice) -> None:
    sums = invoice.lines.aggregate(net=Sum("net"), total=Sum("total"))
    invoice.subtotal, invoice.total = sums["net"] or 0, sums["total"] or 0
    invoice.tax = invoice.total - invoice.subtotal
    Invoice.objects.filter(pk=invoice.pk).update(
        subtotal=invoice.subtotal, tax=invoice.tax, total=invoice.total
    )


@transaction.atomic
def invoice_issue(*, actor: User, invoice: Invoice, issued_on: date | None = None) -> Invoice:
    """Number the draft, freeze it, print it (its document) and set the client's credit
    against it."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    require_write(actor, invoice.owner)
    if invoice.status != Invoice.DRAFT:
        raise ValidationError({"status": [_("This invoice is issued already.")]})
    if not invoice.lines.exists():
        raise ValidationError({"lines": [_("Add at least one line before issuing.")]})
    if invoice.total <= 0:
        raise ValidationError({"lines": [_("An invoice's total must be above zero.")]})
    issued_on = issued_on or timezone.localdate()
    if invoice.due_on is not None and invoice.due_on < issued_on:
        raise ValidationError({"due_on": [_("The due date comes before the invoice's date.")]})
    _number_and_print(actor, invoice, issued_on)
    invoice.status = Invoice.ISSUED
    invoice.save()
    _timeline(invoice, actor, "issued")
    emit("invoice.issued", **about(invoice))
    apply_credit(invoice=invoice)  # checked above
    return invoice


def _number_and_print(actor: User, invoice: Invoice, issued_on: date) -> None:
    kind = DocumentKind.objects.filter(code=invoice.kind).first()
    if kind is None:  # shipped after every migrate; gone only from a hand-edited database
        raise ValidationError({"kind": [_("Documents of this kind are not set up.")]})
    invoice.number = next_number(kind, issued_on.year)
    invoice.issued_on = issued_on
    invoice.version += 1
    template = (
        DocumentTemplate.objects.filter(kind=kind, retired=False).order_by("-shipped", "pk").first()
    )
    if template is None or kind.retired:
        return  # issued without a PDF: the invoice's page says there is no template in use
    lines = [
        Line(line.name, line.quantity, line.unit, line.unit_price, line.discount_percent,
             line.tax_percent, line.net, line.total)
        for line in invoice.lines.all()
    ]  # fmt: skip
    corrects = invoice.corrects.number if invoice.corrects_id else ""
    document_store(
        actor=actor, template=template, language=invoice.language, number=invoice.number,
        version=1, issued_on=issued_on, deal=invoice.deal, person=invoice.person,
        company=invoice.company, currency=invoice.currency, lines=lines,
        invoice={"due_date": invoice.due_on, "corrects": corrects, "note": invoice.note},
        owned_by=invoice.kind,
    )  # fmt: skip


def invoice_document(invoice: Invoice):
    """The invoice's printed document: the latest version under its number."""
    if not invoice.number:
        return None
    return (
        Document.objects.filter(kind__code=invoice.kind, number=invoice.number)
        .order_by("-version")
        .first()
    )


@transaction.atomic
def invoice_delete_draft(*, actor: User, invoice: Invoice) -> None:
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    require_write(actor, invoice.owner)
    if invoice.status != Invoice.DRAFT:
        raise ValidationError(
            {"status": [_("An issued invoice keeps its number: cancel it instead.")]}
        )
    invoice.delete()


@transaction.atomic
def invoice_cancel(*, actor: User, invoice: Invoice, reason: str = "") -> Invoice | None:
    """Cancel an invoice. A draft simply goes (it has no number); an issued one stays under
    its number, a credit note for its total is issued, and what was paid on it becomes the
    client's credit. Answers the credit note."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    require_write(actor, invoice.owner)
    if invoice.kind == Invoice.CREDIT_NOTE:
        raise ValidationError({"kind": [_("A credit note cannot be cancelled.")]})
    if invoice.status == Invoice.CANCELLED:
        raise ValidationError({"status": [_("This invoice is cancelled already.")]})
    if invoice.status == Invoice.DRAFT:
        invoice_delete_draft(actor=actor, invoice=invoice)
        return None
    _release_allocations(invoice)
    note = Invoice.objects.create(
        kind=Invoice.CREDIT_NOTE, status=Invoice.ISSUED, deal=invoice.deal,
        person=invoice.person, company=invoice.company, owner=invoice.owner,
        currency=invoice.currency, language=invoice.language, corrects=invoice,
        note=str(reason)[:2000], created_by=actor,
    )  # fmt: skip
    InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(
                invoice=note,
                product_id=line.product_id,
                name=line.name,
                quantity=-line.quantity,
                unit=line.unit,
                unit_price=line.unit_price,
                discount_percent=line.discount_percent,
                tax_percent=line.tax_percent,
                tax_included=line.tax_included,
                net=-line.net,
                total=-line.total,
                position=line.position,
            )
            for line in invoice.lines.all()
        ]
    )
    _sum_up(note)
    _number_and_print(actor, note, timezone.localdate())
    note.save()
    invoice.status, invoice.paid, invoice.paid_on = Invoice.CANCELLED, 0, None
    invoice.version += 1
    invoice.save()
    _timeline(invoice, actor, "cancelled", credit_note=note.number)
    emit("invoice.cancelled", **about(invoice))
    return note


@transaction.atomic
def invoice_correct(*, actor: User, invoice: Invoice) -> Invoice:
    """An issued invoice cannot change: this cancels it with a credit note and answers a
    new draft with its lines, to edit and issue (what was paid moves onto it then)."""
    original = Invoice.objects.get(pk=invoice.pk)
    invoice_cancel(actor=actor, invoice=original, reason=_("Corrected by a new invoice."))
    lines = [
        {
            "product": line.product,
            "name": line.name,
            "quantity": line.quantity,
            "unit": line.unit,
            "unit_price": line.unit_price,
            "discount_percent": line.discount_percent,
            "tax_percent": line.tax_percent,
            "tax_included": line.tax_included,
        }
        for line in original.lines.select_related("product")
    ]
    today = timezone.localdate()
    due_on = original.due_on  # kept, unless it has passed: the new invoice gets the usual term
    if due_on is None or due_on < today:
        due_on = today + timedelta(days=DUE_IN_DAYS)
    return invoice_save(
        actor=actor,
        data={"deal": original.deal, "person": original.person, "company": original.company,
              "currency": original.currency, "due_on": due_on, "note": original.note,
              "language": original.language, "lines": lines, "owner": original.owner},
    )  # fmt: skip


def _release_allocations(invoice: Invoice) -> None:
    """What was paid on `invoice` goes back to each payment's unallocated credit."""
    for allocation in invoice.allocations.select_related("payment"):
        Payment.objects.filter(pk=allocation.payment_id).update(
            allocated=F("allocated") - allocation.payment_amount
        )
    invoice.allocations.all().delete()


@transaction.atomic
def apply_credit(*, invoice: Invoice, actor: User | None = None) -> Decimal:
    """Set the client's unallocated payments (same currency, oldest first) against what
    `invoice` still asks; answers how much was set. Without an actor it is a step of
    another service that has checked already (issuing, a payment)."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if actor is not None:
        require_write(actor, invoice.owner)
    if invoice.status not in Invoice.OPEN or invoice.kind != Invoice.INVOICE:
        return Decimal(0)
    credits = (
        Payment.objects.select_for_update()
        .filter(kind=Payment.PAYMENT, currency=invoice.currency, allocated__lt=F("amount"),
                **client_filter(person=invoice.person, company=invoice.company))
        .order_by("received_on", "pk")
    )  # fmt: skip
    applied = Decimal(0)
    for payment in credits:
        due = invoice.total - invoice.paid - applied
        if due <= 0:
            break
        part = min(payment.amount - payment.allocated, due)
        Allocation.objects.create(payment=payment, invoice=invoice, amount=part,
                                  payment_amount=part)  # fmt: skip
        Payment.objects.filter(pk=payment.pk).update(allocated=F("allocated") + part)
        applied += part
    if applied:
        refresh(invoice, actor=actor)
    return applied


def refresh(invoice: Invoice, *, actor: User | None = None, today: date | None = None) -> Invoice:
    """The invoice's paid sum and status from its allocations and due date; a change to
    "paid" is announced (automation moves the deal on it)."""
    if invoice.status in (Invoice.DRAFT, Invoice.CANCELLED) or invoice.kind != Invoice.INVOICE:
        return invoice
    today = today or timezone.localdate()
    was = invoice.status
    invoice.paid = invoice.allocations.aggregate(s=Sum("amount"))["s"] or Decimal(0)
    if invoice.paid >= invoice.total:
        invoice.status = Invoice.PAID
        latest = invoice.allocations.order_by("-payment__received_on").first()
        invoice.paid_on = latest.payment.received_on if latest else today
        if invoice.issued_on and invoice.paid_on < invoice.issued_on:  # paid from earlier credit
            invoice.paid_on = invoice.issued_on
    else:
        invoice.paid_on = None
        if invoice.due_on is not None and invoice.due_on < today:
            invoice.status = Invoice.OVERDUE
        else:
            invoice.status = Invoice.PARTLY_PAID if invoice.paid > 0 else Invoice.ISSUED
    invoice.version += 1
    invoice.save(update_fields=["paid", "status", "paid_on", "version", "updated_at"])
    if invoice.status != was and invoice.status == Invoice.PAID:
        _timeline(invoice, actor, "paid")
        emit("invoice.paid", **about(invoice))
    return invoice


def invoice_mark_overdue(invoice: Invoice) -> None:
    """The scheduler's step for one invoice past its due date (claimed once)."""
    Invoice.objects.filter(pk=invoice.pk).update(
        status=Invoice.OVERDUE, overdue_notified_at=timezone.now(), version=F("version") + 1
    )
    _timeline(invoice, None, "overdue")
    emit("invoice.overdue", **about(invoice))


def about(record) -> dict:
    """An invoice's or a payment's event: its id, and the deal and client it is about."""
    key = "invoice_id" if isinstance(record, Invoice) else "payment_id"
    return {key: record.pk, "deal_id": record.deal_id, "person_id": record.person_id,
            "company_id": record.company_id}  # fmt: skip


def _timeline(invoice: Invoice, actor, action: str, **more) -> None:
    data = {
        "invoice_id": invoice.pk, "number": invoice.number, "action": action,
        "total": str(invoice.total), "currency": invoice.currency, **more,
    }  # fmt: skip
    for subject in {invoice.deal, invoice.client} - {None}:
        timeline_record(subject=subject, kind="invoice", actor=actor, data=data)
