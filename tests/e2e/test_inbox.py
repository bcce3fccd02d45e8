"""A manager finds a client's answer in the Inbox (the badge counts it), opens the thread
in place, replies from the panel, and the reply reaches the client's mail program in the
same thread; the client's card shows the thread too. Phone widths, Hebrew and Russian."""

import contextlib
import re

import pytest
from django.conf import settings
from django.utils import translation
from playwright.sync_api import Error, expect

from accord.accounts import demo
from accord.accounts.models import User
from accord.accounts.services import user_update
from accord.comms import delivery
from accord.comms.services import mailbox_save, message_send
from accord.contacts.services import person_create
from tests.comms.conftest import receive
from tests.e2e.conftest import screenshot
from tests.e2e.test_login import log_in

pytestmark = pytest.mark.browser
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def answered(transactional_db, smtp_factory):
    demo.populate()
    sink = smtp_factory()
    admin = User.objects.get(email="admin@example.com")
    manager = User.objects.get(email="manager@example.com")
    mailbox = mailbox_save(actor=admin, data={
        "name": "Sales", "address": "sales@window-shop.example", "from_name": "Window Shop",
        "smtp_host": "127.0.0.1", "smtp_port": sink.port, "smtp_security": "none",
    })  # fmt: skip
    vera = person_create(actor=manager, data={
        "first_name": "Vera", "last_name": "Lang", "emails": ["vera@example.com"],
    })  # fmt: skip
    offer = message_send(
        actor=manager, mailbox=mailbox, person=vera, to=["vera@example.com"],
        subject="Your new windows", text="Hello Vera,\n\nhere is the offer.",
    )  # fmt: skip
    delivery.deliver_due()
    answer = receive(offer, text="Thank you! Could the measurer come on Saturday?",
                     cc=["husband@example.com"], files=[("plan.pdf", PDF)])  # fmt: skip
    return {"sink": sink, "vera": vera, "manager": manager, "offer": offer, "answer": answer}


def test_open_a_thread_in_the_inbox_and_reply(open_page, answered):
    sink, answer = answered["sink"], answered["answer"]
    page = open_page(width=1280, height=900)
    log_in(page, "manager@example.com", settings.ACCORD_DEMO_PASSWORD)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_test_id("inbox-badge").first).to_have_text("unread: 1")
    nav.get_by_role("link", name="Inbox").click()

    row = page.locator(".thread", has_text="Your new windows")
    expect(row.get_by_test_id("unread")).to_have_text("1 new")
    row.locator("summary").click()
    messages = row.get_by_test_id("thread-message")
    expect(messages).to_have_count(2)
    expect(messages.nth(0)).to_contain_text("here is the offer.")  # oldest first
    expect(messages.nth(1)).to_contain_text("Could the measurer come on Saturday?")
    expect(messages.nth(1).get_by_role("link", name="plan.pdf")).to_be_visible()
    expect(nav.get_by_test_id("inbox-badge").first).to_be_hidden()  # read now
    expect(row.get_by_test_id("unread")).to_have_count(0)  # and its row says so
    screenshot(page, "inbox-thread-desktop-en")

    messages.nth(1).get_by_role("link", name="Reply to all").click()
    panel = page.locator("dialog#drawer")
    expect(panel).to_be_visible()
    expect(panel.get_by_role("textbox", name="To", exact=True)).to_have_value("vera@example.com")
    expect(panel.get_by_label("Cc", exact=True)).to_have_value("husband@example.com")
    expect(panel.get_by_label("Subject")).to_have_value("Re: Your new windows")
    text = panel.locator("textarea[name=text]")
    expect(text).to_have_value(re.compile(r"> Thank you! Could the measurer"))
    text.press("Control+Home")
    text.type("Saturday at ten suits us.")
    screenshot(page, "inbox-reply-desktop-en")
    panel.get_by_role("button", name="Send").click()
    expect(panel).to_be_hidden()
    expect(row.get_by_test_id("thread-message")).to_have_count(3)
    expect(row.get_by_test_id("thread-message").nth(2)).to_contain_text("Saturday at ten")

    delivery.deliver_due()
    reply = sink[-1]
    assert reply["In-Reply-To"] == answer.message_id
    assert reply["References"].split() == [answered["offer"].message_id, answer.message_id]
    assert reply["Cc"] == "husband@example.com"
    page.goto(f"/clients/people/{answered['vera'].pk}/")
    card = page.locator("#mail-card")
    expect(card.locator(".thread")).to_have_count(1)
    card.locator("summary").first.click()
    expect(card.get_by_test_id("thread-message")).to_have_count(3)
    expect(card.get_by_test_id("mail-state").last).to_have_text("Sent")
    screenshot(page, "client-mail-desktop-en")


