"""An administrator builds a small rule on the screen — when a deal is created, a call
task for its owner in 10 minutes, and a note to the owner if it is big — then a deal
comes in and the rule's page and the deal show what the rule did."""

import pytest
from django.conf import settings
from playwright.sync_api import expect

from accord.accounts import demo
from accord.accounts.models import User
from accord.sales.services import deal_create
from accord.work.models import Task
from tests.e2e.conftest import screenshot
from tests.e2e.test_accessibility import violations
from tests.e2e.test_login import log_in

pytestmark = pytest.mark.browser


def test_a_rule_built_on_the_screen_fires_on_a_new_deal(open_page, transactional_db):
    demo.populate()
    page = open_page(width=1400, height=900)
    log_in(page, "admin@example.com", settings.ACCORD_DEMO_PASSWORD)
    page.goto("/settings/automation/")
    page.get_by_role("link", name="New rule").click()
    page.get_by_label("Name").fill("Call new deals")
    page.get_by_role("button", name="Add a condition").click()
    page.locator("select[name=c-0-field]").select_option("deal.amount")
    page.locator("select[name=c-0-op]").select_option("gte")
    page.locator("input[name=c-0-value]").fill("1000")
    step = page.locator("[data-step]").first
    expect(step.locator("input[name=s-0-message]")).to_be_hidden()  # a task's inputs only
    step.locator("input[name=s-0-title]").fill("Call about {{ deal.title }}")
    step.locator("input[name=s-0-amount]").fill("10")
    step.locator("select[name=s-0-unit]").select_option("minutes")
    page.get_by_role("button", name="Add a step").click()
    second = page.locator("[data-step]").nth(1)
    second.locator("select[name=s-1-type]").select_option("notify")
    expect(second.locator("textarea[name=s-1-message]")).to_be_visible()
    second.locator("textarea[name=s-1-message]").fill("{{ deal.title }} is worth {{ deal.amount }}")
    screenshot(page, "automation-rule-form-en")
    page.get_by_role("button", name="Save the rule").click()

    expect(page.locator(".toast")).to_contain_text("The rule is saved.")
    expect(page.locator(".rule-steps")).to_contain_text(
        "Create the task “Call about {{ deal.title }}”"
    )
    owner = User.objects.get(email="manager@example.com")
    deal_create(actor=owner, data={"title": "Winter garden", "amount": "4200"})
    deal_create(actor=owner, data={"title": "One window", "amount": "300"})

    page.reload()
    runs = page.locator(".run-row")
    expect(runs).to_have_count(1)
    expect(runs.first).to_contain_text("Winter garden")
    runs.first.locator("summary").click()
    expect(runs.first).to_contain_text("Task “Call about Winter garden” created for")
    screenshot(page, "automation-rule-runs-en")
    task = Task.objects.get(title="Call about Winter garden")
    assert task.assignee == owner
    page.goto(f"/deals/{task.deal_id}/")
    expect(page.locator(".timeline")).to_contain_text("Automation · Call new deals")


