"""A manager drags a deal to the next stage (it stays there after a reload) and closes
another as lost with a reason."""

import pytest
from django.conf import settings
from playwright.sync_api import expect

from accord.accounts import demo
from accord.accounts.models import User
from accord.sales.models import Pipeline
from accord.sales.services import deal_create, pipeline_create
from tests.e2e.conftest import screenshot
from tests.e2e.test_login import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def sales(transactional_db):
    demo.populate()
    admin = User.objects.get(email="admin@example.com")
    Pipeline.objects.all().delete()  # instead of the starter pipeline, a known one
    pipeline = pipeline_create(
        actor=admin,
        name="Windows",
        stages=[
            {"name": "Request"},
            {"name": "Measurement"},
            {"name": "Offer"},
            {"name": "Won", "kind": "won"},
            {"name": "Lost", "kind": "lost"},
        ],
    )
    manager = User.objects.get(email="manager@example.com")
    deal_create(actor=manager, data={"title": "Balcony glazing", "amount": "1500"})
    deal_create(actor=manager, data={"title": "Country house", "amount": "4200"})
    return pipeline


def column(page, name):
    return page.locator(".board-column", has=page.get_by_role("heading", name=name))


def test_drag_a_deal_to_the_next_stage_and_it_stays_there(open_page, sales):
    page = open_page(width=1400)
    log_in(page, "manager@example.com", settings.ACCORD_DEMO_PASSWORD)
    page.get_by_role("link", name="Deals").click()
    page.locator(".board[data-ready]").wait_for()  # SortableJS is set up
    card = column(page, "Request").locator(".deal-card", has_text="Balcony glazing")
    target = column(page, "Measurement").locator(".board-cards")
    start, end = card.bounding_box(), target.bounding_box()
    page.mouse.move(start["x"] + 20, start["y"] + 20)
    page.mouse.down()
    page.mouse.move(end["x"] + 40, end["y"] + 30, steps=12)
    with page.expect_response(lambda r: "/move/" in r.url and r.ok):
        page.mouse.up()
    expect(column(page, "Measurement")).to_contain_text("Balcony glazing")
    screenshot(page, "board-desktop-en")
    page.reload()
    expect(column(page, "Measurement")).to_contain_text("Balcony glazing")
    expect(column(page, "Request")).not_to_contain_text("Balcony glazing")


def drag(page, card, target):
    start, end = card.bounding_box(), target.bounding_box()
    page.mouse.move(start["x"] + 20, start["y"] + 20)
    page.mouse.down()
    page.mouse.move(end["x"] + 40, end["y"] + 30, steps=12)
    with page.expect_response(lambda r: "/move/" in r.url and r.ok):
        page.mouse.up()


def test_after_a_drop_both_columns_count_and_total_without_a_reload(open_page, sales):
    page = open_page(width=1280)
    log_in(page, "manager@example.com", settings.ACCORD_DEMO_PASSWORD)
    page.get_by_role("link", name="Deals").click()
    page.locator(".board[data-ready]").wait_for()
    request, measurement = column(page, "Request"), column(page, "Measurement")
    expect(request.locator("[data-count]")).to_have_text("2")
    expect(request.locator("[data-total]")).to_have_text("5,700 EUR")
    expect(measurement.locator("[data-count]")).to_have_text("0")
    card = request.locator(".deal-card", has_text="Country house")
    drag(page, card, measurement.locator(".board-cards"))
    expect(request.locator("[data-count]")).to_have_text("1")
    expect(request.locator("[data-total]")).to_have_text("1,500 EUR")
    expect(measurement.locator("[data-count]")).to_have_text("1")
    expect(measurement.locator("[data-total]")).to_have_text("4,200 EUR")
    screenshot(page, "board-after-drop-1280-en")
    # The moved card came back with its new version: a second drag of it is saved too.
    moved = measurement.locator(".deal-card", has_text="Country house")
    expect(moved).to_have_attribute("data-version", "2")
    drag(page, moved, column(page, "Offer").locator(".board-cards"))
    expect(measurement.locator("[data-count]")).to_have_text("0")
    expect(column(page, "Offer").locator("[data-total]")).to_have_text("4,200 EUR")
    expect(page.locator("#board-status")).to_have_text("")
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot(page, "board-after-drop-375-en")


def test_close_a_deal_as_lost_with_a_reason(open_page, sales):
    page = open_page(width=1280)
    log_in(page, "manager@example.com", settings.ACCORD_DEMO_PASSWORD)
    page.get_by_role("link", name="Deals").click()
    page.get_by_role("link", name="Country house").click()
    page.locator("summary", has_text="Lost").click()
    page.get_by_label("Why was it lost?").select_option(label="Too expensive")
    page.locator(".lose-form").get_by_label("Note").fill("Chose a cheaper offer")
    page.get_by_role("button", name="Close as lost").click()
    expect(page.locator(".record-facts .badge")).to_have_text("Lost")
    expect(page.locator(".timeline-item").first).to_contain_text("Too expensive")
    screenshot(page, "deal-lost-desktop-en")


def test_a_long_column_brings_more_cards_as_it_is_scrolled(open_page, sales):
    manager = User.objects.get(email="manager@example.com")
    for number in range(60):
        deal_create(actor=manager, data={"title": f"Window {number:02}", "amount": "100"})
    page = open_page(width=1400)
    log_in(page, "manager@example.com", settings.ACCORD_DEMO_PASSWORD)
    page.get_by_role("link", name="Deals").click()
    cards = column(page, "Request").locator(".deal-card")
    expect(cards).to_have_count(50)
    column(page, "Request").locator(".board-loader").scroll_into_view_if_needed()
    expect(cards).to_have_count(62)
    expect(column(page, "Request").locator(".board-loader")).to_have_count(0)


def test_a_new_deal_finds_its_client_by_typing(open_page, sales):
    from accord.contacts.services import person_create

    manager = User.objects.get(email="manager@example.com")
    person_create(actor=manager, data={"first_name": "Anna", "last_name": "Petrova"})
    page = open_page(width=1400)
    log_in(page, "manager@example.com", settings.ACCORD_DEMO_PASSWORD)
    page.goto("/deals/new/")
    page.get_by_label("Title").fill("Windows for Anna")
    picker = page.locator(".field", has=page.get_by_label("Person", exact=True))
    with page.expect_response(lambda r: "/pick/" in r.url):
        picker.locator(".picker-search").fill("petr")
    expect(picker.locator("option:checked")).to_have_text("Anna Petrova")
    screenshot(page, "deal-form-picker-en")
    page.get_by_role("button", name="Add").click()
    expect(page.locator("main")).to_contain_text("Anna Petrova")
