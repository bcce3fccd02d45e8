"""What the worker's scheduler does on each tick (accord.core.periodic): remind assignees
at the lead time they chose, tell them when a task is overdue, escalate it to the head of
their team after the team's grace period (at once when they are away), give waiting
leads to whoever has started work, and send the e-mail copies.

Exactly once, with any number of workers and after any downtime: a task is claimed by
setting its reminded_at / overdue_notified_at / escalated_at in the same transaction
that adds the notification, and a notification's unique key refuses a second copy. A
task overdue for a week gets one notice, not one per missed tick.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone, translation

from accord.accounts.models import Absence, Team
from accord.core.company import zone_of
from accord.core.events import emit
from accord.work.models import Notification, Task
from accord.work.queries import notification_text
from accord.work.services import leads_assign_waiting, tasks_mark

log = logging.getLogger(__name__)
BATCH = 1000
DAY = timedelta(days=1)


def tick(now: datetime) -> dict[str, int]:
    """One pass of every check; answers how many notices of each kind were made."""
    done = {
        "reminders": _claim(
            Q(remind_at__lte=now, reminded_at=None, remind_at__isnull=False),
            "reminded_at",
            now,
            lambda task: [(task.assignee_id, Notification.REMINDER, task.remind_at, {})],
        ),
        "overdue": _claim(
            overdue(now) & Q(overdue_notified_at=None),
            "overdue_notified_at",
            now,
            lambda task: [(task.assignee_id, Notification.OVERDUE, task.due_at, {})],
            event="task.overdue",
        ),
        "escalations": escalate(now),
        "leads": leads_assign_waiting(now),
    }
    if settings.EMAIL_ENABLED:
        done["emails"] = send_emails(now)
    return done


def overdue(now: datetime) -> Q:
    """Open tasks past due: a timed task after its time, a whole-day task after its day."""
    # One range on due_at (an index range), less the whole-day tasks whose day is not over.
    return Q(status=Task.OPEN, due_at__lte=now) & ~Q(all_day=True, due_at__gt=now - DAY)


def escalate(now: datetime) -> int:
    """A member's task past due by the team's grace period goes to the team's head; the
    task of a member who is away today goes to the head as soon as it is overdue."""
    made = 0
    today = timezone.localdate(now)
    away = Exists(
        Absence.objects.filter(user=OuterRef("assignee"), starts__lte=today, ends__gte=today)
    )
    for team in Team.objects.exclude(head=None):
        members = Q(escalated_at=None, assignee__team=team) & ~Q(assignee_id=team.head_id)
        made += _claim(
            overdue(now) & members & Q(away),
            "escalated_at",
            now,
            lambda task, head=team.head_id: [
                (head, Notification.ESCALATION, task.due_at, {"away": True})
            ],
        )
        if team.escalation_minutes is None:
            continue
        late = now - timedelta(minutes=team.escalation_minutes)
        made += _claim(
            overdue(late) & members,
            "escalated_at",
            now,
            lambda task, head=team.head_id: [(head, Notification.ESCALATION, task.due_at, {})],
        )
    return made


def _claim(condition: Q, flag: str, now: datetime, recipients, event: str = "") -> int:
    """Notify about every open task matching `condition`, BATCH at a time, and set `flag`
    on it in the same transaction so no other pass notifies about it again; announce
    `event` for each (once, as the notice)."""
    made = 0
    while True:
        with transaction.atomic():
            candidates = Task.objects.filter(condition, status=Task.OPEN).order_by("due_at", "id")
            if connection.features.has_select_for_update:
                # Wait for a row another worker holds, do not skip it: it may hold it for
                # another notice (a reminder while this is the overdue one), and a skipped
                # row would wait for the next pass. Once free, the row is read again, so a
                # notice the other worker just made is not made twice.
                candidates = candidates.select_for_update(of=("self",))
            tasks = list(candidates.select_related("assignee")[:BATCH])
            if not tasks:
                return made
            tasks_mark(tasks=tasks, flag=flag, at=now)
            notices = [
                Notification(
                    user_id=user_id,
                    kind=kind,
                    key=f"{kind}:{task.pk}:{moment.isoformat()}",
                    task=task,
                    data={"title": task.title, "due_at": task.due_at.isoformat(),
                          "assignee": str(task.assignee), **extra},
                    created_at=now,
                )
                for task in tasks
                for user_id, kind, moment, extra in recipients(task)
            ]  # fmt: skip
            Notification.objects.bulk_create(notices, ignore_conflicts=True)
            made += len(notices)
            for task in tasks if event else []:
                emit(event, task_id=task.pk)
        if len(tasks) < BATCH:
            return made


def send_emails(now: datetime) -> int:
    """E-mail each new reminder, overdue notice and escalation once (claimed per row)."""

    sent = 0
    fresh = Notification.objects.filter(
        emailed_at=None,
        read_at=None,
        created_at__gte=now - DAY,
        kind__in=[Notification.REMINDER, Notification.OVERDUE, Notification.ESCALATION],
    ).select_related("user", "task")
    for notice in fresh[:BATCH]:
        if not Notification.objects.filter(pk=notice.pk, emailed_at=None).update(emailed_at=now):
            continue  # another worker took it
        user = notice.user
        if not user.is_active or not user.email:
            continue
        with (
            translation.override(user.language or settings.LANGUAGE_CODE),
            timezone.override(zone_of(user.time_zone)),
        ):
            text = notification_text(notice)
            try:
                send_mail(text, text, None, [user.email])
                sent += 1
            except OSError as error:  # the mail server is away: try again next tick
                Notification.objects.filter(pk=notice.pk).update(emailed_at=None)
                log.warning("could not e-mail notification %s: %s", notice.pk, error)
    return sent
