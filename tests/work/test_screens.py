"""The work screens through the test client: Today, quick tasks, completing, logging
activities from a card, the bell, the board's "no next step" flag."""

from datetime import timedelta

from django.utils import timezone

from accord.accounts.services import team_save, user_create
from accord.contacts.services import person_create
from accord.sales.services import deal_create
from accord.work.models import Activity, Notification, Task
from accord.work.scheduler import tick
from accord.work.services import task_create
from tests.conftest import PASSWORD, log_in


def test_today_shows_overdue_and_todays_tasks_deals_without_a_next_step_and_notices(
    manager_client, owner, pipeline
):
    now = timezone.now()
    task_create(
        actor=owner,
        data={"title": "Late call", "due_at": now - timedelta(hours=3)},
        allow_past=True,
    )
    task_create(actor=owner, data={"title": "Next week", "due_at": now + timedelta(days=7)})
    deal_create(actor=owner, data={"title": "Forgotten deal"})
    tick(now)
    page = manager_client.get("/").content.decode()
    assert "Late call" in page and "Next week" in page
    assert "Forgotten deal" in page and "No next step" in page
    assert "“Late call” is overdue" in page


def test_a_head_sees_the_teams_overdue_work_and_each_members_load(owner, admin, client):
    head = user_create(
        email="hugo@example.com", password=PASSWORD, role="head-of-sales", full_name="Hugo Head"
    )
    team_save(actor=admin, name="Retail", head=head, members=[owner, head])
    task_create(
        actor=owner,
        data={"title": "Olivia's late call", "due_at": timezone.now() - timedelta(hours=1)},
        allow_past=True,
    )
    assert log_in(client, head.email)
    page = client.get("/").content.decode()
    assert "Your team" in page and "Olivia Owner" in page and "Olivia&#x27;s late call" in page


def test_a_task_typed_in_one_line_on_a_card_is_linked_to_the_client(manager_client, owner):
    anna = person_create(actor=owner, data={"first_name": "Anna"})
    card = f"/clients/people/{anna.pk}/"
    response = manager_client.post(
        "/tasks/quick/", {"line": "Call back tomorrow 10:00", "person": anna.pk, "next": card}
    )
    assert response["Location"] == card
    task = Task.objects.get()
    local = timezone.localtime(task.due_at)
    assert (task.title, task.kind, task.person, local.hour, local.minute) == (
        "Call back",
        "call",
        anna,
        10,
        0,
    )
    panel = manager_client.get(f"/work/panel/?person={anna.pk}&next={card}").content.decode()
    assert "Call back" in panel
    assert manager_client.post("/tasks/quick/", {"line": "x", "person": 99999}).status_code == 404


