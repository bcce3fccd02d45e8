"""Reads of tasks, activities and notifications, scoped to what the user may see."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from statistics import median

from django.db.models import (
    Case,
    Count,
    Exists,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from accord.accounts.models import Team, User
from accord.accounts.queries import (
    absence_on,
    absences_around,
    at_work,
    local_moment,
    people_in_reach,
)
from accord.contacts.models import Person
from accord.core.company import company_date
from accord.core.formats import days_since_week_start, short_datetime
from accord.core.visibility import READ, scope
from accord.sales.models import Deal, DealDay
from accord.sales.queries import deals_visible_to, mark_next_steps
from accord.work.models import Activity, ActivityDay, LeadAssignment, Notification, Task

RECORD_TYPE = "tasks"
TODAY_LIMIT = 50
TEAM_OVERDUE_SHOWN = 20  # the oldest first; the task list has the rest


def tasks_visible_to(user, action: str = READ) -> QuerySet[Task]:
    return scope(
        Task.objects.select_related("assignee", "person", "company", "deal"),
        user=user,
        record_type=RECORD_TYPE,
        action=action,
        owner_field="assignee",
    )


def search_tasks(user, query: str, limit: int = 20) -> list[Task]:
    """The tasks `user` may see whose title holds every word typed, open ones first, the
    latest due first (a picker's answer)."""
    tasks = tasks_visible_to(user)
    for word in query.split()[:5]:
        tasks = tasks.filter(title__icontains=word)
    open_first = Case(When(status=Task.OPEN, then=Value(0)), default=Value(1))
    return list(tasks.order_by(open_first, "-due_at")[:limit])


def activity_days_visible_to(user, since: date, until: date) -> QuerySet[ActivityDay]:
    """The daily counts of the activities the user may see (theirs, their team's or
    everyone's: an activity is its author's), from `since` to `until` (company dates)."""
    days = ActivityDay.objects.filter(day__gte=since, day__lte=until)
    return scope(days, user=user, record_type="activities", owner_field="actor")


def activities_visible_to(user) -> QuerySet[Activity]:
    return scope(
        Activity.objects.select_related("actor", "person", "company", "deal"),
        user=user,
        record_type="activities",
        owner_field="actor",
    )


def open_task_exists(field: str = "deal") -> Exists:
    """For annotating deals (or clients): whether an open task is planned on them."""
    return Exists(Task.objects.filter(**{field: OuterRef("pk")}, status=Task.OPEN))


def overdue_at(now: datetime, start_of_day: datetime) -> Q:
    """Past due at `now`: a timed task after its time, a whole-day task after its day.
    Written as one range on due_at (an index range) less today's whole-day tasks."""
    return Q(due_at__lt=now) & ~Q(all_day=True, due_at__gte=start_of_day)


def day_bounds(now: datetime) -> tuple[datetime, datetime]:
    """The start of today and of tomorrow in the active (the user's) time zone."""
    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


@dataclass
class MemberLoad:
    user: object
    open: int
    overdue: int
    today: int
    away: object = None  # the absence covering today, if any


def today_for(user, now: datetime | None = None) -> dict:
    """What the Today screen shows the user: their overdue and today's tasks, the next ones,
    their deals needing attention, their notifications; for a team head, the team."""

    now = now or timezone.now()
    start, end = day_bounds(now)
    mine = tasks_visible_to(user).filter(assignee=user, status=Task.OPEN).order_by("due_at", "id")
    late = overdue_at(now, start)
    overdue = list(mine.filter(late)[:TODAY_LIMIT])
    today = list(mine.filter(~late, due_at__lt=end)[:TODAY_LIMIT])
    upcoming = list(mine.filter(due_at__gte=end)[:5])
    attention = deals_needing_attention(deals_visible_to(user).filter(owner=user), now)
    context = {
        "overdue": overdue,
        "today": today,
        "upcoming": upcoming,
        "attention": attention,
        "notifications": list(
            Notification.objects.filter(user=user)
            .select_related("task")
            .order_by("-created_at", "-id")[:10]
        ),
        "team": None,
    }
    if user.is_team_head:
        context["team"] = team_overview(user, now, start, end)
    return context


ATTENTION_SHOWN, ATTENTION_READ = 20, 1000
# What Today shows of such a deal: its title, stage, person and days in the stage.
ATTENTION_FIELDS = ["id", "title", "stage_entered_at", "stage__name", "stage__rotting_days",
                    "person__first_name", "person__last_name", "person__middle_name",
                    "person__full_name"]  # fmt: skip


def deals_needing_attention(deals: QuerySet, now: datetime) -> list:
    """The oldest open deals that are rotting in their stage or have no next step planned,
    read fifty at a time (the next steps of each fifty in one query), at most
    ATTENTION_SHOWN of them among the ATTENTION_READ oldest."""

    deals = (
        deals.filter(status="open")
        .select_related(None)
        .select_related("person", "stage")
        .only(*ATTENTION_FIELDS)
        .order_by("stage_entered_at", "id")
    )
    found = []
    for offset in range(0, ATTENTION_READ, 50):
        batch = mark_next_steps(list(deals[offset : offset + 50]))
        for deal in batch:
            deal.days = (now - deal.stage_entered_at).days
            limit = deal.stage.rotting_days
            deal.rotting = bool(limit and deal.days >= limit)
            if deal.rotting or not deal.has_next_step:
                found.append(deal)
        if len(found) >= ATTENTION_SHOWN or len(batch) < 50:
            break
    return found[:ATTENTION_SHOWN]


def team_overview(head, now: datetime, start: datetime, end: datetime) -> dict:
    """For a head: the members' overdue tasks (escalated first) and each member's load."""

    team_ids = list(head.headed_team_ids)
    members = list(
        User.objects.filter(team_id__in=team_ids, is_active=True)
        .exclude(pk=head.pk)
        .order_by("full_name")
    )
    late = overdue_at(now, start)
    # The ids themselves, not a subquery: PostgreSQL then reads the (assignee, status,
    # due_at, all_day) index per member instead of scanning every open task.
    open_tasks = Task.objects.filter(status=Task.OPEN, assignee__in=[m.pk for m in members])
    counts = {
        row["assignee"]: row
        for row in open_tasks.values("assignee").annotate(
            n=Count("id"),
            late=Count("id", filter=late),
            today=Count("id", filter=~late & Q(due_at__lt=end)),
        )
    }
    away = absences_around([m.pk for m in members], now)
    load = [
        MemberLoad(
            member,
            counts.get(member.pk, {}).get("n", 0),
            counts.get(member.pk, {}).get("late", 0),
            counts.get(member.pk, {}).get("today", 0),
            absence_on(away.get(member.pk, []), local_moment(member, now).date()),
        )
        for member in members
    ]
    overdue = list(
        open_tasks.filter(late)
        .select_related("assignee", "person", "company", "deal")
        .order_by("due_at", "id")[:TEAM_OVERDUE_SHOWN]
    )
    late_total = sum(row.overdue for row in load)
    return {"load": load, "overdue": overdue, "more": max(late_total - len(overdue), 0)}


def notifications_for(user) -> QuerySet[Notification]:
    return (
        Notification.objects.filter(user=user).select_related("task").order_by("-created_at", "-id")
    )


def unread_count(user) -> int:
    return Notification.objects.filter(user=user, read_at=None).count()


def notification_text(notice: Notification) -> str:
    """One line saying what the notification is about, in the active language."""
    data = notice.data
    title = data.get("title", "")
    due = data.get("due_at")
    when = short_datetime(datetime.fromisoformat(due)) if due else ""
    if notice.kind == Notification.REMINDER:
        return _("Time for “%(title)s” (due %(when)s)") % {"title": title, "when": when}
    if notice.kind == Notification.OVERDUE:
        return _("“%(title)s” is overdue (was due %(when)s)") % {"title": title, "when": when}
    if notice.kind == Notification.ESCALATION and data.get("away"):
        return _("%(user)s is away and “%(title)s” is overdue (was due %(when)s)") % {
            "user": data.get("assignee", ""),
            "title": title,
            "when": when,
        }
    if notice.kind == Notification.OVERDUE and "conversation_id" in data:
        waited = datetime.fromisoformat(data["waiting_since"])
        return _("“%(subject)s” waits for your answer since %(when)s") % {
            "subject": data.get("subject") or _("(no subject)"),
            "when": short_datetime(waited),
        }
    if notice.kind == Notification.ESCALATION and "conversation_id" in data:
        waited = datetime.fromisoformat(data["waiting_since"])
        return _("%(user)s has not answered “%(subject)s”, waiting since %(when)s") % {
            "user": data.get("assignee", ""),
            "subject": data.get("subject") or _("(no subject)"),
            "when": short_datetime(waited),
        }
    if notice.kind == Notification.ASSIGNED and "conversation_id" in data:
        return _("%(user)s gave you the conversation “%(subject)s”") % {
            "user": data.get("by", ""),
            "subject": data.get("subject") or _("(no subject)"),
        }
    if notice.kind == Notification.LEAD:
        return _("A new lead for you: %(name)s") % {"name": data.get("name", "")}
    if notice.kind == Notification.AUTOMATION:
        return data.get("message", "")
    if notice.kind == Notification.MAILBOX and data.get("recovered"):
        return _("The mailbox “%(mailbox)s” receives mail again.") % {
            "mailbox": data.get("mailbox", "")
        }
    if notice.kind == Notification.MAILBOX:
        return _("The mailbox “%(mailbox)s” cannot fetch mail: %(error)s") % {
            "mailbox": data.get("mailbox", ""),
            "error": data.get("error", ""),
        }
    if notice.kind == Notification.ESCALATION:
        return _("%(user)s has not done “%(title)s”, due %(when)s") % {
            "user": data.get("assignee", ""),
            "title": title,
            "when": when,
        }
    return _("New task for you: “%(title)s”, due %(when)s") % {"title": title, "when": when}


@dataclass
class CalendarDay:
    date: object
    tasks: list
    in_month: bool = True
    is_today: bool = False


def calendar_range(view: str, day) -> tuple:
    """The first and the last day a calendar view shows around `day`."""
    if view == "day":
        return day, day
    if view == "week":
        start = day - timedelta(days=days_since_week_start(day))
        return start, start + timedelta(days=6)
    first = day.replace(day=1)
    start = first - timedelta(days=days_since_week_start(first))
    following = (first + timedelta(days=32)).replace(day=1)
    end = following - timedelta(days=1)
    end += timedelta(days=6 - days_since_week_start(end))
    return start, end


def calendar_days(user, view: str, day, whose) -> list[CalendarDay]:
    """The days of a calendar view with the visible tasks due on each (open and done),
    for the user, a colleague (a user id) or the user's team ("team")."""

    first, last = calendar_range(view, day)
    start = timezone.make_aware(datetime.combine(first, time.min))
    end = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min))
    tasks = (
        tasks_visible_to(user)
        .filter(due_at__gte=start, due_at__lt=end)
        .exclude(status=Task.CANCELLED)
    )
    if whose == "team":
        tasks = tasks.filter(assignee__team_id__in=user.team_scope_ids() or [-1])
    else:
        tasks = tasks.filter(assignee_id=whose)
    by_day: dict = {}
    for task in tasks.order_by("due_at", "id")[:2000]:
        by_day.setdefault(timezone.localtime(task.due_at).date(), []).append(task)
    today = timezone.localdate()
    days, current = [], first
    while current <= last:
        days.append(
            CalendarDay(
                current, by_day.get(current, []), current.month == day.month, current == today
            )
        )
        current += timedelta(days=1)
    return days


