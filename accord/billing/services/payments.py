"""Payments and refunds: money received is allocated to an invoice (at a rate when it
came in another currency); what is more than the invoice asks is the client's credit,
set against their next invoice. A refund takes back from an invoice or from that credit."""

from datetime import date
from decimal import ROUND_FLOOR, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.billing.models import Allocation, Invoice, LoyaltyEntry, LoyaltyProgram, Payment
from accord.billing.queries import client_filter, invoices_visible_to, loyalty_balance
from accord.billing.services.common import (
    clean_amount,
    clean_currency,
    require_write,
)
from accord.billing.services.invoices import about, apply_credit, refresh
from accord.billing.services.loyalty import (
    points_earn,
    points_entry,
    points_refund,
    points_reverse,
)
from accord.contacts.queries import companies_visible_to, people_visible_to
from accord.core.events import emit
from accord.core.money import parse_decimal, round_money
from accord.core.timeline import timeline_record


@transaction.atomic
def payment_record(
    *,
    actor: User,
    amount,
    currency: str,
    received_on: date | None = None,
    method: str = Payment.BANK,
    invoice: Invoice | None = None,
    person=None,
    company=None,
    rate=None,
    reference: str = "",
    note: str = "",
) -> Payment:
    """Money received: allocated to `invoice` up to what it still asks (the rest is the
    client's credit), or all of it the client's credit when no invoice is named."""
    errors: dict = {}
    invoice = _invoice_for(actor, invoice, errors)
    if invoice is not None:
        person, company = invoice.person, invoice.company
        if invoice.status not in Invoice.OPEN:
            errors["invoice"] = [_("This invoice is not waiting for a payment.")]
    payment = _payment(actor, Payment.PAYMENT, amount, currency, received_on, method,
                       person, company, invoice, reference, note, errors)  # fmt: skip
    converted, rate = _converted(payment, invoice, rate, errors)
    if errors:
        raise ValidationError(errors)
    payment.save()
    if invoice is not None:
        part = min(converted, invoice.due)
        used = part if rate is None else payment.amount
        if rate is not None and part < converted:
            used = round_money(part / rate, payment.currency)
        if part > 0:
            _allocate(payment, invoice, part, used, rate)
    _timeline(payment, actor, invoice)
    points_earn(payment)
    emit("payment.received", **about(payment), invoice_id=invoice.pk if invoice else None)
    if invoice is None:  # credit: set against the client's open invoices, oldest first
        for waiting in _open_invoices(payment):
            apply_credit(invoice=waiting)  # the client's money, whoever owns the invoice
    return payment


@transaction.atomic
def refund_record(
    *,
    actor: User,
    amount,
    received_on: date | None = None,
    method: str = Payment.BANK,
    invoice: Invoice | None = None,
    payment: Payment | None = None,
    reference: str = "",
    note: str = "",
) -> Payment:
    """Money given back, in the currency it was asked or paid in: against `invoice` (it is
    then paid less: goods returned) or out of a payment's unallocated credit."""
    errors: dict = {}
    if (invoice is None) == (payment is None):
        raise ValidationError({"invoice": [_("Refund either an invoice or a payment's credit.")]})
    invoice = _invoice_for(actor, invoice, errors)
    source = None
    if payment is not None:
        source = Payment.objects.select_for_update().filter(pk=payment.pk, kind=Payment.PAYMENT)
        source = source.first()
        if source is None:
            raise ValidationError({"payment": [_("Choose a payment to refund.")]})
        require_write(actor, source.owner)
    origin = invoice or source
    currency = source.currency if source else invoice.currency if invoice else ""
    refund = _payment(actor, Payment.REFUND, amount, currency, received_on, method,
                      origin.person if origin else None, origin.company if origin else None,
                      invoice, reference, note, errors)  # fmt: skip
    if source is not None and refund.amount and refund.amount > source.unallocated:
        errors["amount"] = [
            _("The payment has %(credit)s %(currency)s left to refund.")
            % {"credit": source.unallocated, "currency": source.currency}
        ]
    converted = refund.amount
    if invoice is not None and converted and converted > invoice.paid:
        errors["amount"] = [
            _("%(paid)s %(currency)s was paid on this invoice: no more can be refunded.")
            % {"paid": invoice.paid, "currency": invoice.currency}
        ]
    if errors:
        raise ValidationError(errors)
    refund.allocated = refund.amount  # a refund is used up at once, by what it takes back
    refund.deal = source.deal if source else refund.deal
    refund.refund_of = source
    refund.save()
    if invoice is not None:
        Allocation.objects.create(payment=refund, invoice=invoice, amount=-converted,
                                  payment_amount=-refund.amount)  # fmt: skip
        refresh(invoice, actor=actor)
    else:
        Payment.objects.filter(pk=source.pk).update(allocated=F("allocated") + refund.amount)
    _timeline(refund, actor, invoice)
    points_refund(refund)
    emit("payment.refunded", **about(refund), invoice_id=invoice.pk if invoice else None)
    return refund


