"""Every write of tasks, activities and notifications."""

import secrets
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accord.accounts.models import Team, User
from accord.accounts.queries import absence_covering, local_moment
from accord.contacts.models import Person
from accord.contacts.services import client_contacted, person_hand_over
from accord.core.errors import StaleVersion
from accord.core.events import emit
from accord.core.timeline import field_changes, timeline_record
from accord.core.visibility import NONE, READ, WRITE, allows, effective_level, may_change, may_write
from accord.sales.services import can_change as can_change_deal
from accord.sales.services import deal_update
from accord.work.asks import asked, asks_problems, deal_values, granted, labels
from accord.work.models import Activity, CalendarFeed, LeadAssignment, Notification, Task
from accord.work.queries import lead_candidate
from accord.work.services.activity_days import activity_days_add

RECORD_TYPE = "tasks"
TASK_FIELDS = [
    "title", "kind", "due_at", "all_day", "duration_minutes", "assignee", "person", "company",
    "deal", "priority", "description", "remind_minutes", "asks",
]  # fmt: skip
MAX_TEXT = 10_000
CONTACT_KINDS = {"call", "meeting", "email", "visit"}  # what counts as contact with a client


# --- Permission -----------------------------------------------------------------------


def can_change(actor: User, task: Task) -> bool:
    return may_change(actor, RECORD_TYPE, task.assignee) or (
        task.created_by_id == actor.pk and may_write(actor, RECORD_TYPE)
    )


def require_change(actor: User, task: Task) -> None:
    if not can_change(actor, task):
        raise PermissionDenied(_("You may not change this task."))


def sees(user: User, record) -> bool:
    """Whether `user` may read a linked client or deal."""
    record_type = "deals" if record._meta.model_name == "deal" else "clients"
    owner = record.owner
    return allows(
        user,
        record_type=record_type,
        action=READ,
        owner_id=record.owner_id,
        owner_team_id=owner.team_id if owner else None,
    )


# --- Tasks ---------------------------------------------------------------------------


def clean_task(
    actor: User, data: dict, current: Task | None, *, allow_past: bool, allow_absent: bool = True
) -> dict:
    """Check a task's fields; {field: [messages]} on anything wrong, nothing fixed silently.
    Two are warnings the caller may waive: a due time in the past (code "past") and a due
    day on which the assignee is away (code "absent")."""
    errors: dict[str, list[str]] = {}
    if "title" in data or current is None:
        data["title"] = str(data.get("title") or "").strip()
        if not data["title"]:
            errors["title"] = [_("Say what is to be done.")]
        elif len(data["title"]) > 200:
            errors["title"] = [_("At most %(limit)s characters.") % {"limit": 200}]
    if "kind" in data and data["kind"] not in dict(Task.KINDS):
        errors["kind"] = [_("Choose a kind from the list.")]
    if "priority" in data and data["priority"] not in dict(Task.PRIORITIES):
        errors["priority"] = [_("Choose a priority from the list.")]
    if "all_day" in data and not isinstance(data["all_day"], bool):
        errors["all_day"] = [_("Say yes or no: true or false.")]
    if "description" in data and data["description"] is None:
        data["description"] = ""
    for name in ("description",):
        if len(str(data.get(name) or "")) > MAX_TEXT:
            errors[name] = [_("At most %(limit)s characters.") % {"limit": MAX_TEXT}]
    duration = data.get("duration_minutes")
    if ("duration_minutes" in data and duration is None) or (
        duration is not None and (not isinstance(duration, int) or not 0 <= duration <= 24 * 60)
    ):
        errors["duration_minutes"] = [_("Give the duration in minutes, up to a day.")]
    remind = data.get("remind_minutes")
    if remind is not None and (not isinstance(remind, int) or not 0 <= remind <= 7 * 24 * 60):
        errors["remind_minutes"] = [_("Give the reminder in minutes before, up to a week.")]
    due = data.get("due_at", current.due_at if current else None)
    if not isinstance(due, datetime) or timezone.is_naive(due):
        errors["due_at"] = [_("Give the date and time it is due.")]
    elif (
        "due_at" in data
        and not allow_past
        and due + (timedelta(days=1) if data.get("all_day") else timedelta(0))
        < timezone.now() - timedelta(minutes=1)
        and (current is None or due != current.due_at)
    ):
        errors["due_at"] = [
            ValidationError(_("This is in the past. Save again to keep it anyway."), code="past")
        ]
    assignee = data.get("assignee") or (current.assignee if current else actor)
    data["assignee"] = assignee
    moved = current is None or due != current.due_at or assignee.pk != current.assignee_id
    away = (
        absence_warning(assignee, due)
        if isinstance(due, datetime) and not allow_absent and moved
        else None
    )
    if away and "due_at" not in errors:
        errors["due_at"] = [
            ValidationError(
                _(
                    "%(user)s is away then (%(kind)s, %(starts)s – %(ends)s). "
                    "Save again to keep it anyway."
                )
                % {
                    "user": assignee,
                    "kind": away.get_kind_display().lower(),
                    "starts": date_format(away.starts),
                    "ends": date_format(away.ends),
                },
                code="absent",
            )
        ]
    if not assignee.is_active:
        errors["assignee"] = [_("The assignee must be an active user.")]
    elif assignee.pk != actor.pk and not allows(
        actor,
        record_type=RECORD_TYPE,
        action=WRITE,
        owner_id=assignee.pk,
        owner_team_id=assignee.team_id,
    ):
        errors["assignee"] = [_("You may not give tasks to this person.")]
    if "asks" in data:
        data["asks"] = [] if data["asks"] is None else data["asks"]
        if problems := asks_problems(data["asks"]):
            errors["asks"] = problems
    _check_asks(actor, data, current, errors)
    for name in ("person", "company", "deal"):
        record = data.get(name, getattr(current, name) if current else None)
        if record is None:
            continue
        if not sees(actor, record):
            errors[name] = [_("You cannot see this record.")]
        elif not sees(assignee, record):
            errors[name] = [
                _("%(user)s cannot see %(record)s: choose someone who can, or change its owner.")
                % {"user": assignee, "record": record}
            ]
    if errors:
        raise ValidationError(errors)
    return data


