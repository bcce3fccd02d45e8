"""The money screens as a manager uses them: invoice a deal from its card, check and issue
the draft, record a payment (a bad one is refused with the field named), see the lists,
the report and the client's card; a role without invoices sees no card."""

from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from accord.accounts.services import user_create
from accord.billing.models import Expense, ExpenseCategory, Invoice, Payment
from tests.conftest import PASSWORD, run_worker

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def browser(owner):
    client = Client()
    client.force_login(owner)
    return client


@time_machine.travel("2026-03-12 12:00Z")
def test_a_deal_is_invoiced_checked_issued_and_paid_through_the_screens(browser, owner, deal):
    card = browser.get(f"/money/deal/{deal.pk}/").content.decode()
    assert "Invoice the deal" in card and "No invoices yet" in card
    made = browser.post(f"/money/deal/{deal.pk}/", headers={"HX-Request": "true"})
    invoice = Invoice.objects.get(deal=deal)
    assert made.headers["HX-Redirect"] == f"/money/invoices/{invoice.pk}/"
    page = browser.get(f"/money/invoices/{invoice.pk}/").content.decode()
    assert "A draft: check it" in page and "Window 120×140" in page
    form = browser.get(f"/money/invoices/{invoice.pk}/edit/").content.decode()
    assert 'value="Window 120×140"' in form
    answer = browser.post(
        f"/money/invoices/{invoice.pk}/edit/",
        {
            "person": deal.person.pk, "company": deal.company.pk, "currency": "RUB",
            "due_on": "2026-03-31", "language": "ru", "note": "",
            "line-TOTAL_FORMS": "3", "line-INITIAL_FORMS": "0",
            "line-0-name": "Window 120×140", "line-0-quantity": "3", "line-0-unit_price": "15000",
            "line-0-tax_percent": "20",
            "line-1-name": "Delivery", "line-1-quantity": "1", "line-1-unit_price": "1 200,00",
            "line-2-name": "", "issue": "1",
        },
    )  # fmt: skip
    assert answer.status_code == 302
    invoice.refresh_from_db()
    assert (invoice.status, invoice.total, invoice.language) == ("issued", Decimal("55200"), "ru")
    bad = browser.post(
        f"/money/invoices/{invoice.pk}/pay/",
        {"amount": "100", "currency": "USD", "received_on": "2026-03-12", "method": "card"},
    )
    assert bad.status_code == 200  # the page again, with the message by the field
    assert "enter how many RUB one USD was" in bad.content.decode()
    assert not Payment.objects.exists()
    paid = browser.post(
        f"/money/invoices/{invoice.pk}/pay/",
        {"amount": "55200", "currency": "RUB", "received_on": "2026-03-12",
         "method": "bank_transfer", "reference": "PP 118"},
    )  # fmt: skip
    assert paid.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    run_worker()
    page = browser.get(f"/money/invoices/{invoice.pk}/").content.decode()
    assert "Open the PDF" in page and "PP 118" in page
    pdf = browser.get(f"/money/invoices/{invoice.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    listed = browser.get("/money/invoices/?status=paid").content.decode()
    assert invoice.number in listed
    timeline = browser.get(f"/deals/{deal.pk}/").content.decode()
    assert f'issued invoice <bdi dir="ltr">{invoice.number}</bdi>' in timeline


def test_an_issued_invoice_cannot_be_edited_and_a_draft_with_bad_lines_keeps_the_input(
    browser, deal
):
    answer = browser.post(
        f"/money/invoices/new/?person={deal.person.pk}",
        {"person": deal.person.pk, "currency": "EUR", "line-TOTAL_FORMS": "2",
         "line-INITIAL_FORMS": "0", "line-0-name": "Repair", "line-0-quantity": "0",
         "line-0-unit_price": "abc", "line-1-name": ""},
    )  # fmt: skip
    assert answer.status_code == 200
    text = answer.content.decode()
    assert 'value="Repair"' in text and 'value="abc"' in text
    assert "Enter an amount" in text and "Enter a number" in text
    assert not Invoice.objects.exists()


def test_expenses_on_a_deal_make_its_margin(browser, deal):
    category = ExpenseCategory.objects.get(name="Materials")
    answer = browser.post(
        f"/money/expenses/?deal={deal.pk}",
        {"spent_on": "2026-03-01", "amount": "12000", "currency": "RUB", "category": category.pk,
         "supplier": "Profile plant", "description": "Frames"},
    )  # fmt: skip
    assert answer.status_code == 302
    assert Expense.objects.get().deal == deal
    card = browser.get(f"/money/deal/{deal.pk}/").content.decode()
    assert "Margin" in card
    assert "Frames" in browser.get("/money/expenses/").content.decode()


def test_the_report_sets_income_against_expenses_per_month(browser, owner, deal):
    from accord.billing.services import invoice_from_deal, invoice_issue, payment_record

    with time_machine.travel("2026-03-10 10:00Z"):
        invoice = invoice_issue(actor=owner, invoice=invoice_from_deal(actor=owner, deal=deal))
        payment_record(actor=owner, invoice=invoice, amount="8500.50", currency="RUB")
        browser.post(
            "/money/expenses/",
            {"spent_on": "2026-03-05", "amount": "500", "currency": "RUB",
             "category": ExpenseCategory.objects.first().pk},
        )  # fmt: skip
        page = browser.get("/money/report/?from=2026-01-01&to=2026-12-31").content.decode()
    assert "March 2026" in page
    assert "RUB8,500.50" in page and "RUB500.00" in page and "RUB8,000.50" in page
    assert "RUB50,000.00" in page  # what the client still owes


def test_a_role_without_invoices_sees_no_money(deal):
    marketer = user_create(email="mia@example.com", password=PASSWORD, role="marketing")
    client = Client()
    client.force_login(marketer)
    assert client.get(f"/money/deal/{deal.pk}/").content.decode().strip() == ""
    assert client.get("/money/invoices/").status_code == 404


def test_a_bank_statement_pays_invoices_by_number_or_amount_and_lists_the_rest(
    browser, owner, deal
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accord.billing.services import invoice_from_deal, invoice_issue

    with time_machine.travel("2026-03-10 10:00Z"):
        first = invoice_issue(actor=owner, invoice=invoice_from_deal(actor=owner, deal=deal))
        second = invoice_issue(actor=owner, invoice=invoice_from_deal(actor=owner, deal=deal))
    Invoice.objects.filter(pk=second.pk).update(total=Decimal("777.00"))
    statement = (
        "Дата;Сумма;Назначение платежа;Плательщик\n"
        f"12.03.2026;20000,00;Оплата по счёту {first.number.lower()} за окна;ООО Роза\n"
        "13.03.2026;777,00;Оплата за доставку;ООО Роза\n"
        "14.03.2026;-500,00;Комиссия банка;\n"
        "15.03.2026;1234,00;Возврат долга;ИП Петров\n"
        "xx;12;broken;\n"
    ).encode("cp1251")
    with time_machine.travel("2026-03-20 10:00Z"):
        page = browser.post("/money/payments/bank/", {"currency": "RUB", "file":
                            SimpleUploadedFile("statement.csv", statement)})  # fmt: skip
        again = browser.post("/money/payments/bank/", {"currency": "RUB", "file":
                             SimpleUploadedFile("statement.csv", statement)})  # fmt: skip
    text = page.content.decode()
    assert "Recorded: 2 · not matched: 2 · imported before: 0." in text
    assert "no invoice waits for this amount" in text
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.paid, first.status) == (Decimal("20000"), "partly_paid")
    assert second.status == "paid"
    assert Payment.objects.count() == 2
    assert "Recorded: 0 · not matched: 2 · imported before: 2." in again.content.decode()
    assert Payment.objects.count() == 2


def test_a_file_without_a_date_or_an_amount_is_refused_with_what_was_found(browser):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("x.csv", b"when,how much\n1,2\n")
    answer = browser.post("/money/payments/bank/", {"currency": "RUB", "file": upload}, follow=True)
    assert "needs a date column and an amount column" in answer.content.decode()
    assert "when, how much" in answer.content.decode()