def ics_feed(user) -> bytes:
    """The user's tasks from 30 days back to a year ahead as an iCalendar file."""

    calendar = Calendar()
    calendar.add("prodid", "-//Accord CRM//accord//")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"Accord: {user}")
    now = timezone.now()
    tasks = (
        Task.objects.filter(
            assignee=user,
            due_at__gte=now - timedelta(days=30),
            due_at__lt=now + timedelta(days=366),
        )
        .exclude(status=Task.CANCELLED)
        .select_related("person", "company", "deal")
    )
    for task in tasks.order_by("due_at")[:5000]:
        event = Event()
        event.add("uid", f"task-{task.pk}@accord")
        event.add("summary", task.title if task.status == Task.OPEN else f"✓ {task.title}")
        local = timezone.localtime(task.due_at)
        if task.all_day:
            event.add("dtstart", local.date())
            event.add("dtend", local.date() + timedelta(days=1))
        else:
            event.add("dtstart", task.due_at)
            event.add("dtend", task.due_at + timedelta(minutes=task.duration_minutes or 30))
        about = [str(r) for r in (task.person, task.company, task.deal) if r]
        event.add("description", "\n".join([*about, task.description]).strip())
        event.add("dtstamp", task.updated_at)
        event.add("sequence", task.version)
        calendar.add_component(event)
    return calendar.to_ical()


