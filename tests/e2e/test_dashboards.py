"""The first administrator of an empty instance opens Reports: the company's dashboard
draws its charts (in Hebrew, right to left), a chart's table opens with one click, the
dashboard becomes their own, gets a widget, and prints."""

import re

import pytest
from playwright.sync_api import expect

from accord.accounts.services import user_create, user_update
from accord.reports.models import Dashboard
from accord.sales.services import deal_create, deal_win
from tests.e2e.conftest import screenshot
from tests.e2e.test_login import log_in

pytestmark = pytest.mark.browser
PASSWORD = "first-admin-2026"


@pytest.fixture
def first_admin(transactional_db):
    admin = user_create(email="first@example.com", password=PASSWORD, role="administrator",
                        full_name="First Admin")  # fmt: skip
    deal = deal_create(actor=admin, data={"title": "First sale", "amount": "1200"})
    deal_win(actor=admin, deal=deal)
    return admin


DRAWN = """() => [...document.querySelectorAll('canvas[data-chart]')].map((canvas) => {
  const chart = window.Chart.getChart(canvas);
  if (!chart) return null;
  return {points: chart.data.datasets[0].data.length, reverse: chart.options.scales.x.reverse};
})"""


@pytest.mark.parametrize(("width", "name"), [(1280, "desktop"), (375, "phone")])
def test_the_first_admin_opens_builds_and_prints_a_dashboard(open_page, first_admin, width, name):
    page = open_page(width=width, height=900)
    log_in(page, first_admin.email, PASSWORD)
    page.goto("/reports/")
    expect(page.get_by_role("heading", name="Company", level=1)).to_be_visible()
    sales = page.locator('[data-testid="widget"]').filter(has_text="Sales volume").first
    expect(sales.get_by_test_id("widget-number")).to_contain_text("1,200")
    drawn = page.evaluate(DRAWN)
    assert drawn and all(chart and chart["points"] > 0 for chart in drawn), drawn
    assert not any(chart["reverse"] for chart in drawn)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    chart_card = page.locator(".widget-line").first
    chart_card.get_by_text("Table", exact=True).click()
    expect(chart_card.locator("table")).to_be_visible()
    screenshot(page, f"dashboard-{name}")
    with page.expect_download() as printed:
        page.get_by_role("link", name="PDF").click()
    assert printed.value.suggested_filename == "company.pdf"

    page.get_by_role("button", name="Make it my own").click()
    expect(page).to_have_url(re.compile(r"/reports/dashboards/\d+/edit/"))
    page.get_by_role("link", name="Add a widget").click()
    page.get_by_label("Report").select_option(label="Sales cycle")
    page.get_by_label("Shown as").select_option("bar")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field-error")).to_have_text("This report cannot be shown that way.")
    page.get_by_label("Shown as").select_option("line")
    page.get_by_label("Title").fill("How long we sell")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("widget-row").last).to_contain_text("How long we sell")
    rows = page.get_by_test_id("widget-row")
    count = rows.count()
    rows.last.scroll_into_view_if_needed()
    start = rows.last.locator(".widget-grip").bounding_box()
    target = rows.nth(count - 3).bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()  # dragged by its grip two places up
    page.mouse.move(target["x"] + 20, target["y"] + 4, steps=15)
    with page.expect_response(lambda r: "/move/" in r.url and r.status == 204):
        page.mouse.up()
    expect(rows.nth(count - 3)).to_contain_text("How long we sell")
    expect(rows.last.get_by_role("button", name="Later")).to_be_disabled()
    board = Dashboard.objects.get(owner=first_admin)
    titles = [w.title for w in board.widgets.order_by("position", "id")]
    assert titles.index("How long we sell") == count - 3
    page.reload()  # kept
    expect(page.get_by_test_id("widget-row").nth(count - 3)).to_contain_text("How long we sell")
    page.get_by_role("link", name="Open the dashboard").click()
    expect(page.get_by_role("heading", name="How long we sell")).to_be_visible()
    expect(page.get_by_test_id("widget").nth(count - 3)).to_contain_text("How long we sell")


def test_in_hebrew_the_charts_read_right_to_left(open_page, first_admin):
    user_update(user=first_admin, actor=first_admin, language="he")
    page = open_page(width=1280, height=900)
    log_in(page, first_admin.email, PASSWORD)
    page.goto("/reports/")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    drawn = page.evaluate(DRAWN)
    assert drawn and all(chart and chart["reverse"] for chart in drawn if chart)
    screenshot(page, "dashboard-hebrew")
