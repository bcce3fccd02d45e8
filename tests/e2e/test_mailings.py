"""An administrator writes a template, prepares a mailing to a segment, reads who will
receive it and why the others won't, starts it and watches it progress as the worker
sends; the screens at phone and desktop widths in English, Hebrew and Russian; the
unsubscribe page a client sees."""

import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from accord.accounts import demo
from accord.accounts.models import User
from accord.accounts.services import user_update
from accord.comms import mailings, unsubscribe
from accord.comms.models import Mailing
from accord.comms.services import mailbox_save, template_save
from accord.contacts.services import person_create, segment_save
from tests.e2e.conftest import screenshot
from tests.e2e.test_login import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def company(transactional_db, smtp_factory):
    demo.populate()
    sink = smtp_factory()
    admin = User.objects.get(email="admin@example.com")
    mailbox_save(actor=admin, data={
        "name": "Sales", "address": "sales@window-shop.example", "from_name": "Window Shop",
        "smtp_host": "127.0.0.1", "smtp_port": sink.port, "smtp_security": "none",
    })  # fmt: skip
    for name, consent in (("Vera", True), ("Ivan", True), ("Nina", False)):
        person_create(actor=admin, data={
            "first_name": name, "last_name": "Client", "emails": [f"{name.lower()}@example.com"],
            "marketing_consent": consent, "tags": ["news"],
        })  # fmt: skip
    segment_save(actor=admin, name="Newsletter", record_type="person", filters={"tag": "news"},
                 shared=True)  # fmt: skip
    return {"sink": sink, "admin": admin}