@transaction.atomic
def payment_delete(*, actor: User, payment: Payment) -> None:
    """A payment entered by mistake: gone, with what it paid (its invoices ask again)."""
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    require_write(actor, payment.owner)
    if payment.refunds.exists():
        raise ValidationError(
            {"payment": [_("Part of this payment was refunded: remove the refund first.")]}
        )
    if payment.refund_of_id:
        Payment.objects.filter(pk=payment.refund_of_id).update(
            allocated=F("allocated") - payment.amount
        )
    invoices = list(Invoice.objects.filter(allocations__payment=payment).distinct())
    points_reverse(payment)
    payment.allocations.all().delete()
    for subject in {payment.deal, payment.client} - {None}:
        timeline_record(
            subject=subject, kind="payment_removed", actor=actor,
            data={"amount": str(payment.amount), "currency": payment.currency,
                  "kind": payment.kind},
        )  # fmt: skip
    payment.delete()
    for invoice in invoices:
        refresh(invoice, actor=actor)


@transaction.atomic
def loyalty_redeem(*, actor: User, invoice: Invoice, points) -> Payment:
    """Pay (part of) an open invoice with the client's points, at the programme's value."""
    errors: dict = {}
    invoice = _invoice_for(actor, invoice, errors)  # visible, writable, locked
    if invoice.status not in Invoice.OPEN:
        raise ValidationError({"invoice": [_("This invoice is not waiting for a payment.")]})
    client = invoice.company or invoice.person
    if client is not None:  # one redemption at a time per client: the points are counted once
        type(client).objects.select_for_update().filter(pk=client.pk).first()
    program = LoyaltyProgram.current()
    if program is None:
        raise ValidationError({"points": [_("There is no loyalty programme.")]})
    if invoice.currency != program.currency:
        raise ValidationError({"points": [
            _("Points pay invoices in %(currency)s.") % {"currency": program.currency}
        ]})  # fmt: skip
    if not str(points).strip().isdecimal() or int(points) <= 0:
        raise ValidationError({"points": [_("Enter a whole number of points.")]})
    points = int(points)
    balance = loyalty_balance(**client_filter(person=invoice.person, company=invoice.company))
    if points > balance:
        raise ValidationError({"points": [
            _("The client has %(balance)s points.") % {"balance": balance}
        ]})  # fmt: skip
    value = points * program.point_value
    if value > invoice.due:
        most = int((invoice.due / program.point_value).to_integral_value(rounding=ROUND_FLOOR))
        raise ValidationError({"points": [
            _("At most %(points)s points pay what this invoice asks.") % {"points": most}
        ]})  # fmt: skip
    payment = payment_record(actor=actor, invoice=invoice, amount=value, currency=invoice.currency,
                             method=Payment.POINTS, note=_("%(points)s loyalty points") % {
                                 "points": points})  # fmt: skip
    points_entry(payment, LoyaltyEntry.REDEEMED, -points, payment=payment, invoice=invoice)
    return payment