def _check_asks(actor: User, data: dict, current: Task | None, errors: dict) -> None:
    """A task asks for fields of its deal only; and whoever makes it ask (or moves an
    asking task to another deal) may change that deal: the task hands its completer a
    right its author holds, never one the author lacks."""
    asks = data.get("asks", current.asks if current else [])
    deal = data.get("deal", current.deal if current else None)
    if not asks or "asks" in errors:
        return
    if deal is None:
        errors["asks"] = [_("Only a task about a deal asks for its fields: choose the deal.")]
        return
    granting = current is None or asks != current.asks or deal.pk != current.deal_id
    if granting and not can_change_deal(actor, deal):
        errors["asks"] = [
            _("Only someone who may change the deal makes a task ask for its fields.")
        ]


def schedule_notices(task: Task) -> None:
    """Set when to remind, and clear what was sent for an earlier due time."""
    task.remind_at = (
        task.due_at - timedelta(minutes=task.remind_minutes)
        if task.remind_minutes is not None
        else None
    )
    task.reminded_at = task.overdue_notified_at = task.escalated_at = None


def subjects(task_or_activity) -> list:
    """The records on whose timeline a task or an activity shows."""
    return [
        r for r in (task_or_activity.person, task_or_activity.company, task_or_activity.deal) if r
    ]


@transaction.atomic
def task_create(
    *, actor: User, data: dict, allow_past: bool = False, allow_absent: bool = False
) -> Task:
    """A new open task; the assignee (the actor unless named) is told when it is not them."""
    if effective_level(actor, RECORD_TYPE, WRITE) == NONE:
        raise PermissionDenied(_("Your role does not allow creating tasks."))
    data = clean_task(actor, dict(data), None, allow_past=allow_past, allow_absent=allow_absent)
    task = Task(created_by=actor, **{k: data[k] for k in TASK_FIELDS if data.get(k) is not None})
    schedule_notices(task)
    task.save()
    timeline_record(subject=task, kind="created", actor=actor)
    for subject in subjects(task):
        timeline_record(subject=subject, kind="task_added", actor=actor, data=task_summary(task))
    if task.assignee_id != actor.pk:
        notify(task.assignee, Notification.ASSIGNED, f"assigned:{task.pk}:{task.version}", task)
    emit("task.created", task_id=task.pk, actor_id=actor.pk)
    return task


def task_summary(task: Task) -> dict:
    return {"task_id": task.pk, "title": task.title, "due_at": task.due_at.isoformat()}