def no_sideways_scroll(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_a_template_goes_to_a_segment_and_the_mailing_progresses(open_page, company):
    sink = company["sink"]
    page = open_page(width=1280, height=900)
    log_in(page, "admin@example.com", settings.ACCORD_DEMO_PASSWORD)

    page.goto("/settings/email/templates/")
    page.get_by_role("link", name="Write the first template").click()
    page.locator("#id_name").fill("Spring offer")
    page.locator("#s-t-subject").fill("Spring offer for ")
    page.locator("[data-merge-menu='s-t-subject'] summary").click()
    page.locator("[data-merge-menu='s-t-subject'] [data-merge='{{ client.first_name }}']").click()
    expect(page.locator("#s-t-subject")).to_have_value("Spring offer for {{ client.first_name }}")
    page.locator("#s-t-html").fill("Dear {{ client.first_name }},\n\nwindows are 10% off.")
    page.locator("#id_marketing").check()
    screenshot(page, "template-editor-desktop-en")
    page.get_by_role("button", name="Save the template").click()
    expect(page.locator(".alert, .toast, [role=status]").first).to_contain_text("is saved")

    page.goto("/mail/mailings/")
    page.get_by_role("link", name="Prepare the first mailing").click()
    page.locator("#id_name").fill("Spring, March")
    page.locator("#id_template").select_option(label="Spring offer")
    page.locator("#id_segment").select_option(label="Newsletter")
    audience = page.locator("#audience")
    expect(audience).to_contain_text("2")
    expect(audience).to_contain_text("of 3 people in the segment will receive it")
    expect(audience).to_contain_text("Did not agree to offers and news")
    screenshot(page, "mailing-new-desktop-en")
    page.get_by_role("button", name="Save the draft").click()
    page.get_by_role("button", name="Start sending").click()
    progress = page.locator("#mailing-progress")
    expect(progress.locator("[data-state]")).to_have_text("Sending")
    assert sink == []  # the click only queued them

    mailings.send(Mailing.objects.get().pk)  # the worker's turn
    expect(progress.locator("[data-state]")).to_have_text("Done", timeout=10_000)
    expect(progress).to_contain_text("2 of 2 done")
    assert sorted(m["To"] for m in sink) == ["ivan@example.com", "vera@example.com"]
    screenshot(page, "mailing-done-desktop-en")

    page.set_viewport_size({"width": 375, "height": 800})
    page.reload()
    no_sideways_scroll(page, 375)
    expect(page.locator(".bottom-nav, nav.sidebar").first).to_be_visible()
    screenshot(page, "mailing-done-phone-en")


@pytest.mark.parametrize("language", ["he", "ru"])
def test_the_mailing_screens_in_other_languages(open_page, company, language):
    admin = company["admin"]
    template_save(actor=admin, name="Spring offer", subject="Offer", html="<p>Offer</p>",
                  marketing=True)  # fmt: skip
    user_update(actor=admin, user=admin, language=language)
    page = open_page(width=1280, height=900)
    log_in(page, "admin@example.com", settings.ACCORD_DEMO_PASSWORD)
    for width, name in ((1280, "desktop"), (375, "phone")):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/settings/email/templates/new/")
        no_sideways_scroll(page, width)
        screenshot(page, f"template-editor-{name}-{language}")
        page.goto("/mail/mailings/new/")
        page.locator("#id_segment").select_option(label="Newsletter")
        expect(page.locator("#audience .num").first).to_have_text("2")
        no_sideways_scroll(page, width)
        screenshot(page, f"mailing-new-{name}-{language}")


@pytest.mark.parametrize("language", ["en", "he"])
def test_the_unsubscribe_page_asks_before_it_unsubscribes(open_page, company, language):
    person = person_create(actor=company["admin"], data={
        "first_name": "Dana", "emails": ["dana@example.com"], "marketing_consent": True,
        "language": language,
    })  # fmt: skip
    link = unsubscribe.url(person_id=person.pk, address="dana@example.com")
    path = link.removeprefix(settings.ACCORD_BASE_URL)
    for width, name in ((1280, "desktop"), (375, "phone")):
        page = open_page(width=width, height=800)
        page.goto(path)
        expect(page.locator("html")).to_have_attribute("dir", "rtl" if language == "he" else "ltr")
        no_sideways_scroll(page, width)
        screenshot(page, f"unsubscribe-{name}-{language}")
    page.locator("form button[type=submit]").click()
    expect(page.locator("h1")).to_be_visible()
    person.refresh_from_db()
    assert not person.marketing_consent
    screenshot(page, f"unsubscribed-phone-{language}")


def test_tracking_is_a_visible_choice_of_the_template_and_marked_where_it_is_used(
    open_page, company
):
    page = open_page(width=1280, height=900)
    log_in(page, "admin@example.com", settings.ACCORD_DEMO_PASSWORD)
    page.goto("/settings/email/templates/new/")
    toggle = page.get_by_label("Track opens and clicks")
    expect(toggle).not_to_be_checked()  # off unless asked
    expect(page.get_by_test_id("tracking-note")).to_contain_text("tracking is off")
    page.locator("#id_name").fill("Autumn news")
    page.locator("#s-t-subject").fill("Autumn news")
    page.locator("#s-t-html").fill("New colours: https://window-shop.example/autumn")
    page.locator("#id_marketing").check()
    toggle.check()
    page.get_by_role("button", name="Save the template").click()

    expect(page.get_by_label("Track opens and clicks")).to_be_checked()
    expect(page.locator(".card-title [data-testid=tracked-mark]")).to_have_text(
        "opens and clicks tracked"
    )
    expect(page.get_by_test_id("tracking-note")).to_contain_text("Opens and clicks are tracked")
    screenshot(page, "template-editor-tracked-desktop-en")
    page.goto("/settings/email/templates/")
    row = page.locator("tr", has_text="Autumn news")
    expect(row.get_by_test_id("tracked-mark")).to_be_visible()

    page.goto("/mail/mailings/new/")
    page.locator("#id_name").fill("Autumn, October")
    page.locator("#id_template").select_option(label="Autumn news (opens and clicks tracked)")
    page.locator("#id_segment").select_option(label="Newsletter")
    page.get_by_role("button", name="Save the draft").click()
    progress = page.locator("#mailing-progress")
    expect(progress.get_by_test_id("tracked-mark")).to_be_visible()
    page.get_by_role("button", name="Start sending").click()
    mailings.send(Mailing.objects.get().pk)  # the worker's turn
    expect(progress.locator("[data-state]")).to_have_text("Done", timeout=10_000)

    # Vera's mail program loads the image and she follows the link.
    html = next(m for m in company["sink"] if m["To"] == "vera@example.com")
    html = next(p for p in html.walk() if p.get_content_type() == "text/html")
    html = html.get_payload(decode=True).decode()
    image = re.search(r'<img src="([^"]+)"', html)[1].removeprefix(settings.ACCORD_BASE_URL)
    link = re.search(r'href="([^"]+/t/c/[^"]+)"', html)[1].removeprefix(settings.ACCORD_BASE_URL)
    assert page.request.get(image).headers["content-type"] == "image/gif"
    followed = page.request.get(link, max_redirects=0)
    assert followed.status == 302
    assert followed.headers["location"] == "https://window-shop.example/autumn"
    page.reload()
    expect(page.get_by_test_id("mailing-tracking")).to_contain_text(
        "Opened by 1, clicked by 1 of 2 sent"
    )
    vera = page.locator(".recipient-table tr", has_text="vera@example.com")
    expect(vera.get_by_test_id("mail-tracking")).to_contain_text("opened")
    expect(vera.get_by_test_id("mail-tracking")).to_contain_text("clicked")
    screenshot(page, "mailing-tracked-desktop-en")
    vera.get_by_role("link", name="Vera Client").click()
    entry = page.locator(".mail-entry", has_text="Autumn news")
    expect(entry.get_by_test_id("mail-tracking")).to_contain_text("clicked")
    # The card's panels load after the page and move what is below them: a click while they
    # land can miss the summary (it did on a loaded machine).
    page.wait_for_load_state("networkidle")
    entry.locator("summary").click()
    expect(entry).to_have_attribute("open", "")
    expect(entry.locator(".mail-links")).to_contain_text("https://window-shop.example/autumn")
    screenshot(page, "client-tracked-mail-desktop-en")
    page.go_back()
    page.set_viewport_size({"width": 375, "height": 800})
    no_sideways_scroll(page, 375)
    screenshot(page, "mailing-tracked-phone-en")