def test_an_unsafe_next_address_is_ignored(manager_client):
    response = manager_client.post(
        "/tasks/quick/", {"line": "Call back tomorrow", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/tasks/"


def test_completing_with_a_call_puts_the_call_on_the_clients_timeline(manager_client, owner):
    anna = person_create(actor=owner, data={"first_name": "Anna"})
    task = task_create(
        actor=owner,
        data={
            "title": "Call Anna",
            "kind": "call",
            "person": anna,
            "due_at": timezone.now() + timedelta(hours=1),
        },
    )
    manager_client.post(
        f"/tasks/{task.pk}/complete/",
        {
            "result": "Wants white frames",
            "log_call": "on",
            "direction": "out",
            "outcome": "reached",
            "duration_minutes": "4",
        },
    )
    task.refresh_from_db()
    assert task.status == "done"
    card = manager_client.get(f"/clients/people/{anna.pk}/?kind=activity").content.decode()
    assert "made a call" in card and "Wants white frames" in card and "talked" in card


def test_logging_a_meeting_from_a_card_and_a_bad_one_is_refused(manager_client, owner):
    anna = person_create(actor=owner, data={"first_name": "Anna"})
    manager_client.post(
        "/activities/new/", {"kind": "meeting", "text": "Showroom visit", "person": anna.pk}
    )
    assert Activity.objects.get().kind == "meeting"
    future = (timezone.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = manager_client.post(
        "/activities/new/", {"kind": "call", "occurred_at": future, "person": anna.pk}, follow=True
    )
    assert "cannot happen in the future" in response.content.decode()
    assert Activity.objects.count() == 1


def test_the_past_due_warning_keeps_the_input_and_a_second_save_keeps_the_date(
    manager_client, owner
):
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    data = {
        "title": "Late",
        "kind": "call",
        "due_date": yesterday,
        "due_time": "10:00",
        "assignee": owner.pk,
        "priority": 1,
    }
    first = manager_client.post("/tasks/new/", data).content.decode()
    assert "in the past" in first and 'value="Late"' in first and not Task.objects.exists()
    manager_client.post("/tasks/new/", {**data, "confirm_past": "on"})
    assert Task.objects.get().title == "Late"


def test_the_bell_counts_unread_notifications_and_they_can_be_read(manager_client, owner, admin):
    task_create(
        actor=admin,
        data={
            "title": "For Olivia",
            "assignee": owner,
            "due_at": timezone.now() + timedelta(hours=1),
        },
    )
    bell = manager_client.get("/notifications/bell/").content.decode()
    assert 'class="bell-count">1<' in bell
    page = manager_client.get("/notifications/").content.decode()
    assert "New task for you: “For Olivia”" in page
    manager_client.post("/notifications/read/")
    assert not Notification.objects.filter(read_at=None).exists()
    assert "bell-count" not in manager_client.get("/notifications/bell/").content.decode()


def test_the_board_flags_a_deal_without_a_next_step(manager_client, owner, pipeline):
    planned = deal_create(actor=owner, data={"title": "Planned"})
    deal_create(actor=owner, data={"title": "Adrift"})
    task_create(
        actor=owner,
        data={"title": "Call", "deal": planned, "due_at": timezone.now() + timedelta(hours=1)},
    )
    page = manager_client.get(f"/deals/board/{pipeline.pk}/").content.decode()
    assert page.count("No next step planned") == 1
    adrift = page.index("Adrift")
    assert page.index("No next step planned") > adrift


def test_the_overdue_tab_leaves_out_a_whole_day_task_of_today(manager_client, owner):
    start = timezone.make_aware(
        timezone.datetime.combine(timezone.localdate(), timezone.datetime.min.time())
    )
    task_create(actor=owner, data={"title": "Today, any time", "due_at": start, "all_day": True})
    task_create(
        actor=owner,
        data={"title": "Yesterday's call", "due_at": timezone.now() - timedelta(days=1)},
        allow_past=True,
    )
    page = manager_client.get("/tasks/?view=overdue").content.decode()
    assert "Yesterday&#x27;s call" in page and "Today, any time" not in page


def test_a_planned_task_on_the_timeline_says_when_it_is_due_apart_from_when_it_was_planned(
    manager_client, owner
):
    anna = person_create(actor=owner, data={"first_name": "Anna"})
    due = timezone.now() + timedelta(days=3)
    task_create(actor=owner, data={"title": "Send the offer", "due_at": due, "person": anna})
    card = manager_client.get(f"/clients/people/{anna.pk}/").content.decode()
    planned = card[card.index("planned a task") :]
    planned = planned[: planned.index("</p>")]
    assert "due " in planned and planned.count("<time") == 1


def test_the_task_list_hands_ticked_tasks_to_a_colleague(admin_client, owner, admin):
    soon = timezone.now() + timedelta(days=1)
    moved = [task_create(actor=owner, data={"title": f"Call {n}", "due_at": soon})
             for n in range(2)]  # fmt: skip
    kept = task_create(actor=owner, data={"title": "Keep", "due_at": soon})
    colleague = user_create(email="kim@example.com", password=PASSWORD, role="manager")
    page = admin_client.get("/tasks/", {"view": "team"}).content.decode()
    assert 'form="task-bulk"' in page and 'id="task-bulk"' in page
    ids = [t.pk for t in moved]
    done = admin_client.post(
        "/tasks/bulk/", {"ids": ids, "assignee": colleague.pk, "query": "view=team"}
    )
    assert done["Location"] == "/tasks/?view=team"
    assignees = dict(Task.objects.values_list("title", "assignee"))
    assert assignees == {"Call 0": colleague.pk, "Call 1": colleague.pk, "Keep": owner.pk}
    refused = admin_client.post("/tasks/bulk/", {"ids": [kept.pk]}, follow=True)
    assert "Choose who takes the tasks." in refused.content.decode()


def test_today_is_the_users_today_past_midnight_on_their_clock_not_the_servers(owner):
    """22:30 UTC is 01:30 the next day in Moscow: a task due at 02:00 there is "today"."""
    import datetime
    import zoneinfo

    import time_machine
    from django.utils import translation

    from accord.work.rows import due_text

    moscow = zoneinfo.ZoneInfo("Europe/Moscow")
    with time_machine.travel(datetime.datetime(2026, 12, 5, 22, 30, tzinfo=datetime.UTC)):
        task = Task(due_at=datetime.datetime(2026, 12, 6, 2, 0, tzinfo=moscow), all_day=False)
        with timezone.override(moscow), translation.override("en"):
            assert due_text(task).startswith("today")