def test_a_rule_the_web_site_calls_is_built_on_the_screen_and_makes_a_client_and_deal(
    open_page, transactional_db
):
    import json
    import urllib.request

    from accord.contacts.models import Person
    from accord.sales.models import Deal

    demo.populate()
    page = open_page(width=1400, height=900)
    log_in(page, "admin@example.com", settings.ACCORD_DEMO_PASSWORD)
    page.goto("/settings/automation/new")
    page.get_by_label("Name").fill("Requests from the web site")
    page.locator("select[name=subject]").select_option("person")
    page.wait_for_load_state()
    page.locator("select[name=trigger]").select_option("webhook")
    page.wait_for_load_state()
    page.get_by_label("A new client when nobody has the e-mail or phone sent").check()
    step = page.locator("[data-step]").first
    step.locator("select[name=s-0-type]").select_option("create_deal")
    expect(step.locator("input[name=s-0-deal_amount]")).to_be_visible()
    expect(step.locator("select[name=s-0-kind]")).to_be_hidden()  # a task's, not a deal's
    step.locator("input[name=s-0-title]").fill("Windows for {{ person.name }}")
    step.locator("input[name=s-0-deal_amount]").fill("1500")
    page.get_by_role("button", name="Save the rule").click()
    expect(page.locator(".toast")).to_contain_text("The rule is saved.")
    address = page.locator("#hook-url").input_value()
    screenshot(page, "automation-webhook-rule-en")

    request = urllib.request.Request(  # noqa: S310 (the live test server's address)
        address,
        data=json.dumps({"name": "Lusine Hakobyan", "email": "lusine@example.am"}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as answer:  # noqa: S310
        assert answer.status == 202
    lusine = Person.objects.get(primary_email="lusine@example.am")
    deal = Deal.objects.get(person=lusine)
    assert (deal.title, deal.amount) == ("Windows for Lusine Hakobyan", 1500)
    page.reload()
    expect(page.locator(".run-row").first).to_contain_text("Lusine Hakobyan")


def test_a_rule_is_built_from_pickers_and_menus_and_tried_on_a_deal_found_by_search(
    open_page, transactional_db
):
    """On a fresh instance: the owner's e-mail offered by name, a user picked by name, the
    record's fields put into the title from the "Insert a field" menu (by keyboard and by
    mouse), and the dry run on a deal found by typing a word of its title."""
    from accord.accounts.services import user_create
    from accord.automation.models import Rule, Run
    from accord.contacts.services import person_create
    from accord.core.services import custom_field_save
    from tests.conftest import PASSWORD

    ada = user_create(email="ada@example.com", password=PASSWORD, role="administrator",
                      full_name="Ada Admin")  # fmt: skip
    olivia = user_create(email="olivia@example.com", password=PASSWORD, role="manager",
                         full_name="Olivia Owner")  # fmt: skip
    anna = person_create(actor=olivia, data={"first_name": "Anna", "last_name": "Petrova"})
    deal_create(actor=olivia, data={"title": "Winter garden", "person": anna})
    deal_create(actor=olivia, data={"title": "Balcony", "person": anna})
    size = custom_field_save(actor=ada, record_type="deal", label="Window size", type="choice",
                             choices=["Small", "Large"])  # fmt: skip

    page = open_page(width=1280, height=900)
    log_in(page, "ada@example.com", PASSWORD)
    page.goto("/settings/automation/new")
    page.get_by_label("Name").fill("Olivia's deals: a call")
    page.get_by_role("button", name="Add a condition").click()
    page.locator("select[name=c-0-field]").select_option(label="Deal · Owner (e-mail)")
    value = page.locator("#c-0-value")
    expect(value).to_have_attribute("list", "values-users")  # her e-mail offered by her name
    offered = page.locator("#values-users option[label='Olivia Owner']")
    value.fill(offered.get_attribute("value"))

    title = page.locator("#s-0-title")
    title.fill("Call ")
    menu = page.locator("[data-merge-menu='s-0-title']")
    menu.locator("summary").focus()
    page.keyboard.press("ArrowDown")  # opens the menu at its first item: the deal's title
    expect(menu.get_by_role("menuitem", name="Title")).to_be_focused()
    page.keyboard.press("Enter")
    expect(title).to_be_focused()
    page.keyboard.type(" for ")
    menu.locator("summary").click()
    menu.get_by_role("menuitem", name="First name").click()
    expect(title).to_have_value("Call {{ deal.title }} for {{ client.first_name }}")
    page.locator("#s-0-who").select_option("user")
    page.locator("#s-0-who_user").select_option(label="Olivia Owner")
    page.get_by_role("button", name="Add a step").click()
    page.locator("select[name=s-1-type]").select_option("change_field")
    page.locator("#s-1-field").select_option(label="Window size")  # a custom field, by label
    expect(page.locator("#s-1-value")).to_have_attribute("list", f"values-custom-{size.pk}")
    page.locator("#s-1-field").select_option(label="Source")
    expect(page.locator("#s-1-value")).not_to_have_attribute("list", f"values-custom-{size.pk}")
    page.locator("#s-1-value").fill("{{ deal.source }}")
    page.get_by_role("button", name="Save the rule").click()

    expect(page.locator(".toast")).to_contain_text("The rule is saved.")
    rule = Rule.objects.get()
    assert rule.conditions["items"] == [
        {"field": "deal.owner", "op": "eq", "value": "olivia@example.com"}
    ]
    assert rule.actions[0]["params"]["assignee"] == {"to": "user", "user": "olivia@example.com"}
    expect(page.locator(".rule-steps")).to_contain_text(
        "Create the task “Call {{ deal.title }} for {{ client.first_name }}” for Olivia Owner"
    )
    page.get_by_label("Find the record").fill("winter")
    expect(page.locator("#test-record option:checked")).to_have_text("Winter garden · Anna Petrova")
    page.get_by_role("button", name="Dry run").click()
    expect(page.locator(".toast")).to_contain_text("Test run done")
    run = page.locator(".run-row").first
    expect(run).to_contain_text("Winter garden")
    run.locator("summary").click()
    expect(run).to_contain_text("Would create the task “Call Winter garden for Anna” for Olivia")
    assert Run.objects.get().dry_run
    screenshot(page, "automation-rule-test-en")

    for width in (375, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(f"/settings/automation/{rule.pk}/edit")
        assert violations(page) == []  # the pickers and menus: nothing serious for axe
        page.locator("[data-merge-menu='s-0-title'] summary").click()
        assert violations(page, within="[data-merge-menu='s-0-title']") == []  # open, too
        screenshot(page, f"automation-rule-editor-{width}-en")
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways
