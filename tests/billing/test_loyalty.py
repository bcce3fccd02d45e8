"""Loyalty points: earned on money received, spent on an invoice as a payment by points,
given back or taken back when a payment goes or is refunded — and set up in Settings →
Money."""

from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client

from accord.billing.models import Invoice, LoyaltyProgram, Payment
from accord.billing.queries import loyalty_balance
from accord.billing.services import (
    invoice_from_deal,
    invoice_issue,
    loyalty_redeem,
    payment_delete,
    payment_record,
    program_save,
    refund_record,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def program(admin):
    return program_save(actor=admin, data={"enabled": True, "currency": "RUB",
                                           "earn_per": "100", "point_value": "1"})  # fmt: skip


def issued(owner, deal):
    with time_machine.travel("2026-11-20 10:00Z"):
        return invoice_issue(actor=owner, invoice=invoice_from_deal(actor=owner, deal=deal))


def test_points_are_earned_spent_and_given_back(owner, deal, program):
    first = issued(owner, deal)
    with time_machine.travel("2026-11-25 10:00Z"):
        paid = payment_record(actor=owner, invoice=first, amount="58500.50", currency="RUB")
    client = {"company": deal.company}
    assert loyalty_balance(**client) == 585
    second = issued(owner, deal)
    with time_machine.travel("2026-11-26 10:00Z"):
        by_points = loyalty_redeem(actor=owner, invoice=second, points="500")
    second.refresh_from_db()
    assert (by_points.method, by_points.amount, second.paid) == (
        Payment.POINTS, Decimal("500"), Decimal("500"),
    )  # fmt: skip
    assert loyalty_balance(**client) == 85  # paying with points earns none
    payment_delete(actor=owner, payment=by_points)
    assert loyalty_balance(**client) == 585
    with time_machine.travel("2026-11-27 10:00Z"):
        refund_record(actor=owner, invoice=first, amount="10000")
    assert loyalty_balance(**client) == 485
    payment_delete(actor=owner, payment=paid)
    assert loyalty_balance(**client) == 0  # the refund took 100, the payment the rest


def test_points_cannot_pay_more_than_the_client_has_or_the_invoice_asks(owner, deal, program):
    invoice = issued(owner, deal)
    with pytest.raises(ValidationError, match="The client has 0 points"):
        loyalty_redeem(actor=owner, invoice=invoice, points="5")
    with time_machine.travel("2026-11-25 10:00Z"):
        payment_record(actor=owner, company=deal.company, amount="100000", currency="RUB")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.PAID  # the credit paid it
    other = issued(owner, deal)
    other.refresh_from_db()
    with pytest.raises(ValidationError, match="Enter a whole number"):
        loyalty_redeem(actor=owner, invoice=other, points="1.5")
    LoyaltyProgram.objects.filter(pk=1).update(currency="EUR")
    with pytest.raises(ValidationError, match="Points pay invoices in EUR"):
        loyalty_redeem(actor=owner, invoice=other, points="5")


def test_the_programme_is_set_in_settings_and_offered_on_the_invoice(admin, owner, deal):
    browser = Client()
    browser.force_login(admin)
    saved = browser.post("/settings/money/", {"save": "loyalty", "enabled": "on",
                                              "currency": "RUB", "earn_per": "1000",
                                              "point_value": "10"})  # fmt: skip
    assert saved.status_code == 302
    assert LoyaltyProgram.current().earn_per == 1000
    refused = browser.post("/settings/money/", {"save": "loyalty", "currency": "RUB",
                                                "earn_per": "-1", "point_value": "1"})  # fmt: skip
    assert "Enter an amount above zero." in refused.content.decode()
    invoice = issued(owner, deal)
    with time_machine.travel("2026-11-25 10:00Z"):
        payment_record(actor=owner, company=deal.company, amount="3000", currency="RUB")
    second = issued(owner, deal)
    page = browser.get(f"/money/invoices/{second.pk}/").content.decode()
    assert invoice.pk != second.pk
    assert loyalty_balance(company=deal.company) == 3, page
    assert "Use the points" in page and 'max="3"' in page
    card = browser.get(f"/money/client/?company={deal.company.pk}").content.decode()
    assert "3 loyalty points" in card


def test_points_pay_only_an_invoice_waiting_for_payment(owner, deal, program):
    with time_machine.travel("2026-11-20 10:00Z"):
        draft = invoice_from_deal(actor=owner, deal=deal)
    with pytest.raises(ValidationError, match="not waiting for a payment"):
        loyalty_redeem(actor=owner, invoice=draft, points="1")