def _invoice_for(actor: User, invoice: Invoice | None, errors: dict) -> Invoice | None:
    if invoice is None:
        return None
    found = invoices_visible_to(actor).select_for_update(of=("self",)).filter(pk=invoice.pk)
    found = found.first()
    if found is None:
        raise PermissionDenied(_("You cannot see this invoice."))
    require_write(actor, found.owner)
    return found


def _payment(actor, kind, amount, currency, received_on, method, person, company, invoice,
             reference, note, errors) -> Payment:  # fmt: skip
    require_write(actor)
    currency = clean_currency(currency, errors)
    received_on = received_on or timezone.localdate()
    if not isinstance(received_on, date):
        errors["received_on"] = [_("Enter a date.")]
    elif received_on > timezone.localdate():
        errors["received_on"] = [_("A payment's date cannot be in the future.")]
    if method not in dict(Payment.METHODS):
        errors["method"] = [_("Choose cash, card, bank transfer or online.")]
    if person is None and company is None:
        errors["person"] = [_("Choose who paid: an invoice, a person or a company.")]
    if person is not None and not people_visible_to(actor).filter(pk=person.pk).exists():
        errors["person"] = [_("You cannot see this person.")]
    if company is not None and not companies_visible_to(actor).filter(pk=company.pk).exists():
        errors["company"] = [_("You cannot see this company.")]
    deal = invoice.deal if invoice is not None else None
    return Payment(
        kind=kind, method=method, received_on=received_on, currency=currency,
        amount=clean_amount(amount, currency, errors) or Decimal(0),
        person=person, company=company, deal=deal,
        owner=(invoice.owner if invoice else None) or actor, created_by=actor,
        reference=str(reference or "")[:200], note=str(note or "")[:2000],
    )  # fmt: skip


def _converted(payment: Payment, invoice: Invoice | None, rate, errors: dict):
    """The payment's amount in the invoice's currency, and the rate used (None: same)."""
    if invoice is None or not payment.amount:
        return payment.amount, None
    if payment.currency == invoice.currency:
        return payment.amount, None
    number = parse_decimal(rate) if rate not in (None, "") else None
    if number is None or number <= 0:
        errors["rate"] = [
            _("The invoice asks for %(invoice)s: enter how many %(invoice)s one %(paid)s was.")
            % {"invoice": invoice.currency, "paid": payment.currency}
        ]
        return None, None
    return round_money(payment.amount * number, invoice.currency), number


def _allocate(payment: Payment, invoice: Invoice, part, used, rate) -> None:
    Allocation.objects.create(payment=payment, invoice=invoice, amount=part,
                              payment_amount=used, rate=rate)  # fmt: skip
    Payment.objects.filter(pk=payment.pk).update(allocated=F("allocated") + used)
    payment.allocated += used
    refresh(invoice, actor=None)


def _open_invoices(payment: Payment):
    return Invoice.objects.filter(
        kind=Invoice.INVOICE, status__in=Invoice.OPEN, currency=payment.currency,
        **client_filter(person=payment.person, company=payment.company),
    ).order_by("issued_on", "pk")  # fmt: skip


def client_credit(*, person=None, company=None) -> dict[str, Decimal]:
    """The client's unallocated money per currency."""
    rows = (
        Payment.objects.filter(kind=Payment.PAYMENT, allocated__lt=F("amount"),
                               **client_filter(person=person, company=company))
        .values("currency")
        .annotate(left=Sum(F("amount") - F("allocated")))
    )  # fmt: skip
    return {row["currency"]: row["left"] for row in rows if row["left"]}


def _timeline(payment: Payment, actor, invoice: Invoice | None) -> None:
    data = {
        "payment_id": payment.pk, "kind": payment.kind, "amount": str(payment.amount),
        "currency": payment.currency, "method": payment.method,
        "invoice": invoice.number if invoice else "",
    }  # fmt: skip
    for subject in {payment.deal, payment.client} - {None}:
        timeline_record(subject=subject, kind="payment", actor=actor, data=data)
