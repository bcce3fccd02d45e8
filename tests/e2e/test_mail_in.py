"""An administrator sees a mailbox's receiving in the browser: the fetch's state, the
folders fetched, the messages read with problems and those from unknown senders; "Fetch
now" brings a client's reply in, which is on the client's timeline and opens in place,
beside what was sent to her from a mail program. On a phone and
in Hebrew the page neither scrolls sideways nor loses the bottom bar."""

import pytest
from django.conf import settings
from django.utils import translation
from playwright.sync_api import expect

from accord.accounts import demo
from accord.accounts.models import User
from accord.accounts.services import user_update
from accord.comms import fetching
from accord.comms.models import Mailbox
from accord.comms.services import mailbox_save, message_send
from accord.contacts.services import person_create
from tests.comms.conftest import IMAP_PASSWORD, IMAP_USER, mail
from tests.e2e.conftest import screenshot
from tests.e2e.test_login import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def company(transactional_db, smtp_factory, dovecot):
    demo.populate()
    sink = smtp_factory()
    admin = User.objects.get(email="admin@example.com")
    manager = User.objects.get(email="manager@example.com")
    dovecot.add_user(IMAP_USER, IMAP_PASSWORD)
    mailbox = mailbox_save(actor=admin, data={
        "name": "Sales", "address": IMAP_USER, "from_name": "Window Shop",
        "smtp_host": "127.0.0.1", "smtp_port": sink.port, "smtp_security": "none",
        "imap_host": "127.0.0.1", "imap_port": dovecot.port, "imap_security": "none",
        "imap_username": IMAP_USER, "imap_password": IMAP_PASSWORD,
    })  # fmt: skip
    vera = person_create(actor=manager, data={"first_name": "Vera", "last_name": "Lang",
                                              "emails": ["vera@example.com"]})  # fmt: skip
    return {"admin": admin, "mailbox": mailbox, "vera": vera, "manager": manager}


def test_the_mailbox_page_shows_receiving_and_fetch_now_brings_a_reply(
    open_page, company, dovecot, settings
):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    mailbox, vera = company["mailbox"], company["vera"]
    ours = message_send(actor=company["manager"], mailbox=mailbox, to=["vera@example.com"],
                        subject="Measurement on Friday", text="At ten.", person=vera)  # fmt: skip
    dovecot.append(
        IMAP_USER,
        mail(sender="Mira Sol <mira@example.net>", subject="Price for three windows?"),
        mail(subject="Plans", text="See the file.",
             attachments=[("tool.exe", b"MZ" + b"\0" * 100, "application", "octet-stream")]),
    )  # fmt: skip
    by_hand = mail(sender=IMAP_USER, to="vera@example.com", subject="Written in my mail program")
    dovecot.append(IMAP_USER, by_hand, folder="Sent")
    fetching.fetch(Mailbox.objects.get(pk=mailbox.pk))

    page = open_page(width=1280, height=900)
    log_in(page, "admin@example.com", settings.ACCORD_DEMO_PASSWORD)
    page.goto(f"/settings/email/{mailbox.pk}/")
    receiving = page.get_by_test_id("receiving")
    expect(receiving).to_contain_text("Fetched in all")
    folders = page.get_by_test_id("fetched-folders")
    expect(folders).to_contain_text("INBOX (mail that comes in)")
    expect(folders).to_contain_text("Sent (mail sent from a mail program)")
    expect(receiving).to_contain_text("“tool.exe” was not kept")
    expect(page.get_by_test_id("unmatched")).to_contain_text("Price for three windows?")
    screenshot(page, "mailbox-receiving-desktop-en")

    dovecot.append(IMAP_USER, mail(subject="Re: Measurement on Friday", text="Ten is fine.",
                                   headers={"In-Reply-To": ours.message_id}))  # fmt: skip
    page.get_by_role("button", name="Fetch now").click()
    expect(page.locator(".toast")).to_contain_text("Fetching new mail now")

    page.goto(f"/clients/people/{vera.pk}/")
    entry = page.locator(".timeline-item.timeline-email").first
    expect(entry).to_contain_text("Re: Measurement on Friday")
    expect(entry.get_by_test_id("mail-state")).to_have_text("Received")
    entry.locator("summary").click()
    expect(entry.locator(".mail-body")).to_contain_text("Ten is fine.")
    sent = page.locator(".timeline-item.timeline-email", has_text="Written in my mail program")
    expect(sent.get_by_test_id("mail-state")).to_have_text("Sent")
    expect(sent).to_contain_text("to vera@example.com")
    screenshot(page, "mail-received-timeline-desktop-en")

    for language in ("en", "he"):
        user_update(actor=company["admin"], user=company["admin"], language=language)
        page.set_viewport_size({"width": 375, "height": 800})
        page.goto(f"/settings/email/{mailbox.pk}/")
        if language == "he":
            expect(page.locator("html")).to_have_attribute("dir", "rtl")
            with translation.override("he"):  # the page around the new words is Hebrew
                expect(page.locator("h1")).to_contain_text(translation.gettext("Settings"))
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        expect(page.locator("nav.sidebar")).to_be_visible()
        screenshot(page, f"mailbox-receiving-phone-{language}")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/settings/email/{mailbox.pk}/")
    screenshot(page, "mailbox-receiving-desktop-he")


def test_a_wrong_password_reads_in_words_on_the_page(open_page, company, dovecot):
    mailbox = company["mailbox"]
    dovecot.add_user(IMAP_USER, "another-password")
    fetching.fetch(Mailbox.objects.get(pk=mailbox.pk))
    page = open_page(width=1280, height=900)
    log_in(page, "admin@example.com", settings.ACCORD_DEMO_PASSWORD)
    page.goto(f"/settings/email/{mailbox.pk}/")
    expect(page.get_by_test_id("fetch-error")).to_contain_text(
        "The server refused the login: [AUTHENTICATIONFAILED] Authentication failed."
    )
    screenshot(page, "mailbox-failing-desktop-en")
    expect(page.locator(".bell-count")).to_have_text("1")
    page.goto("/notifications/")
    expect(page.locator(".notice-list")).to_contain_text(
        "The mailbox “Sales” cannot fetch mail: The server refused the login"
    )
