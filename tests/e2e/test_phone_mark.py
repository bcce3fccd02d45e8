"""A number an import kept as typed (not valid in its country) wears a small warning badge
beside it on the client card, at desk and phone widths."""

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from accord.accounts import demo
from accord.accounts.models import User
from accord.contacts.models import Person
from accord.transfer import services
from tests.e2e.conftest import screenshot
from tests.e2e.test_login import log_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1280, 375])
def test_the_card_marks_a_number_kept_as_typed(open_page, transactional_db, width):
    demo.populate()
    admin = User.objects.get(email="admin@example.com")
    text = "Name,Phone,E-mail\nNoa Cohen,052-000-1007,noa@example.com\n"
    job = services.import_upload(
        actor=admin, upload=SimpleUploadedFile("people.csv", text.encode()), record_type="people"
    )
    services.import_configure(
        actor=admin, job=job, mapping=job.mapping, match_by="", on_duplicate="skip", region="RU"
    )
    services.import_start(actor=admin, job=job)
    services.import_run(job.pk)
    noa = Person.objects.get(full_name="Noa Cohen")

    page = open_page(width=width, height=800)
    log_in(page, "admin@example.com", settings.ACCORD_DEMO_PASSWORD)
    page.goto(f"/clients/people/{noa.pk}/")
    facts = page.locator(".facts")
    expect(facts).to_contain_text("052-000-1007")
    badge = facts.locator(".badge-warning", has_text="not a valid number")
    expect(badge).to_be_visible()
    screenshot(page, f"card-phone-not-valid-{width}")
    number = facts.get_by_text("052-000-1007")
    # The badge sits by the number (beside it, or just under it in a narrow column), and
    # within the card.
    assert 0 <= badge.bounding_box()["y"] - number.bounding_box()["y"] < 30
    assert facts.locator("dd:has(.badge-warning)").get_by_text("052-000-1007").count() == 1
    card = page.locator(".record-details").bounding_box()
    box = badge.bounding_box()
    assert card["x"] <= box["x"] and box["x"] + box["width"] <= card["x"] + card["width"]
