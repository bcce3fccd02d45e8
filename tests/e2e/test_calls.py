"""A manager works with the PBX in a real browser: while a client's call rings at their
extension the caller's card appears on whatever page is open (and goes away with ×); the
missed call then waits in Inbox → Calls with its "call back" task, and the client's
timeline shows it. At a phone's width in English, Hebrew and Russian."""

import json

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.utils import translation
from playwright.sync_api import expect

from accord.accounts import demo
from accord.accounts.models import User
from accord.accounts.services import user_update
from accord.comms.services.calls import extensions_set, telephony_save
from accord.comms.telephony import generic_signature
from accord.contacts.services import person_create
from tests.e2e.conftest import screenshot
from tests.e2e.test_login import log_in

pytestmark = pytest.mark.browser
SECRET = "pbx-secret"


@pytest.fixture
def pbx(transactional_db):
    demo.populate()
    admin = User.objects.get(email="admin@example.com")
    manager = User.objects.get(email="manager@example.com")
    telephony = telephony_save(actor=admin, data={"name": "Office PBX", "secret": SECRET})
    extensions_set(actor=admin, telephony=telephony, extensions={"101": manager})
    vera = person_create(actor=manager, data={"first_name": "Vera", "last_name": "Lang",
                                              "phones": ["+79161234567"]})  # fmt: skip
    return {"telephony": telephony, "manager": manager, "vera": vera}


def ring(telephony, call_id: str, event: str = "ringing") -> None:
    """The PBX posts the event; the worker (`accord worker`, its queued jobs) applies it."""
    body = json.dumps({"call_id": call_id, "event": event, "direction": "in",
                       "from": "+79161234567", "extension": "101"}).encode()  # fmt: skip
    answer = Client().post(
        f"/hooks/telephony/{telephony.hook_token}/", body, content_type="application/json",
        headers={"X-Accord-Signature": generic_signature(SECRET, body)},
    )  # fmt: skip
    assert answer.status_code == 200
    call_command("worker", batch=True, verbosity=0)


def test_the_callers_card_rings_then_the_missed_call_waits_to_be_returned(open_page, pbx):
    page = open_page(width=1280, height=900)
    log_in(page, "manager@example.com", settings.ACCORD_DEMO_PASSWORD)
    expect(page.get_by_role("heading", name="Today")).to_be_visible()

    ring(pbx["telephony"], "c1")
    card = page.get_by_test_id("ringing-call")
    expect(card).to_be_visible(timeout=10_000)
    expect(card).to_contain_text("Vera Lang")
    screenshot(page, "call-ringing-desktop")
    card.get_by_role("button", name="Put away").click()
    expect(card).to_have_count(0)
    page.wait_for_timeout(3500)  # the next poll keeps it away
    expect(page.get_by_test_id("ringing-call")).to_have_count(0)

    ring(pbx["telephony"], "c1", "missed")
    page.goto("/inbox/calls/")
    row = page.locator(".call-row", has_text="Vera Lang")
    expect(row).to_contain_text("not called back yet")
    row.get_by_role("link", name="Vera Lang").click()
    expect(page.locator(".timeline-call")).to_contain_text("a missed call")


@pytest.mark.parametrize("language", ["en", "he", "ru"])
def test_the_ringing_card_and_the_calls_fit_a_phone(open_page, pbx, language):
    manager = pbx["manager"]
    user_update(actor=manager, user=manager, language=language)
    page = open_page(width=375, height=800)
    log_in(page, "manager@example.com", settings.ACCORD_DEMO_PASSWORD)
    page.wait_for_url("**/")
    ring(pbx["telephony"], "c2")
    card = page.get_by_test_id("ringing-call")
    expect(card).to_be_visible(timeout=10_000)
    with translation.override(language):
        expect(card).to_contain_text(str(translation.gettext("Incoming call")))
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    expect(page.locator(".sidebar")).to_be_in_viewport()  # the bottom bar, below the card
    screenshot(page, f"call-ringing-phone-{language}")
    ring(pbx["telephony"], "c2", "missed")
    page.goto("/inbox/calls/?show=all")
    expect(page.locator(".call-row")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, f"calls-phone-{language}")
