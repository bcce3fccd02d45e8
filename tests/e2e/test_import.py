"""An administrator imports a small Excel file: uploads it, checks the columns Accord
guessed, previews the rows (one is flagged), imports, watches the progress bar reach
100 % and reads the report."""

import pytest
from django.conf import settings
from django.core.management import call_command
from openpyxl import Workbook
from playwright.sync_api import expect

from accord.accounts import demo
from accord.contacts.models import Person
from tests.e2e.conftest import screenshot
from tests.e2e.test_login import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def workbook(tmp_path, transactional_db):
    demo.populate()
    book = Workbook()
    sheet = book.active
    sheet.append(["Фамилия", "Имя", "Телефон", "E-mail", "Город"])
    sheet.append(["Петрова", "Анна", "+7 912 345-67-89", "anna@example.com", "Москва"])
    sheet.append(["Coen", "David", "+972 53 123 4567", "david@example.com", "Haifa"])
    sheet.append(["Broken", "Row", "12", "not-an-email", ""])
    path = tmp_path / "clients.xlsx"
    book.save(path)
    return path


def test_import_an_xlsx_file_from_upload_to_report(open_page, workbook):
    page = open_page(width=1400, height=900)
    log_in(page, "admin@example.com", settings.ACCORD_DEMO_PASSWORD)
    page.goto("/clients/people/")
    page.get_by_role("link", name="Import").click()
    page.get_by_label("File").set_input_files(str(workbook))
    page.get_by_role("button", name="Upload").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("clients.xlsx")
    expect(page.get_by_label("Фамилия")).to_have_value("last_name")
    expect(page.get_by_label("Телефон")).to_have_value("phone")
    expect(page.get_by_label("Город")).to_have_value("city")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator(".import-preview")
    expect(preview.locator("tbody tr")).to_have_count(3)
    expect(preview.locator("tr.is-failing")).to_contain_text("not an e-mail address")
    screenshot(page, "import-preview-en")

    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#import-progress")).to_be_visible()
    call_command("db_worker", queue_name="*", batch=True, startup_delay=False, reload=False,
                 interval=0.1, verbosity=0)  # fmt: skip
    expect(page.locator("progress")).to_have_attribute("value", "100", timeout=10_000)
    report = page.locator(".facts")
    expect(report).to_contain_text("Created")
    expect(page.get_by_role("link", name="Download the failed rows")).to_be_visible()
    screenshot(page, "import-report-en")
    imported = Person.objects.filter(primary_email__in=["anna@example.com", "david@example.com"])
    assert sorted(imported.values_list("full_name", flat=True)) == ["David Coen", "Анна Петрова"]