@dataclass
class Performance:
    user: object
    tasks_done: int
    tasks_overdue: int
    calls: int
    meetings: int
    first_call_hours: float | None  # median, from a new lead to the first call
    deals_won: int
    won_amount: object


def performance(user, start: datetime, end: datetime) -> list[Performance]:
    """Per colleague in reach, for the period: tasks done and overdue now, calls and
    meetings logged, the median hours from a new lead to its first call, deals won and
    their amount. Grouped queries, one per measure, whatever the number of records."""

    people = list(people_in_reach(user))
    ids = [p.pk for p in people]
    now = timezone.now()

    def by_user(queryset, field, **aggregates):
        return {row[field]: row for row in queryset.values(field).annotate(**aggregates)}

    done = by_user(
        Task.objects.filter(
            assignee__in=ids, status=Task.DONE, completed_at__gte=start, completed_at__lt=end
        ),
        "assignee",
        n=Count("id"),
    )
    late = by_user(
        Task.objects.filter(assignee__in=ids, status=Task.OPEN, due_at__lt=now),
        "assignee",
        n=Count("id"),
    )
    # From the daily rollups, by the company's dates of the period's first and last moment.
    days = ActivityDay.objects.filter(
        actor__in=ids,
        day__gte=company_date(start),
        day__lte=company_date(end - timedelta(microseconds=1)),
    )
    logged = by_user(
        days,
        "actor",
        calls=Sum("count", filter=Q(kind="call")),
        meetings=Sum("count", filter=Q(kind="meeting")),
    )
    won = by_user(
        DealDay.objects.filter(
            owner__in=ids,
            status=Deal.WON,
            day__gte=company_date(start),
            day__lte=company_date(end - timedelta(microseconds=1)),
        ),
        "owner",
        n=Sum("count"),
        amount=Sum("amount"),
    )
    first_call = Activity.objects.filter(person=OuterRef("pk"), kind="call").values("person")
    first_call = first_call.annotate(at=Min("occurred_at")).values("at")
    waits: dict[int, list[float]] = {}
    leads = Person.objects.filter(owner__in=ids, created_at__gte=start, created_at__lt=end)
    # The leads nobody has called are skipped here, not filtered in the query: PostgreSQL
    # then ran the first-call subquery twice a lead (151-215 ms against 61 ms for a month
    # of a million clients' leads).
    for owner_id, created, called in leads.annotate(called=Subquery(first_call)).values_list(
        "owner", "created_at", "called"
    )[:20000]:
        if called is not None:
            waits.setdefault(owner_id, []).append(max((called - created).total_seconds(), 0) / 3600)
    return [
        Performance(
            user=person,
            tasks_done=done.get(person.pk, {}).get("n", 0),
            tasks_overdue=late.get(person.pk, {}).get("n", 0),
            calls=logged.get(person.pk, {}).get("calls") or 0,
            meetings=logged.get(person.pk, {}).get("meetings") or 0,
            first_call_hours=round(median(waits[person.pk]), 1) if person.pk in waits else None,
            deals_won=won.get(person.pk, {}).get("n") or 0,
            won_amount=won.get(person.pk, {}).get("amount") or 0,
        )
        for person in people
    ]


