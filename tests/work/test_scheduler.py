"""The scheduler with a controlled clock: a reminder at the lead time, the overdue notice,
escalation to the team head after the team's grace period — each exactly once, also with
two workers at the same moment and after a long downtime."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from accord.accounts.services import team_save, user_create
from accord.work.models import Notification, Task
from accord.work.scheduler import tick
from accord.work.services import task_create, task_reschedule
from tests.conftest import PASSWORD

NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def team(admin, owner):
    head = user_create(
        email="hugo@example.com", password=PASSWORD, role="head-of-sales", full_name="Hugo Head"
    )
    team = team_save(actor=admin, name="Retail", head=head, members=[owner, head])
    team.escalation_minutes = 15
    team.save()
    return team


def kinds(user) -> list[str]:
    return sorted(Notification.objects.filter(user=user).values_list("kind", flat=True))


def test_remind_then_overdue_then_escalate_each_once(owner, team):
    with time_machine.travel(NOON - timedelta(hours=2), tick=False):
        task = task_create(
            actor=owner,
            data={"title": "Call back the web request", "due_at": NOON, "remind_minutes": 30},
        )
    tick(NOON - timedelta(minutes=31))
    assert kinds(owner) == []
    tick(NOON - timedelta(minutes=30))
    assert kinds(owner) == ["reminder"]
    tick(NOON - timedelta(minutes=10))
    assert kinds(owner) == ["reminder"]  # not again on the next tick
    tick(NOON + timedelta(minutes=1))
    assert kinds(owner) == ["overdue", "reminder"]
    tick(NOON + timedelta(minutes=14))
    assert kinds(team.head) == []  # the grace period is 15 minutes
    tick(NOON + timedelta(minutes=15))
    tick(NOON + timedelta(minutes=16))
    assert kinds(team.head) == ["escalation"]
    assert kinds(owner) == ["overdue", "reminder"]
    task.refresh_from_db()
    assert task.escalated_at == NOON + timedelta(minutes=15)


def test_after_a_week_of_downtime_one_notice_per_task(owner, team):
    with time_machine.travel(NOON - timedelta(hours=2), tick=False):
        for number in range(3):
            task_create(
                actor=owner, data={"title": f"Task {number}", "due_at": NOON, "remind_minutes": 10}
            )
    tick(NOON + timedelta(days=7))
    tick(NOON + timedelta(days=7, seconds=30))
    assert kinds(owner) == ["overdue"] * 3 + ["reminder"] * 3
    assert kinds(team.head) == ["escalation"] * 3


def test_a_rescheduled_task_is_reminded_again_for_its_new_time(owner, team):
    with time_machine.travel(NOON - timedelta(hours=2), tick=False):
        task = task_create(
            actor=owner, data={"title": "Offer", "due_at": NOON, "remind_minutes": 0}
        )
    tick(NOON + timedelta(minutes=1))
    with time_machine.travel(NOON + timedelta(minutes=2), tick=False):
        task_reschedule(actor=owner, task=task, due_at=NOON + timedelta(days=1))
    tick(NOON + timedelta(minutes=3))
    assert kinds(owner) == ["overdue", "reminder"]
    tick(NOON + timedelta(days=1, minutes=1))
    assert kinds(owner) == ["overdue", "overdue", "reminder", "reminder"]


def test_closed_tasks_and_the_heads_own_tasks_are_not_escalated(owner, team):
    from accord.work.services import task_complete

    with time_machine.travel(NOON - timedelta(hours=2), tick=False):
        done = task_create(actor=owner, data={"title": "Done in time", "due_at": NOON})
        task_create(actor=team.head, data={"title": "The head's own", "due_at": NOON})
        task_complete(actor=owner, task=done, result="Talked")
    tick(NOON + timedelta(hours=1))
    assert kinds(owner) == []
    assert kinds(team.head) == ["overdue"]


def test_a_whole_day_task_is_overdue_only_after_its_day(owner, team):
    with time_machine.travel(NOON - timedelta(hours=2), tick=False):
        task_create(
            actor=owner,
            data={"title": "Send the offer", "all_day": True, "due_at": NOON.replace(hour=0)},
        )
    tick(NOON + timedelta(hours=11))
    assert kinds(owner) == []
    tick(NOON + timedelta(hours=12, minutes=1))
    assert kinds(owner) == ["overdue"]


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_the_same_moment_notify_once(owner, team):
    with time_machine.travel(NOON - timedelta(hours=2), tick=False):
        for number in range(300):
            task_create(
                actor=owner, data={"title": f"Task {number}", "due_at": NOON, "remind_minutes": 5}
            )
    start = threading.Barrier(2)

    def worker():
        start.wait()
        try:
            tick(NOON + timedelta(hours=1))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Notification.objects.filter(kind="reminder").count() == 300
    assert Notification.objects.filter(kind="overdue").count() == 300
    assert Notification.objects.filter(kind="escalation").count() == 300
    assert not Task.objects.filter(escalated_at=None).exists()


def test_reminders_and_escalations_are_emailed_once_in_the_users_language(owner, team, smtp_server):
    type(owner).objects.filter(pk=owner.pk).update(language="ru")  # not save(): keep the team
    with time_machine.travel(NOON - timedelta(hours=2), tick=False):
        task_create(
            actor=owner, data={"title": "Перезвонить Анне", "due_at": NOON, "remind_minutes": 15}
        )
    tick(NOON - timedelta(minutes=15))
    tick(NOON - timedelta(minutes=14))
    assert [m["To"] for m in smtp_server] == [owner.email]
    body = smtp_server[0].get_payload(decode=True).decode()
    assert "Перезвонить Анне" in body and "Пора" in body
    tick(NOON + timedelta(minutes=20))
    assert sorted(m["To"] for m in smtp_server) == sorted(
        [owner.email, owner.email, team.head.email]
    )