@transaction.atomic
def task_update(
    *,
    actor: User,
    task: Task,
    data: dict,
    version: int | None = None,
    allow_past: bool = False,
    allow_absent: bool = False,
) -> Task:
    """Change a task (not its status: see task_complete, task_cancel, task_reopen)."""
    task = Task.objects.select_for_update().select_related("assignee").get(pk=task.pk)
    require_change(actor, task)
    if version is not None and version != task.version:
        raise StaleVersion(task.version)
    before = snapshot(task)
    data = clean_task(actor, dict(data), task, allow_past=allow_past, allow_absent=allow_absent)
    for name in TASK_FIELDS:
        if name in data:
            setattr(task, name, data[name])
    if before["due_at"] != task.due_at or before["remind_minutes"] != task.remind_minutes:
        schedule_notices(task)
    task.version += 1
    task.save()
    changes = field_changes(before, snapshot(task), sorted(before))
    if changes:
        timeline_record(subject=task, kind="changed", actor=actor, data={"changes": changes})
    if before["assignee"] != str(task.assignee) and task.assignee_id != actor.pk:
        notify(task.assignee, Notification.ASSIGNED, f"assigned:{task.pk}:{task.version}", task)
    emit(
        "task.updated",
        task_id=task.pk,
        actor_id=actor.pk,
        fields=[change["field"] for change in changes],
        changes=changes,
    )
    return task


@transaction.atomic
def tasks_bulk_assign(*, actor: User, tasks: list[Task], assignee: User | None) -> int:
    """Hand the selected tasks to one colleague, all or none; a task due on one of their
    days off moves too (the list asked once, on the button)."""
    if assignee is None:
        raise ValidationError({"assignee": [_("Choose who takes the tasks.")]})
    for task in tasks:
        task_update(actor=actor, task=task, data={"assignee": assignee},
                    allow_past=True, allow_absent=True)  # fmt: skip
    return len(tasks)


def task_reschedule(*, actor: User, task: Task, due_at: datetime, **options) -> Task:
    return task_update(actor=actor, task=task, data={"due_at": due_at}, **options)


def snapshot(task: Task) -> dict:
    values = {name: getattr(task, name) for name in TASK_FIELDS}
    for name in ("assignee", "person", "company", "deal"):
        values[name] = str(values[name]) if values[name] else None
    values["asks"] = labels(task.asks)  # the timeline shows what a person reads
    return values


@transaction.atomic
def task_complete(
    *,
    actor: User,
    task: Task,
    result: str = "",
    call: dict | None = None,
    fields: dict | None = None,
) -> Task:
    """Mark a task done with what came of it; `call` ({direction, outcome, duration_minutes})
    also logs the call on the client's timeline in the same step. A task that asks for its
    deal's fields takes them in `fields` ({"custom_fields.sizes": "1200×1400"}): all of
    them, written onto the deal as the completer (whom the task lets set them)."""
    task = (
        Task.objects.select_for_update(of=("self",))
        .select_related("assignee", "deal")
        .get(pk=task.pk)
    )
    require_change(actor, task)
    if task.status != Task.OPEN:
        raise ValidationError({"status": [_("This task is already closed.")]})
    result = (result or "").strip()
    if len(result) > MAX_TEXT:
        raise ValidationError(
            {"result": [_("At most %(limit)s characters.") % {"limit": MAX_TEXT}]}
        )
    fill = asked(task)
    if fill:
        deal_update(actor=actor, deal=task.deal, data=deal_values(fill, fields),
                    granted=granted(fill))  # fmt: skip
    elif fields:
        raise ValidationError({"fields": [_("This task asks for none of its deal's fields.")]})
    task.status, task.result, task.completed_at = Task.DONE, result, timezone.now()
    task.version += 1
    task.save()
    timeline_record(subject=task, kind="done", actor=actor, data={"result": result})
    if call is not None:
        activity_log(
            actor=actor,
            data={
                **call,
                "kind": task.kind if task.kind in CONTACT_KINDS else "call",
                "text": result,
                "person": task.person,
                "company": task.company,
                "deal": task.deal,
                "task": task,
            },
        )
    else:
        for subject in subjects(task):
            timeline_record(
                subject=subject,
                kind="task_done",
                actor=actor,
                data={**task_summary(task), "result": result},
            )
    emit("task.completed", task_id=task.pk, actor_id=actor.pk)
    return task


@transaction.atomic
def task_cancel(*, actor: User, task: Task) -> Task:
    return _close(actor, task, Task.CANCELLED, "cancelled")


