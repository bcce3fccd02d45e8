"""Invoices from a deal or by hand: issued with a number and a PDF, frozen, paid in parts,
in another currency, more than due (a credit), refunded, cancelled by a credit note,
overdue once, and seen only by who may."""

import io
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from pypdf import PdfReader

from accord.accounts.services import user_create
from accord.billing import scheduler
from accord.billing.models import ExpenseCategory, Invoice, Payment
from accord.billing.queries import deal_margin, invoices_visible_to
from accord.billing.services import (
    client_credit,
    expense_save,
    invoice_cancel,
    invoice_correct,
    invoice_from_deal,
    invoice_issue,
    invoice_save,
    payment_delete,
    payment_record,
    refund_record,
)
from accord.billing.services.invoices import invoice_document
from accord.core.events import OutboxEvent
from accord.documents.models import Document
from accord.documents.services.documents import document_regenerate
from tests.conftest import PASSWORD, run_worker

pytestmark = pytest.mark.django_db(transaction=True)  # the PDF is queued after the commit


def issued(owner, deal, on="2026-03-10 10:00Z"):
    with time_machine.travel(on):
        invoice = invoice_from_deal(actor=owner, deal=deal)
        return invoice_issue(actor=owner, invoice=invoice)


def test_an_invoice_from_a_deal_is_a_draft_until_issued_then_numbered_and_printed(owner, deal):
    with time_machine.travel("2026-03-10 10:00Z"):
        draft = invoice_from_deal(actor=owner, deal=deal)
        assert (draft.number, draft.status) == ("", Invoice.DRAFT)
        assert [line.name for line in draft.lines.all()] == ["Window 120×140", "Installation"]
        assert (draft.subtotal, draft.tax, draft.total) == (
            Decimal("49500.50"), Decimal("9000.00"), Decimal("58500.50"),
        )  # fmt: skip
        assert draft.due_on == date(2026, 3, 24)
        invoice = invoice_issue(actor=owner, invoice=draft)
    assert (invoice.number, invoice.status) == ("INV-2026-0001", Invoice.ISSUED)
    document = invoice_document(invoice)
    assert (document.number, document.deal_id) == ("INV-2026-0001", deal.pk)
    assert run_worker() >= 1
    document.refresh_from_db()
    assert document.state == Document.READY, document.error
    with document.pdf.open("rb") as stream:
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(stream.read())).pages)
    for expected in ["INV-2026-0001", "Rosa Bakery", "58,500.50", "Pay by", "March 24, 2026"]:
        assert expected in text


def test_an_issued_invoice_is_frozen(owner, deal):
    invoice = issued(owner, deal)
    with pytest.raises(ValidationError, match="printed from its invoice"):
        document_regenerate(actor=owner, document=invoice_document(invoice))
    with pytest.raises(ValidationError) as refused:
        invoice_save(actor=owner, invoice=invoice, data={"note": "changed"})
    assert "correct it" in str(refused.value)
    with pytest.raises(ValidationError):
        invoice_issue(actor=owner, invoice=invoice)


def test_a_price_with_tax_included_is_split_into_its_net_and_its_tax(owner, deal):
    invoice = invoice_save(
        actor=owner,
        data={"person": deal.person, "currency": "EUR", "lines": [
            {"name": "Service", "quantity": 2, "unit_price": "60", "tax_percent": "20",
             "tax_included": True},
            {"name": "Parts", "quantity": 1, "unit_price": "10.00", "discount_percent": "10",
             "tax_percent": "20"},
        ]},
    )  # fmt: skip
    assert (invoice.subtotal, invoice.tax, invoice.total) == (
        Decimal("109.00"), Decimal("21.80"), Decimal("130.80"),
    )  # fmt: skip


def test_bad_input_is_refused_with_each_field_named_and_nothing_kept(owner, deal):
    with pytest.raises(ValidationError) as refused:
        invoice_save(
            actor=owner,
            data={"currency": "XXQ", "lines": [{"name": "", "quantity": "-1", "unit_price": "x"}]},
        )
    fields = set(refused.value.message_dict)
    assert {
        "person",
        "currency",
        "lines.0.name",
        "lines.0.quantity",
        "lines.0.unit_price",
    } <= fields
    assert not Invoice.objects.exists()
    with pytest.raises(ValidationError) as refused:
        payment_record(actor=owner, amount="100.5", currency="JPY", person=deal.person)
    assert "steps of 1" in refused.value.message_dict["amount"][0]
    too_much = {"name": "Gold", "quantity": "900000000", "unit_price": "999999999"}
    with pytest.raises(ValidationError) as refused:
        invoice_save(actor=owner, data={"person": deal.person, "currency": "EUR",
                                        "lines": [too_much]})  # fmt: skip
    assert refused.value.message_dict["lines.0.quantity"] == ["This line's sum is too large."]
    assert not Invoice.objects.exists()


def test_payments_in_parts_then_in_full_move_the_status_and_announce_it(owner, deal):
    invoice = issued(owner, deal)
    with time_machine.travel("2026-03-12 10:00Z"):
        payment_record(actor=owner, invoice=invoice, amount="20000", currency="RUB",
                       method=Payment.CARD)  # fmt: skip
    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid, invoice.due) == (
        Invoice.PARTLY_PAID, Decimal("20000"), Decimal("38500.50"),
    )  # fmt: skip
    with time_machine.travel("2026-03-15 10:00Z"):
        payment_record(actor=owner, invoice=invoice, amount="38500.50", currency="RUB")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid_on) == (Invoice.PAID, date(2026, 3, 15))
    assert OutboxEvent.objects.filter(name="invoice.paid").count() == 1