# --- Lead distribution ------------------------------------------------------------------


def lead_candidate(team, now: datetime, rule: str = ""):
    """Who of `team` gets the next lead under its rule, among those at work now (none:
    the lead waits). The head takes leads only when the team has nobody else; a fixed
    person away or off work is replaced by round robin among the others. `rule` replaces
    a team's round robin or least loaded (a task goes to the least loaded, as no lead
    rotation counts tasks)."""

    members = list(
        User.objects.filter(team=team, is_active=True, role__takes_leads=True)
        .select_related("work_schedule")
        .order_by("id")
    )
    pool = [m for m in members if m.pk != team.head_id] or members
    fixed = team.lead_user if team.lead_rule == Team.FIXED else None
    away = absences_around([m.pk for m in pool] + ([fixed.pk] if fixed else []), now)
    if fixed and fixed.is_active and at_work(fixed, now, away.get(fixed.pk, [])):
        return fixed
    available = [m for m in pool if at_work(m, now, away.get(m.pk, []))]
    if not available:
        return None
    last = (
        LeadAssignment.objects.filter(team=team, assigned_at__isnull=False)
        .order_by("-assigned_at", "-id")
        .values_list("user", flat=True)
        .first()
    ) or 0
    in_turn = sorted(available, key=lambda m: (m.pk <= last, m.pk))  # the next after the last
    if (rule if rule and team.lead_rule != Team.FIXED else team.lead_rule) != Team.LEAST_LOADED:
        return in_turn[0]
    ids = [m.pk for m in available]
    tasks = dict(
        Task.objects.filter(assignee__in=ids, status=Task.OPEN)
        .values("assignee")
        .annotate(n=Count("id"))
        .values_list("assignee", "n")
    )
    leads = dict(
        LeadAssignment.objects.filter(user__in=ids, assigned_at__gte=now - timedelta(days=1))
        .values("user")
        .annotate(n=Count("id"))
        .values_list("user", "n")
    )
    return min(in_turn, key=lambda m: tasks.get(m.pk, 0) + leads.get(m.pk, 0))
