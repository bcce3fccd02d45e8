"""Loyalty points: earned on money received (a point for each `earn_per` in the programme's
currency), redeemed on an invoice as a payment by points, reversed when the payment that
earned them is removed or refunded."""

from decimal import ROUND_FLOOR

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.billing.models import LoyaltyEntry, LoyaltyProgram, Payment
from accord.billing.queries import client_filter, loyalty_balance
from accord.billing.services.common import clean_amount, clean_currency
from accord.core.company import default_currency
from accord.core.timeline import timeline_record
from accord.core.visibility import ALL, WRITE, effective_level


@transaction.atomic
def program_save(*, actor: User, data: dict) -> LoyaltyProgram:
    if effective_level(actor, "settings", WRITE) != ALL:
        raise PermissionDenied(_("Only administrators change the loyalty programme."))
    program = LoyaltyProgram.objects.filter(pk=1).first() or LoyaltyProgram(
        pk=1, currency=default_currency()
    )
    errors: dict = {}
    currency = clean_currency(data.get("currency", program.currency), errors)
    earn_per = clean_amount(data.get("earn_per", program.earn_per), currency, errors, "earn_per")
    value = clean_amount(data.get("point_value", program.point_value), currency, errors,
                         "point_value")  # fmt: skip
    if errors:
        raise ValidationError(errors)
    program.enabled = bool(data.get("enabled", program.enabled))
    program.currency, program.earn_per, program.point_value = currency, earn_per, value
    program.save()
    return program


def points_earn(payment: Payment) -> int:
    """The points a payment just recorded earns its client (a step of `payment_record`)."""
    program = LoyaltyProgram.current()
    if (program is None or payment.kind != Payment.PAYMENT or payment.currency != program.currency
            or payment.method not in Payment.RECEIVED):  # fmt: skip
        return 0
    points = int((payment.amount / program.earn_per).to_integral_value(rounding=ROUND_FLOOR))
    if points > 0:
        points_entry(payment, LoyaltyEntry.EARNED, points, payment=payment)
    return points


def points_reverse(payment: Payment) -> None:
    """What `payment` earned is taken back, what it redeemed given back (it is removed)."""
    moved = LoyaltyEntry.objects.filter(payment=payment).aggregate(s=Sum("points"))["s"] or 0
    if moved > 0:  # what it earned, as far as the client still has it
        moved = min(moved, loyalty_balance(person=payment.person, company=payment.company))
    if moved:
        points_entry(payment, LoyaltyEntry.REVERSED, -moved)
    LoyaltyEntry.objects.filter(payment=payment).update(payment=None)


def points_refund(refund: Payment) -> None:
    """A refund takes back the points its money earned (never below nothing)."""
    program = LoyaltyProgram.current()
    if program is None or refund.currency != program.currency:
        return
    points = int((refund.amount / program.earn_per).to_integral_value(rounding=ROUND_FLOOR))
    points = min(points, loyalty_balance(person=refund.person, company=refund.company))
    if points > 0:
        points_entry(refund, LoyaltyEntry.REVERSED, -points, payment=refund)


def points_entry(source: Payment, kind: str, points: int, **links) -> None:
    """One line of the client's points history; `links` name the payment or invoice."""
    LoyaltyEntry.objects.create(
        kind=kind, points=points, **client_filter(person=source.person, company=source.company),
        **links,
    )  # fmt: skip
    client = source.company or source.person
    if client is not None:
        timeline_record(subject=client, kind="loyalty",
                        data={"kind": kind, "points": points})  # fmt: skip
