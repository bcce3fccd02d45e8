"""An administrator uploads a contract kept in Word — a wrong file first, refused with the
reason — tries it on a deal, and a manager makes the contract from the deal's card and gets
its Word file and PDF; on a desktop and on a phone, where nothing scrolls sideways."""

import pytest
from django.conf import settings
from django.core.management import call_command
from docx import Document as WordDocument
from playwright.sync_api import expect

from accord.accounts import demo
from accord.accounts.models import User
from accord.contacts.services import person_create
from accord.sales.services import deal_create, line_item_save
from tests.e2e.conftest import screenshot
from tests.e2e.test_login import log_in

pytestmark = pytest.mark.browser


def word_text(path) -> str:
    document = WordDocument(path)
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


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
def test_a_contract_in_word_is_uploaded_tried_and_made_from_a_deal(
    open_page, deal, width, name, tmp_path
):
    page = open_page(width=width, height=900)
    log_in(page, "admin@example.com", settings.ACCORD_DEMO_PASSWORD)
    page.goto("/settings/documents/")
    page.get_by_role("link", name="Upload a Word template").click()
    page.get_by_label("Name").fill("Our contract")
    page.get_by_label("Kind").select_option(label="Contract")
    fake = tmp_path / "contract.docx"
    fake.write_bytes(b"%PDF-1.7 not a Word file")
    page.get_by_label("Word file (.docx)").set_input_files(fake)
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field-error")).to_contain_text("This is not a Word document")
    expect(page.get_by_label("Name")).to_have_value("Our contract")  # the form keeps it

    with page.expect_download() as example:
        page.get_by_role("link", name="Download an example contract to start from").click()
    page.get_by_label("Word file (.docx)").set_input_files(example.value.path())
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".toast, .alert-success, [role=status]").first).to_contain_text("Saved")
    page.get_by_label("Deal", exact=True).select_option(label="Balcony glazing")
    page.get_by_role("button", name="Fill it in").click()
    with page.expect_download() as filled:
        page.get_by_role("link", name="Download the Word file").click()
    assert "Balcony glazing" in word_text(filled.value.path())
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"word-template-{name}-en")

    page.context.clear_cookies()
    log_in(page, "manager@example.com", settings.ACCORD_DEMO_PASSWORD)
    page.goto(f"/deals/{deal.pk}/")
    panel = page.locator("#documents-panel")
    panel.get_by_label("Template").select_option(label="Our contract")
    panel.get_by_role("button", name="Make the document").click()
    expect(panel).to_contain_text("Being made")
    call_command("db_worker", queue_name="*", batch=True, startup_delay=False, reload=False,
                 interval=0.1, verbosity=0)  # fmt: skip
    expect(panel.get_by_role("link", name="Word")).to_be_visible(timeout=10_000)
    expect(panel.get_by_role("link", name="PDF")).to_be_visible()
    with page.expect_download() as made:
        panel.get_by_role("link", name="Word").click()
    assert made.value.suggested_filename.startswith("CTR-")
    assert "Anna Petrova" in word_text(made.value.path())
    assert page.evaluate("document.documentElement.scrollWidth") <= width