@transaction.atomic
def task_reopen(*, actor: User, task: Task) -> Task:
    return _close(actor, task, Task.OPEN, "reopened")


def _close(actor: User, task: Task, status: str, kind: str) -> Task:
    task = Task.objects.select_for_update().select_related("assignee").get(pk=task.pk)
    require_change(actor, task)
    if (status == Task.OPEN) == (task.status == Task.OPEN):
        state = task.get_status_display().lower()
        raise ValidationError(
            {"status": [_("The task is already %(status)s.") % {"status": state}]}
        )
    task.status = status
    task.completed_at = None
    if status == Task.OPEN:
        schedule_notices(task)
    task.version += 1
    task.save()
    timeline_record(subject=task, kind=kind, actor=actor)
    emit(f"task.{kind}", task_id=task.pk, actor_id=actor.pk)
    return task


# --- Activities ----------------------------------------------------------------------


@transaction.atomic
def activity_log(*, actor: User, data: dict) -> Activity:
    """Record a call, meeting, e-mail, visit or note on its client's and deal's timelines."""
    if effective_level(actor, "activities", WRITE) == NONE:
        raise PermissionDenied(_("Your role does not allow logging activities."))
    errors: dict[str, list[str]] = {}
    kind = data.get("kind")
    if kind not in dict(Activity.KINDS):
        errors["kind"] = [_("Choose a kind from the list.")]
    if data.get("direction", "") not in ("", *dict(Activity.DIRECTIONS)):
        errors["direction"] = [_("Choose a direction from the list.")]
    if data.get("outcome", "") not in ("", *dict(Activity.OUTCOMES)):
        errors["outcome"] = [_("Choose an outcome from the list.")]
    duration = data.get("duration_minutes") or 0
    if not isinstance(duration, int) or not 0 <= duration <= 24 * 60:
        errors["duration_minutes"] = [_("Give the duration in minutes, up to a day.")]
    text = str(data.get("text") or "").strip()
    if len(text) > MAX_TEXT:
        errors["text"] = [_("At most %(limit)s characters.") % {"limit": MAX_TEXT}]
    if kind == "note" and not text:
        errors["text"] = [_("Write the note.")]
    occurred_at = data.get("occurred_at") or timezone.now()
    if occurred_at > timezone.now() + timedelta(minutes=5):
        errors["occurred_at"] = [_("An activity cannot happen in the future: plan a task.")]
    links = {name: data.get(name) for name in ("person", "company", "deal")}
    if not any(links.values()):
        errors["person"] = [_("Choose the client or deal this was about.")]
    for name, record in links.items():
        if record is not None and not sees(actor, record):
            errors[name] = [_("You cannot see this record.")]
    if errors:
        raise ValidationError(errors)
    activity = Activity.objects.create(
        kind=kind,
        direction=data.get("direction", ""),
        outcome=data.get("outcome", ""),
        duration_minutes=duration,
        text=text,
        occurred_at=occurred_at,
        actor=actor,
        task=data.get("task"),
        **links,
    )
    summary = {
        "activity_id": activity.pk,
        "kind": kind,
        "direction": activity.direction,
        "outcome": activity.outcome,
        "duration_minutes": duration,
        "text": text,
    }
    for subject in subjects(activity):
        timeline_record(
            subject=subject, kind="activity", actor=actor, data=summary, occurred_at=occurred_at
        )
        if kind in CONTACT_KINDS and subject._meta.model_name in ("person", "company"):
            client_contacted(record=subject, at=occurred_at)
    activity_days_add(activity)  # the reports' counts
    emit("activity.logged", activity_id=activity.pk, actor_id=actor.pk)
    return activity


# --- Notifications ---------------------------------------------------------------------


def notify(
    user: User, kind: str, key: str, task: Task | None = None, person=None, person_id=None, **data
) -> bool:
    """Tell `user` something once: a second call with the same key adds nothing."""
    if task is not None:
        data = {"title": task.title, "due_at": task.due_at.isoformat(),
                "assignee": str(task.assignee), **data}  # fmt: skip
    created = Notification.objects.bulk_create(
        [Notification(user=user, kind=kind, key=key, task=task, person=person, data=data,
                      person_id=person.pk if person else person_id, created_at=timezone.now())],
        ignore_conflicts=True,
    )  # fmt: skip
    return bool(created)


