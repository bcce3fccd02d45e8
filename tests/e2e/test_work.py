"""A manager plans a call from a client's card in one line, finds it on Today, completes it
with the call's result, and sees the call on the client's timeline."""

import pytest
from django.conf import settings
from playwright.sync_api import expect

from accord.accounts import demo
from accord.accounts.models import User
from accord.contacts.services import person_create
from tests.e2e.conftest import screenshot
from tests.e2e.test_login import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def anna(transactional_db):
    demo.populate()
    manager = User.objects.get(email="manager@example.com")
    return person_create(actor=manager, data={"first_name": "Anna", "last_name": "Petrova"})


def test_plan_a_call_on_a_card_complete_it_from_today_and_see_it_on_the_timeline(open_page, anna):
    page = open_page(width=1400)
    log_in(page, "manager@example.com", settings.ACCORD_DEMO_PASSWORD)
    page.goto(f"/clients/people/{anna.pk}/")
    line = page.get_by_role("textbox", name="New task")
    line.fill("Call back tomorrow 10:00")
    line.press("Enter")
    expect(page.locator(".toast")).to_contain_text("Task “Call back” added")
    expect(page.locator(".work-panel")).to_contain_text("Call back")
    screenshot(page, "card-next-steps-en")

    page.get_by_role("link", name="Today").click()
    row = page.locator(".task-row", has_text="Call back")
    expect(row).to_contain_text("Anna Petrova")
    screenshot(page, "today-en")
    row.get_by_role("link", name="Call back").click()
    done = page.locator("form[action$='/complete/']")
    done.get_by_label("What came of it").fill("She wants white frames")
    done.get_by_label("Outcome").select_option(label="Talked")
    done.get_by_label("Duration, min").fill("5")
    done.get_by_role("button", name="Mark done").click()
    expect(page.locator(".toast")).to_contain_text("Done")

    page.goto(f"/clients/people/{anna.pk}/")
    call = page.locator(".timeline-activity").first
    expect(call).to_contain_text("made a call")
    expect(call).to_contain_text("She wants white frames")
    expect(page.locator(".work-panel")).to_contain_text("No open task")


def test_today_on_a_phone_in_hebrew(open_page, anna):
    manager = User.objects.get(email="manager@example.com")
    manager.language = "he"
    manager.save()
    page = open_page(width=390, height=844)
    log_in(page, "manager@example.com", settings.ACCORD_DEMO_PASSWORD)
    line = page.locator("#quick-line")
    line.fill("להתקשר מחר 10:00")
    line.press("Enter")
    expect(page.locator(".task-row")).to_contain_text("להתקשר")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    screenshot(page, "today-phone-he")


def test_a_task_dragged_onto_a_vacation_day_asks_first_and_then_moves(open_page, anna):
    import datetime

    from django.utils import timezone

    from accord.accounts.services import absence_add
    from accord.work.models import Task
    from accord.work.services import task_create

    manager = User.objects.get(email="manager@example.com")
    monday = timezone.localdate() - datetime.timedelta(days=timezone.localdate().weekday())
    tuesday, thursday = monday + datetime.timedelta(days=1), monday + datetime.timedelta(days=3)
    due = timezone.make_aware(datetime.datetime.combine(tuesday, datetime.time(10)))
    task = task_create(
        actor=manager, data={"title": "Measure the windows", "due_at": due}, allow_past=True
    )
    absence_add(actor=manager, user=manager, kind="vacation", starts=thursday, ends=thursday)
    page = open_page(width=1400)
    log_in(page, "manager@example.com", settings.ACCORD_DEMO_PASSWORD)
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.goto(f"/calendar/?view=week&date={monday}")
    page.wait_for_load_state("networkidle")  # SortableJS is set up
    item = page.locator(".calendar-task", has_text="Measure the windows")
    target = page.locator(f".calendar-tasks[data-date='{thursday}']")
    start, end = item.bounding_box(), target.bounding_box()
    page.mouse.move(start["x"] + 10, start["y"] + 8)
    page.mouse.down()
    page.mouse.move(end["x"] + 20, end["y"] + 20, steps=12)
    with page.expect_response(
        lambda r: "/move/" in r.url and "confirm=1" in (r.request.post_data or "")
    ):
        page.mouse.up()
    assert len(asked) == 1 and "is away then (vacation" in asked[0]
    page.reload()
    expect(target).to_contain_text("Measure the windows")
    assert timezone.localtime(Task.objects.get(pk=task.pk).due_at).date() == thursday
