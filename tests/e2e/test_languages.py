"""A user switches to Hebrew: the whole layout mirrors, the navigation moves to the right."""

import pytest
from django.conf import settings
from playwright.sync_api import expect

from accord.accounts import demo
from tests.e2e.conftest import screenshot
from tests.e2e.test_login import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_company(transactional_db):
    demo.populate()


def test_switching_to_hebrew_mirrors_the_layout(open_page, demo_company):
    page = open_page(width=1280, height=800)
    log_in(page, "head@example.com", settings.ACCORD_DEMO_PASSWORD)
    screenshot(page, "shell-desktop-en")

    page.get_by_title("Your account").click()
    page.get_by_role("menuitem", name="My profile").click()
    page.get_by_label("Language").select_option("he")
    page.get_by_role("button", name="Save").first.click()

    html = page.locator("html")
    expect(html).to_have_attribute("dir", "rtl")
    expect(html).to_have_attribute("lang", "he")
    sidebar = page.locator("nav.sidebar").bounding_box()
    assert sidebar["x"] > 1280 / 2, "the navigation sits on the right in Hebrew"
    page.goto("/")
    screenshot(page, "shell-desktop-he")

    page.set_viewport_size({"width": 375, "height": 740})
    bar = page.locator("nav.sidebar").bounding_box()
    assert bar["y"] > 600, "on a phone the navigation is a bottom bar"
    screenshot(page, "shell-phone-he")


def test_the_shell_on_a_phone_keeps_search_and_account_within_reach(open_page, demo_company):
    page = open_page(width=375, height=740)
    log_in(page, "admin@example.com", settings.ACCORD_DEMO_PASSWORD)
    expect(page.get_by_role("searchbox", name="Search everything")).to_be_visible()
    expect(page.get_by_title("Your account")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, "nothing overflows sideways"
    screenshot(page, "shell-phone-en")

    page.keyboard.press("/")
    expect(page.get_by_role("searchbox", name="Search everything")).to_be_focused()
    page.keyboard.type("Maria")
    expect(page.locator("#search-popup")).to_contain_text("Maria Ivanova")
