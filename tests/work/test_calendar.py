"""The calendar: tasks on their days, whose calendar, a drag to another day, the .ics feed."""

from datetime import datetime, time, timedelta

from django.test import Client
from django.utils import timezone
from icalendar import Calendar

from accord.accounts.services import team_save
from accord.core.services import company_profile_update
from accord.work.models import Task
from accord.work.services import calendar_feed_token, task_create


def at(day, hour=10):
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def test_the_week_shows_each_task_on_its_day_and_a_team_view_shows_colleagues(
    manager_client, owner, admin
):
    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday()) + timedelta(7)
    task_create(actor=owner, data={"title": "Measure the flat", "due_at": at(monday)})
    task_create(actor=admin, data={"title": "Admin's meeting", "due_at": at(monday, 12)})
    week = manager_client.get(f"/calendar/?view=week&date={monday}").content.decode()
    assert "Measure the flat" in week and "Admin&#x27;s meeting" not in week
    assert f'data-date="{monday}"' in week and f'data-date="{monday + timedelta(6)}"' in week
    team_save(actor=admin, name="Sales", head=owner, members=[owner, admin])
    team = manager_client.get(f"/calendar/?view=month&date={monday}&who=team").content.decode()
    assert "Admin&#x27;s meeting" in team
    day = manager_client.get(f"/calendar/?view=day&date={monday + timedelta(1)}").content
    assert b"Measure the flat" not in day


def test_a_drag_to_another_day_keeps_the_time_of_day(manager_client, owner):
    day = timezone.localdate() + timedelta(days=2)
    task = task_create(actor=owner, data={"title": "Call", "due_at": at(day, 15)})
    answer = manager_client.post(f"/tasks/{task.pk}/move/", {"date": str(day + timedelta(3))})
    assert answer.status_code == 200
    task.refresh_from_db()
    assert timezone.localtime(task.due_at) == at(day + timedelta(3), 15)
    bad = manager_client.post(f"/tasks/{task.pk}/move/", {"date": "next week"})
    assert bad.status_code == 400 and Task.objects.get().due_at == task.due_at


def test_the_ics_feed_lists_my_tasks_and_a_new_address_kills_the_old(owner, admin):
    task_create(
        actor=owner,
        data={
            "title": "Call Anna",
            "due_at": timezone.now() + timedelta(1),
            "duration_minutes": 20,
        },
    )
    task_create(actor=admin, data={"title": "Not mine", "due_at": timezone.now() + timedelta(1)})
    token = calendar_feed_token(user=owner)
    feed = Client().get(f"/calendar/feed/{token}.ics")
    assert feed["Content-Type"].startswith("text/calendar")
    events = Calendar.from_ical(feed.content).walk("VEVENT")
    assert [str(e["summary"]) for e in events] == ["Call Anna"]
    start, end = events[0]["dtstart"].dt, events[0]["dtend"].dt
    assert end - start == timedelta(minutes=20)
    renewed = calendar_feed_token(user=owner, renew=True)
    assert Client().get(f"/calendar/feed/{token}.ics").status_code == 404
    assert Client().get(f"/calendar/feed/{renewed}.ics").status_code == 200


def test_the_week_starts_on_the_companys_first_day_else_the_languages(manager_client, admin):
    sunday = timezone.localdate() + timedelta(days=6 - timezone.localdate().weekday())
    week = manager_client.get(f"/calendar/?view=week&date={sunday}").content.decode()
    assert week.index(f'data-date="{sunday - timedelta(6)}"') < week.index(f'data-date="{sunday}"')
    manager_client.post("/i18n/setlang/", {"language": "he"})
    hebrew = manager_client.get(f"/calendar/?view=week&date={sunday}").content.decode()
    assert f'data-date="{sunday - timedelta(6)}"' not in hebrew  # a Hebrew week starts on Sunday
    assert f'data-date="{sunday + timedelta(6)}"' in hebrew

    company_profile_update(actor=admin, week_start=5)  # Saturday
    saturday_first = manager_client.get(f"/calendar/?view=week&date={sunday}").content.decode()
    assert f'data-date="{sunday - timedelta(1)}"' in saturday_first
    assert f'data-date="{sunday + timedelta(6)}"' not in saturday_first