@transaction.atomic
def notifications_read(*, user: User, ids: list[int] | None = None) -> int:
    """Mark the user's notifications read (these ids, or all); answers how many changed."""
    mine = Notification.objects.filter(user=user, read_at=None)
    if ids is not None:
        mine = mine.filter(pk__in=ids)
    return mine.update(read_at=timezone.now())


# --- Calendar feed ----------------------------------------------------------------------


@transaction.atomic
def calendar_feed_token(*, user: User, renew: bool = False) -> str:
    """The user's secret .ics address token; `renew` replaces it (the old link dies)."""

    feed = CalendarFeed.objects.select_for_update().filter(user=user).first()
    if feed is None:
        feed = CalendarFeed.objects.create(user=user, token=secrets.token_urlsafe(32))
    elif renew:
        feed.token = secrets.token_urlsafe(32)
        feed.created_at = timezone.now()
        feed.save()
    return feed.token


def absence_warning(assignee: User, due: datetime):
    """The absence of `assignee` covering the day a task is due, if any."""

    return absence_covering(assignee, local_moment(assignee, due).date())


# --- Lead distribution ------------------------------------------------------------------


@transaction.atomic
def lead_distribute(*, person, team, now: datetime | None = None):
    """Hand a new lead to `team`: its rule picks a member at work now, or the lead waits
    for the first one to start work (the scheduler's `leads_assign_waiting`)."""

    if not team.lead_rule:
        raise ValidationError(
            {"owner": [_("%(team)s does not distribute leads: choose its rule in Settings, Teams.")
                       % {"team": team}]}
        )  # fmt: skip
    now = now or timezone.now()
    team = Team.objects.select_for_update().get(pk=team.pk)  # one choice at a time per team
    assignment = LeadAssignment.objects.create(
        person=person, team=team, rule=team.lead_rule, received_at=now
    )
    _assign(assignment, team, now)
    return assignment


def leads_assign_waiting(now: datetime) -> int:
    """Give each waiting lead to a member of its team who is now at work, oldest first;
    answers how many found an owner. Safe with several workers (rows are claimed)."""

    assigned, nobody = 0, set()
    while True:
        with transaction.atomic():
            waiting = LeadAssignment.objects.filter(assigned_at=None).exclude(team__in=nobody)
            if connection.features.has_select_for_update_skip_locked:
                waiting = waiting.select_for_update(skip_locked=True)
            batch = list(waiting.order_by("received_at", "id")[:100])
            taken = dict(
                Person.objects.filter(
                    pk__in=[a.person_id for a in batch], owner__isnull=False
                ).values_list("pk", "owner")
            )
            for assignment in batch:
                if assignment.person_id in taken:  # someone gave it an owner meanwhile
                    assignment.user_id, assignment.assigned_at = taken[assignment.person_id], now
                    assignment.save(update_fields=["user", "assigned_at"])
                    continue
                if assignment.team_id in nobody:
                    continue
                team = Team.objects.select_for_update().get(pk=assignment.team_id)
                if _assign(assignment, team, now):
                    assigned += 1
                else:
                    nobody.add(team.pk)
        if len(batch) < 100:
            return assigned


def _assign(assignment, team, now: datetime) -> bool:
    user = lead_candidate(team, now)
    if user is None:
        return False
    assignment.user, assignment.assigned_at = user, now
    assignment.save(update_fields=["user", "assigned_at"])
    person = person_hand_over(person_id=assignment.person_id, owner=user, at=now)
    timeline_record(
        subject=person,
        kind="assigned",
        data={
            "user": str(user),
            "team": team.name,
            "rule": assignment.rule,
            "waited_minutes": int((now - assignment.received_at).total_seconds() // 60),
        },
        occurred_at=now,
    )
    notify(user, Notification.LEAD, f"lead:{assignment.pk}", person=person, name=str(person))
    emit("person.assigned", person_id=person.pk, user_id=user.pk, team_id=team.pk)
    return True


@transaction.atomic
def tasks_mark(*, tasks: list[Task], flag: str, at: datetime) -> int:
    """Set a notice's flag (`reminded_at`, `overdue_notified_at` ...) on tasks the
    scheduler has claimed, so no other pass notifies about them again."""
    return Task.objects.filter(pk__in=[task.pk for task in tasks]).update(**{flag: at})


# The hand-over calls the task services above: imported last, it finds them defined.
from accord.work.services.handover import (  # noqa: E402, F401
    HandOver,
    hand_over_plan,
    work_hand_over,
)
