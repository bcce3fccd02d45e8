"""A manager invoices a deal from its card, issues the draft, records a payment in two
parts (a bad amount first, kept in the form with its message) and sees the invoice paid —
on a desktop and on a phone, where nothing scrolls sideways."""

import pytest
from django.conf import settings
from playwright.sync_api import expect

from accord.accounts import demo
from accord.accounts.models import User
from accord.contacts.services import person_create
from accord.sales.services import deal_create, line_item_save
from tests.e2e.conftest import screenshot
from tests.e2e.test_login import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def deal(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"
    demo.populate()
    manager = User.objects.get(email="manager@example.com")
    person = person_create(actor=manager, data={"first_name": "Anna", "last_name": "Petrova"})
    deal = deal_create(actor=manager, data={"title": "Balcony glazing", "person": person,
                                            "currency": "EUR"})  # fmt: skip
    line_item_save(actor=manager, deal=deal,
                   data={"name": "Glazing", "quantity": 2, "unit_price": "600"})  # fmt: skip
    return deal


@pytest.mark.parametrize(("width", "name"), [(1280, "desktop"), (375, "phone")])
def test_a_deal_is_invoiced_issued_and_paid_in_two_parts(open_page, deal, width, name):
    page = open_page(width=width, height=900)
    log_in(page, "manager@example.com", settings.ACCORD_DEMO_PASSWORD)
    page.goto(f"/deals/{deal.pk}/")
    card = page.locator("#invoices-card")
    expect(card).to_contain_text("No invoices yet")
    card.get_by_role("button", name="Invoice the deal").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Invoice (draft)")
    expect(page.locator(".items-table")).to_contain_text("Glazing")
    page.get_by_role("button", name="Issue").click()
    expect(page.locator(".record-facts .badge")).to_have_text("Issued")
    expect(page.get_by_role("heading", level=1)).to_contain_text("INV-")

    page.get_by_text("Record a payment").click()
    page.get_by_label("Amount").first.fill("lots")
    page.get_by_role("button", name="Record", exact=True).click()
    expect(page.locator(".field-error").first).to_contain_text("Enter an amount")
    expect(page.get_by_label("Amount").first).to_have_value("lots")
    page.get_by_label("Amount").first.fill("500")
    page.get_by_role("button", name="Record", exact=True).click()
    expect(page.locator(".record-facts .badge")).to_have_text("Partly paid")
    page.get_by_text("Record a payment").click()
    expect(page.get_by_label("Amount").first).to_have_value("700.00")  # what is left
    page.get_by_role("button", name="Record", exact=True).click()
    expect(page.locator(".record-facts .badge")).to_have_text("Paid")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"invoice-{name}-en")

    page.goto(f"/deals/{deal.pk}/")
    expect(page.locator("#invoices-card")).to_contain_text("Paid")
    expect(page.locator("#timeline")).to_contain_text("is paid in full")
