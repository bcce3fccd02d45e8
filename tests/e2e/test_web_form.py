"""The window shop's site (a real HTTP peer of its own address) carries Accord's form and
script: a visitor comes from an ad, walks to a second page, sends the form — a mistake
first, then right — and reads the thank-you text in the page; the request is a client
with the ad's tags and landing page, a deal, and the manager's card says where they came
from. On a desktop and on a phone."""

import pytest
from django.conf import settings
from playwright.sync_api import expect

from accord.accounts import demo
from accord.accounts.models import User
from accord.contacts.models import Person
from accord.marketing.models import Channel, Touch
from accord.marketing.services import form_save
from accord.sales.models import Deal
from tests.conftest import run_worker
from tests.e2e.conftest import screenshot
from tests.e2e.test_login import log_in

pytestmark = pytest.mark.browser

FIELDS = [{"key": "name", "required": True}, {"key": "phone", "required": True},
          {"key": "message", "required": False}]  # fmt: skip


@pytest.fixture
def site(transactional_db, live_server, httpserver):
    """The company's two pages, the second with the form and the script."""
    demo.populate()
    admin = User.objects.get(email="admin@example.com")
    form = form_save(actor=admin, data={
        "name": "Call me back", "fields": FIELDS, "creates_deal": True,
        "channel": Channel.objects.get(code="site"),
        "allowed_sites": f"{httpserver.host}:{httpserver.port}",
        "thanks_text": "Thank you! We call back within 15 minutes."})  # fmt: skip
    script = f'<script src="{live_server.url}/f/forms.js"></script>'
    inputs = "".join(
        f'<label>{item["key"]} <input name="{item["key"]}"></label>' for item in FIELDS
    )
    httpserver.expect_request("/favicon.ico").respond_with_data("", status=204)
    httpserver.expect_request("/").respond_with_data(
        f'<!doctype html><title>Okna</title><a href="/balconies">Balconies</a>{script}',
        content_type="text/html",
    )
    httpserver.expect_request("/balconies").respond_with_data(
        f'<!doctype html><title>Balconies</title><form action="{live_server.url}/f/'
        f'{form.token}/" method="post">{inputs}<button type="submit">Send</button></form>'
        f"{script}",
        content_type="text/html",
    )
    return httpserver


@pytest.mark.parametrize(("width", "name"), [(1280, "desktop"), (375, "phone")])
def test_a_visitor_from_an_ad_sends_the_site_s_form_and_becomes_a_lead(
    open_page, site, width, name
):
    visitor = open_page(width=width, height=900)
    landing = site.url_for("/") + "?utm_source=google&utm_medium=cpc&utm_campaign=spring"
    visitor.goto(landing)
    visitor.get_by_role("link", name="Balconies").click()
    visitor.wait_for_timeout(3200)  # a person takes a few seconds to fill the form in
    visitor.get_by_label("name").fill("Anna Petrova")
    visitor.get_by_label("phone").fill("call me")
    visitor.get_by_role("button", name="Send").click()
    expect(visitor.locator(".accord-note")).to_contain_text("call me")
    visitor.get_by_label("phone").fill("+7 916 123-45-67")
    visitor.get_by_label("message").fill("Two balconies")
    visitor.get_by_role("button", name="Send").click()
    expect(visitor.locator(".accord-note")).to_have_text(
        "Thank you! We call back within 15 minutes."
    )
    assert visitor.url == site.url_for("/balconies")  # the visitor stayed on the site
    run_worker()  # files the request the page kept
    person = Person.objects.get(first_name="Anna")
    assert Deal.objects.filter(person=person).count() == 1
    touch = Touch.objects.get(person=person, kind="first", deal=None)
    assert (touch.source, touch.medium, touch.channel.code) == ("google", "cpc", "ads")
    assert touch.landing_page == landing

    manager = open_page(width=width, height=900)
    log_in(manager, "admin@example.com", settings.ACCORD_DEMO_PASSWORD)
    manager.goto(f"/clients/people/{person.pk}/")
    card = manager.locator(".touches-card")
    expect(card).to_contain_text("First visit")
    expect(card).to_contain_text("google / cpc")
    expect(card).to_contain_text("Two balconies")
    assert manager.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(manager, f"client-came-from-{name}-en")
