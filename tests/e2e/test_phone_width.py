"""On a 375 px phone, in English, Russian and Hebrew, no screen scrolls sideways, the bottom
bar stays in sight with whole words, and a list shows its clients before its filters."""

import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from accord.accounts import demo as accounts_demo
from accord.accounts.models import User
from accord.accounts.services import user_update
from accord.contacts import demo as contacts_demo
from accord.sales import demo as sales_demo
from accord.sales.models import Deal, Pipeline
from accord.work import demo as work_demo
from tests.e2e.conftest import screenshot
from tests.e2e.test_login import log_in

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 800}

# What the page looks like to a user: sideways overflow, and the bottom bar's places, each
# with the box of its word and of its link (a word wider than its link is cut off).
MEASURE = """() => {
  const bar = document.querySelector("nav.sidebar");
  const places = [...bar.querySelectorAll(".nav > li")].filter((li) => li.offsetParent !== null);
  return {
    pageWidth: document.documentElement.scrollWidth,
    viewport: {width: window.innerWidth, height: window.innerHeight},
    bar: bar.getBoundingClientRect().toJSON(),
    places: places.map((li) => {
      const label = li.querySelector(".nav-label");
      const words = document.createRange();
      words.selectNodeContents(label);
      return {
        text: label.textContent.trim(),
        word: words.getBoundingClientRect().toJSON(),
        link: li.querySelector(".nav-link").getBoundingClientRect().toJSON(),
        cut: label.scrollWidth > label.clientWidth,
      };
    }),
  };
}"""


@pytest.fixture
def demo_company(transactional_db):
    accounts_demo.populate()
    contacts_demo.populate()
    sales_demo.populate()
    work_demo.populate()


def screens() -> list[str]:
    deal = Deal.objects.filter(person__isnull=False).order_by("pk").first()
    pipeline = Pipeline.objects.filter(retired=False).order_by("pk").first()
    return [
        "/",
        "/clients/people/",
        f"/clients/people/{deal.person_id}/",
        "/clients/companies/",
        f"/deals/board/{pipeline.pk}/",
        "/deals/list/",
        f"/deals/{deal.pk}/",
        "/tasks/?view=team",
        "/calendar/",
        "/calendar/absences/",
        "/reports/",
        "/reports/communication/",
        "/reports/funnel/",
        "/reports/r/channels/",
        "/reports/all/",
        "/inbox/?box=all",
        "/mail/mailings/new/?kind=sms",
        "/settings/messengers/",
        "/clients/import/",
        "/settings/company/",
        "/settings/pipelines/",
        "/settings/automation/",
        "/profile/",
        "/search/?q=an",
    ]


def test_no_screen_scrolls_sideways_and_the_bottom_bar_keeps_whole_words(open_page, demo_company):
    page = open_page(**PHONE)
    log_in(page, "admin@example.com", settings.ACCORD_DEMO_PASSWORD)
    urls = screens()
    problems = []
    admin = User.objects.get(email="admin@example.com")
    for language in ["en", "ru", "he", "hy"]:
        user_update(user=admin, actor=admin, language=language)  # as the profile does
        for url in urls:
            page.goto(url)
            expect(page.locator("html")).to_have_attribute("lang", language)
            # The panels htmx loads into a card (deals, next steps) count too.
            page.wait_for_function("() => !document.querySelector('.htmx-request')")
            seen = page.evaluate(MEASURE)
            where = f"{language} {url}"
            if seen["pageWidth"] > PHONE["width"]:
                problems.append(f"{where}: the page is {seen['pageWidth']} px wide")
            bar = seen["bar"]
            if bar["top"] < 0 or bar["bottom"] > PHONE["height"] or bar["right"] > PHONE["width"]:
                problems.append(f"{where}: the bottom bar is out of sight at {bar}")
            if not 1 <= len(seen["places"]) <= 5:
                problems.append(f"{where}: the bottom bar has {len(seen['places'])} places")
            for place in seen["places"]:
                word, link = place["word"], place["link"]
                inside = word["left"] >= link["left"] - 0.5 and word["right"] <= link["right"] + 0.5
                if place["cut"] or not inside:
                    problems.append(f"{where}: the word {place['text']!r} is cut")
        screenshot(page, f"phone-width-{language}")
    assert problems == []


def test_a_phone_shows_clients_first_and_the_rest_behind_filters_and_more(open_page, demo_company):
    page = open_page(**PHONE)
    log_in(page, "admin@example.com", settings.ACCORD_DEMO_PASSWORD)
    page.goto("/clients/people/")

    owner = page.get_by_role("combobox", name="Owner", exact=True)
    expect(owner).to_be_hidden()
    expect(page.get_by_role("group", name="With the selected rows")).to_be_hidden()
    first_client = page.locator("tbody tr").first
    expect(first_client).to_be_in_viewport()
    filters = page.get_by_role("button", name="Filters")
    expect(filters).to_have_attribute("aria-expanded", "false")

    filters.click()
    expect(filters).to_have_attribute("aria-expanded", "true")
    expect(owner).to_be_visible()
    expect(page.get_by_role("group", name="With the selected rows")).to_be_visible()
    owner.select_option("me")
    page.get_by_role("button", name="Apply", exact=True).click()
    expect(page).to_have_url(re.compile(r"owner=me"))
    expect(page.get_by_role("button", name="Filters")).to_contain_text("1")  # one filter on

    bar = page.get_by_role("navigation", name="Main")
    expect(bar.get_by_role("link", name="Calendar")).to_be_hidden()
    more = bar.locator("summary", has_text="More")
    more.click()
    calendar = bar.get_by_role("menuitem", name="Calendar")
    expect(calendar).to_be_in_viewport()  # the menu opens upward, above the bar
    page.keyboard.press("Escape")
    expect(calendar).to_be_hidden()
    expect(more).to_be_focused()

    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(bar.get_by_role("menuitem", name="Inbox")).to_be_focused()  # the first under More
    page.keyboard.press("Tab")
    expect(calendar).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/calendar/$"))
    expect(bar.locator("summary", has_text="More")).to_have_class(re.compile(r"is-active"))
