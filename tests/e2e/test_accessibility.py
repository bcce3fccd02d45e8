"""axe-core (from the npm registry) over every main screen: no critical and no serious
WCAG 2.2 AA violation, in English and Hebrew, at desktop and phone width."""

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import expect

from accord.automation.models import Rule
from accord.contacts.models import Company, Person
from accord.sales.models import Deal

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SCREENS = ["/", "/clients/people/", "/clients/companies/", "/deals/list/", "/tasks/",
           "/calendar/", "/reports/", "/reports/r/sales/", "/settings/users/", "/settings/company/",
           "/settings/pipelines/", "/settings/automation/", "/settings/automation/new",
           "/profile/", "/clients/import/", "/search/?q=an", "/notifications/"]  # fmt: skip


@pytest.fixture
def demo_company(transactional_db):
    call_command("demo", stdout=io.StringIO())


def violations(page, within: str | None = None) -> list[str]:
    """The serious and critical problems axe finds on the page (or in the part `within`
    names: an open menu, say)."""
    page.evaluate(AXE.read_text())  # through DevTools: the page's CSP forbids inline scripts
    found = page.evaluate(
        "async ([tags, within]) => (await axe.run(within || document,"
        " {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))",
        [TAGS, within],
    )
    return [f"{v['impact']}: {v['id']} ({v['help']}) at {v['nodes']}" for v in found
            if v["impact"] in ("critical", "serious")]  # fmt: skip


@pytest.mark.parametrize(("locale", "width"), [("en-US", 1280), ("he-IL", 375)])
def test_no_screen_has_a_serious_accessibility_problem(open_page, demo_company, locale, width):
    page = open_page(width=width, height=800, locale=locale)
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    page.goto("/login/")  # in any language: the fields by their names
    page.locator("input[name=username]").fill("admin@example.com")
    page.locator("input[name=password]").fill(settings.ACCORD_DEMO_PASSWORD)
    page.locator("button.button-primary[type=submit]").click()
    page.wait_for_url("**/")
    screens = [*SCREENS, f"/clients/people/{Person.objects.order_by('pk').first().pk}/",
               f"/clients/companies/{Company.objects.order_by('pk').first().pk}/",
               "/deals/",  # the board of the user's pipeline
               f"/deals/{Deal.objects.order_by('pk').first().pk}/",
               f"/settings/automation/{Rule.objects.order_by('pk').first().pk}/",
               f"/settings/automation/{Rule.objects.order_by('pk').first().pk}/edit"]  # fmt: skip
    problems = {}
    for url in screens:
        page.goto(url)
        page.wait_for_load_state("networkidle")
        found = violations(page)
        if found:
            problems[url] = found
    assert missing == []
    assert problems == {}, "\n".join(f"{url}: {p}" for url, ps in problems.items() for p in ps)


def test_menus_and_search_results_move_with_the_arrow_keys(open_page, demo_company):
    page = open_page(width=1280)
    page.goto("/login/")
    page.locator("input[name=username]").fill("manager@example.com")
    page.locator("input[name=password]").fill(settings.ACCORD_DEMO_PASSWORD)
    page.locator("button.button-primary[type=submit]").click()
    page.wait_for_url("**/")
    new = page.locator(".new-menu summary")
    new.focus()
    page.keyboard.press("ArrowDown")
    items = page.locator(".new-menu [role=menuitem]")
    expect(items.first).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(items.nth(1)).to_be_focused()
    page.keyboard.press("End")
    expect(items.last).to_be_focused()
    page.keyboard.press("Escape")
    expect(new).to_be_focused()

    search = page.get_by_role("searchbox", name="Search everything")
    search.fill("an")
    results = page.locator("#search-popup a")
    expect(results.first).to_be_visible()
    search.press("ArrowDown")
    expect(results.first).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(results.nth(1)).to_be_focused()
