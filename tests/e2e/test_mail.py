"""A manager writes to a client from the card: the panel opens beside the card, the
message is on the timeline at once as queued, turns "Sent" once the worker sent it, and
opens in place; on a phone the same form is a page of its own."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from playwright.sync_api import expect

from accord.accounts import demo
from accord.accounts.models import User
from accord.accounts.services import user_update
from accord.comms import delivery
from accord.comms.models import Mailbox, Message
from accord.comms.services import mailbox_save, message_send
from accord.contacts.services import person_create
from tests.e2e.conftest import screenshot
from tests.e2e.test_login import log_in

pytestmark = pytest.mark.browser
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def company(transactional_db, smtp_factory):
    demo.populate()
    sink = smtp_factory()
    admin = User.objects.get(email="admin@example.com")
    manager = User.objects.get(email="manager@example.com")
    mailbox_save(actor=admin, data={
        "name": "Sales", "address": "sales@window-shop.example", "from_name": "Window Shop",
        "smtp_host": "127.0.0.1", "smtp_port": sink.port, "smtp_security": "none",
    })  # fmt: skip
    vera = person_create(actor=manager, data={
        "first_name": "Vera", "last_name": "Lang",
        "emails": ["vera@example.com", "vera.lang@work.example"],
    })  # fmt: skip
    return {"sink": sink, "vera": vera, "manager": manager}


def test_write_to_a_client_from_the_card_and_see_it_sent(open_page, company, tmp_path):
    vera, sink = company["vera"], company["sink"]
    page = open_page(width=1280, height=900)
    log_in(page, "manager@example.com", settings.ACCORD_DEMO_PASSWORD)
    page.goto(f"/clients/people/{vera.pk}/")

    page.get_by_role("link", name="Write an e-mail").click()
    panel = page.locator("dialog#drawer")
    expect(panel).to_be_visible()
    to = panel.get_by_role("textbox", name="To", exact=True)
    expect(to).to_have_value("vera@example.com")
    panel.get_by_role("button", name="vera.lang@work.example").click()
    expect(to).to_have_value("vera@example.com, vera.lang@work.example")
    panel.get_by_label("Subject").fill("Your new windows")
    panel.locator("textarea[name=text]").fill("Hello Vera,\n\nthe offer is attached.")
    offer = Path(tmp_path) / "offer.pdf"
    offer.write_bytes(PDF)
    panel.get_by_label("Attachments").set_input_files(str(offer))
    screenshot(page, "mail-compose-desktop-en")
    panel.get_by_role("button", name="Send").click()

    expect(panel).to_be_hidden()
    entry = page.locator(".timeline-item.timeline-email").first
    expect(entry).to_contain_text("Your new windows")
    expect(entry.get_by_test_id("mail-state")).to_have_text("Queued")
    assert sink == []  # the click only queued it

    delivery.deliver_due()  # the worker's turn
    expect(entry.get_by_test_id("mail-state")).to_have_text("Sent", timeout=10_000)
    assert sink[0]["Subject"] == "Your new windows" and len(sink) == 1
    entry.locator("summary").click()
    expect(entry.locator(".mail-body")).to_contain_text("the offer is attached.")
    expect(entry.get_by_role("link", name="offer.pdf")).to_be_visible()
    screenshot(page, "mail-timeline-desktop-en")

    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "mail-timeline-phone-en")


def test_a_failed_message_says_why_and_is_sent_again(open_page, company):
    vera, manager = company["vera"], company["manager"]

    Mailbox.objects.update(smtp_port=9)  # nothing listens there
    message = message_send(actor=manager, mailbox=Mailbox.objects.get(), person=vera,
                           to="vera@example.com", subject="Offer", text="Hi")  # fmt: skip
    delivery.deliver_due()
    Message.objects.filter(pk=message.pk).update(state=Message.FAILED)  # its tries are used up
    page = open_page(width=1280, height=900)
    log_in(page, "manager@example.com", settings.ACCORD_DEMO_PASSWORD)
    page.goto(f"/clients/people/{vera.pk}/")
    entry = page.locator(".timeline-item.timeline-email").first
    expect(entry.get_by_test_id("mail-state")).to_have_text("Failed")
    entry.locator("summary").click()
    expect(entry.get_by_test_id("mail-error")).to_contain_text("refused the connection")
    Mailbox.objects.update(smtp_port=company["sink"].port)
    entry.get_by_role("button", name="Send again").click()
    expect(entry.get_by_test_id("mail-state").first).to_have_text("Queued")
    delivery.deliver_due()
    expect(entry.get_by_test_id("mail-state").first).to_have_text("Sent", timeout=10_000)


def test_on_a_phone_the_form_is_a_page_and_hebrew_mirrors_it(open_page, company):
    vera, manager = company["vera"], company["manager"]
    page = open_page(width=375, height=800)
    log_in(page, "manager@example.com", settings.ACCORD_DEMO_PASSWORD)
    page.goto(f"/clients/people/{vera.pk}/")
    page.get_by_role("link", name="Write an e-mail").click()
    expect(page).to_have_url(re.compile(rf"/mail/new/\?person={vera.pk}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Write an e-mail")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "mail-compose-phone-en")
    page.get_by_label("Subject").fill("Measurements")
    page.locator("textarea[name=text]").fill("See you on Friday.")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".toast")).to_contain_text("“Measurements” is queued")
    expect(page.locator(".timeline-item.timeline-email").first).to_contain_text("Measurements")

    user_update(actor=manager, user=manager, language="he")
    page.goto(f"/mail/new/?person={vera.pk}")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "mail-compose-phone-he")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/clients/people/{vera.pk}/")
    with translation.override("he"):
        write = translation.gettext("Write an e-mail")
    assert write != "Write an e-mail"
    page.get_by_role("link", name=write).click()
    expect(page.locator("dialog#drawer")).to_be_visible()
    box = page.locator("dialog#drawer").bounding_box()
    assert box["x"] < 100, "in Hebrew the panel opens on the left, the inline end"
    screenshot(page, "mail-compose-desktop-he")


def test_an_administrator_sets_up_a_mailbox_and_sees_the_servers_answer(
    open_page, transactional_db, smtp_factory
):
    demo.populate()
    guarded = smtp_factory(users={"sales": "the-right-one"})
    page = open_page(width=1280, height=900)
    log_in(page, "admin@example.com", settings.ACCORD_DEMO_PASSWORD)
    page.goto("/settings/email/")
    expect(page.get_by_role("heading", name="No mailboxes yet")).to_be_visible()
    page.get_by_role("link", name="Add the first mailbox").click()
    page.get_by_role("textbox", name="Name", exact=True).fill("Sales")
    page.get_by_role("textbox", name="Address").fill("sales@window-shop.example")
    page.get_by_role("textbox", name="Sender name").fill("Window Shop")
    sending = page.get_by_role("group", name="Sending (SMTP)")
    sending.get_by_role("textbox", name="Server").fill("127.0.0.1")
    sending.get_by_role("spinbutton", name="Port").fill(str(guarded.port))
    sending.get_by_role("combobox", name="Security").select_option("none")
    sending.get_by_role("textbox", name="User name").fill("sales")
    sending.get_by_label("Password").fill("a-wrong-one")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".toast")).to_contain_text("The mailbox is saved.")
    expect(sending.get_by_label("Password")).to_have_value("")  # never shown again

    page.get_by_role("button", name="Test sending").click()
    result = page.get_by_test_id("test-sending")
    expect(result).to_contain_text("Sending does not work.")
    expect(result).to_contain_text("The server refused the login: 535")
    screenshot(page, "mail-settings-desktop-en")
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "mail-settings-phone-en")
    page.set_viewport_size({"width": 1280, "height": 900})

    sending.get_by_label("Password").fill("the-right-one")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("button", name="Test sending").click()
    expect(page.get_by_test_id("test-sending")).to_contain_text("Sending works.")
    assert len(guarded) == 1