def test_more_than_is_due_is_kept_as_the_clients_credit_and_pays_the_next_invoice(owner, deal):
    first = issued(owner, deal)
    with time_machine.travel("2026-03-12 10:00Z"):
        payment = payment_record(actor=owner, invoice=first, amount="70000", currency="RUB")
    first.refresh_from_db()
    assert first.status == Invoice.PAID
    assert payment.allocated == Decimal("58500.50")
    assert client_credit(company=deal.company) == {"RUB": Decimal("11499.50")}
    second = issued(owner, deal, on="2026-03-20 10:00Z")
    second.refresh_from_db()
    assert (second.status, second.paid) == (Invoice.PARTLY_PAID, Decimal("11499.50"))
    assert client_credit(company=deal.company) == {}


def test_a_payment_in_another_currency_asks_for_the_rate(owner, deal):
    invoice = issued(owner, deal)
    with pytest.raises(ValidationError) as refused:
        payment_record(actor=owner, invoice=invoice, amount="100", currency="USD")
    assert "RUB" in refused.value.message_dict["rate"][0]
    assert not Payment.objects.exists()
    with time_machine.travel("2026-03-12 10:00Z"):
        payment_record(actor=owner, invoice=invoice, amount="100", currency="USD", rate="92.5")
    invoice.refresh_from_db()
    assert invoice.paid == Decimal("9250.00")


def test_a_refund_takes_back_from_the_invoice_and_no_more_than_was_paid(owner, deal):
    invoice = issued(owner, deal)
    with time_machine.travel("2026-03-12 10:00Z"):
        payment_record(actor=owner, invoice=invoice, amount="58500.50", currency="RUB")
        with pytest.raises(ValidationError) as refused:
            refund_record(actor=owner, invoice=invoice, amount="60000")
        assert "58500.50" in refused.value.message_dict["amount"][0]
        refund_record(actor=owner, invoice=invoice, amount="4500.50")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid) == (Invoice.PARTLY_PAID, Decimal("54000.00"))


def test_cancelling_an_issued_invoice_issues_a_credit_note_and_frees_its_payments(owner, deal):
    invoice = issued(owner, deal)
    with time_machine.travel("2026-03-12 10:00Z"):
        payment_record(actor=owner, invoice=invoice, amount="1000", currency="RUB")
        note = invoice_cancel(actor=owner, invoice=invoice)
    invoice.refresh_from_db()
    assert invoice.status == Invoice.CANCELLED
    assert (note.kind, note.number, note.total) == (
        Invoice.CREDIT_NOTE, "CN-2026-0001", Decimal("-58500.50"),
    )  # fmt: skip
    assert note.corrects_id == invoice.pk
    assert invoice_document(note).values["invoice"]["corrects"] == "INV-2026-0001"
    assert client_credit(company=deal.company) == {"RUB": Decimal("1000")}


def test_correcting_makes_a_new_draft_and_the_paid_money_moves_onto_it(owner, deal):
    invoice = issued(owner, deal)
    with time_machine.travel("2026-03-12 10:00Z"):
        payment_record(actor=owner, invoice=invoice, amount="1000", currency="RUB")
        draft = invoice_correct(actor=owner, invoice=invoice)
        assert draft.status == Invoice.DRAFT and draft.lines.count() == 2
        new = invoice_issue(actor=owner, invoice=draft)
    assert new.number == "INV-2026-0002"
    new.refresh_from_db()
    assert new.paid == Decimal("1000")


def test_an_invoice_past_its_due_date_becomes_overdue_once(owner, deal):
    invoice = issued(owner, deal)
    with time_machine.travel("2026-03-24 12:00Z"):
        assert scheduler.tick(timezone.now()) == 0
    with time_machine.travel("2026-03-25 12:00Z"):
        assert scheduler.tick(timezone.now()) == 1
        assert scheduler.tick(timezone.now()) == 0
    invoice.refresh_from_db()
    assert invoice.status == Invoice.OVERDUE
    assert OutboxEvent.objects.filter(name="invoice.overdue").count() == 1


def test_a_deleted_payment_gives_the_invoice_its_debt_back(owner, deal):
    invoice = issued(owner, deal)
    with time_machine.travel("2026-03-12 10:00Z"):
        payment = payment_record(actor=owner, invoice=invoice, amount="58500.50", currency="RUB")
        payment_delete(actor=owner, payment=payment)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid) == (Invoice.ISSUED, Decimal("0"))


def test_a_deals_margin_is_its_paid_invoices_less_its_expenses(owner, deal):
    invoice = issued(owner, deal)
    with time_machine.travel("2026-03-12 10:00Z"):
        payment_record(actor=owner, invoice=invoice, amount="58500.50", currency="RUB")
        expense_save(actor=owner, data={"amount": "20000", "currency": "RUB", "deal": deal,
                                        "category": ExpenseCategory.objects.first()})  # fmt: skip
    margin = deal_margin(deal)
    assert (margin.paid, margin.spent, margin.margin) == (
        Decimal("58500.50"), Decimal("20000"), Decimal("38500.50"),
    )  # fmt: skip


def test_who_may_not_see_an_invoice_neither_sees_nor_pays_it(owner, deal):
    invoice = issued(owner, deal)
    outsider = user_create(email="sam@example.com", password=PASSWORD, role="manager",
                           full_name="Sam Outsider")  # fmt: skip
    assert not invoices_visible_to(outsider).filter(pk=invoice.pk).exists()
    with pytest.raises(PermissionDenied):
        payment_record(actor=outsider, invoice=invoice, amount="1", currency="RUB")
    assert not Payment.objects.exists()