def test_a_thread_read_before_the_badge_first_answers_clears_it(open_page, answered):
    """The badge's first answer on a page can come after the user opened a thread (a
    slow server): it must not leave the count standing."""
    page = open_page(width=1280, height=900)
    log_in(page, "manager@example.com", settings.ACCORD_DEMO_PASSWORD)
    stale = page.request.get("/inbox/badge/").text()  # the count before the thread is read
    assert "unread: </span>1" in stale
    held = []

    def hold(route):  # the page's first questions wait until we answer them
        if len(held) < 2:  # the sidebar's badge and the phone bar's
            held.append(route)
        else:
            route.continue_()

    page.route("**/inbox/badge/", hold)
    page.goto("/inbox/")
    row = page.locator(".thread", has_text="Your new windows")
    row.locator("summary").click()
    expect(row.get_by_test_id("thread-message")).to_have_count(2)
    for route in held:  # answered late, with the count as it was
        with contextlib.suppress(Error):  # the page may have given up on it already
            route.fulfill(body=stale, content_type="text/html")
    nav = page.get_by_role("navigation", name="Main")
    page.wait_for_timeout(300)
    expect(nav.get_by_test_id("inbox-badge").first).to_be_hidden()


@pytest.mark.parametrize("language", ["en", "he", "ru"])
def test_the_inbox_and_a_thread_fit_a_phone(open_page, answered, language):
    manager = answered["manager"]
    user_update(actor=manager, user=manager, language=language)
    page = open_page(width=375, height=800)
    log_in(page, "manager@example.com", settings.ACCORD_DEMO_PASSWORD)
    page.goto("/inbox/")
    with translation.override(language):
        inbox = translation.gettext("Inbox")
    expect(page.get_by_role("heading", level=1)).to_have_text(inbox)
    page.locator(".thread summary").first.click()
    expect(page.get_by_test_id("thread-message")).to_have_count(2)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    expect(page.locator(".sidebar")).to_be_in_viewport()  # the bottom bar stays
    screenshot(page, f"inbox-thread-phone-{language}")
    page.set_viewport_size({"width": 1280, "height": 900})
    screenshot(page, f"inbox-thread-desktop-{language}")
    page.goto(f"/mail/new/?reply={answered['answer'].pk}&kind=reply")
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, f"inbox-reply-phone-{language}")
    page.goto(f"/clients/people/{answered['vera'].pk}/")
    page.locator("#mail-card summary").first.click()
    expect(page.locator("#mail-card").get_by_test_id("thread-message")).to_have_count(2)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, f"client-mail-phone-{language}")


def test_an_empty_inbox_says_how_mail_arrives(open_page, transactional_db):
    demo.populate()
    page = open_page(width=1280, height=900)
    log_in(page, "admin@example.com", settings.ACCORD_DEMO_PASSWORD)
    page.goto("/inbox/")
    heading = page.get_by_role("heading", name="Your clients’ e-mail and messages come here")
    expect(heading).to_be_visible()
    page.get_by_role("link", name="Set up a mailbox").click()
    expect(page).to_have_url(re.compile(r"/settings/email/$"))
    page.goto("/inbox/")
    screenshot(page, "inbox-empty-desktop-en")
