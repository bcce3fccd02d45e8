"""Reports of the work: tasks done and overdue, each colleague's performance, response
times and activity."""

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.accounts.queries import people_in_reach
from accord.comms.queries import ChannelFigures, comms_figures
from accord.reports.catalog.base import Column, Figures, Scope, report, series_of
from accord.work.models import CALL, EMAIL, MEETING, NOTE, VISIT, Task
from accord.work.queries import activity_days_visible_to, performance, tasks_visible_to


def _colleagues(scope: Scope) -> list:
    people = people_in_reach(scope.user)
    if scope.people is not None:
        people = people.filter(pk__in=scope.people)
    return list(people)


@report("tasks", gettext_lazy("Tasks"),
        gettext_lazy("Per colleague: tasks done in the period, and those open and overdue now."),
        ("bar", "number", "table"), needs="tasks", lower_better=True, now=True)  # fmt: skip
def tasks(scope: Scope) -> Figures:
    people = _colleagues(scope)
    visible = tasks_visible_to(scope.user).filter(assignee__in=[p.pk for p in people])
    now = timezone.now()
    # Only those it counts: the open ones and those done in the period (not years of them).
    visible = visible.filter(
        Q(status=Task.OPEN)
        | Q(status=Task.DONE, completed_at__gte=scope.period.start,
            completed_at__lt=scope.period.end)
    )  # fmt: skip
    grouped = {
        row["assignee"]: row
        for row in visible.values("assignee").annotate(
            done=Count("id", filter=Q(status=Task.DONE, completed_at__gte=scope.period.start,
                                      completed_at__lt=scope.period.end)),
            open=Count("id", filter=Q(status=Task.OPEN)),
            overdue=Count("id", filter=Q(status=Task.OPEN, due_at__lt=now)),
        ).order_by()
    }  # fmt: skip
    rows = [
        {"label": p.full_name or p.email, **{k: grouped.get(p.pk, {}).get(k, 0)
                                             for k in ("done", "open", "overdue")}}
        for p in people
    ]  # fmt: skip
    rows = [r for r in rows if r["done"] or r["open"]]
    labels, series = series_of(rows, "label", ("done", _("Done")), ("overdue", _("Overdue")))
    return Figures(
        total_label=_("tasks overdue now"),
        columns=[Column("label", _("Who")), Column("done", _("Done"), "int"),
                 Column("open", _("Open"), "int"), Column("overdue", _("Overdue now"), "int")],
        rows=rows, labels=labels, series=series,
        total=sum(r["overdue"] for r in rows), total_kind="int",
    )  # fmt: skip


@report("performance", gettext_lazy("Team performance"),
        gettext_lazy("Per colleague: tasks, calls and meetings, the first call to a new lead, "
                     "deals won and their sum."),
        ("table", "bar"))  # fmt: skip
def team_performance(scope: Scope) -> Figures:
    wanted = None if scope.people is None else set(scope.people)
    found = performance(scope.user, scope.period.start, scope.period.end)
    rows = [
        {"label": row.user.full_name or row.user.email, "tasks_done": row.tasks_done,
         "tasks_overdue": row.tasks_overdue, "calls": row.calls, "meetings": row.meetings,
         "first_call": row.first_call_hours, "won": row.deals_won,
         "revenue": row.won_amount or Decimal(0)}
        for row in found
        if wanted is None or row.user.pk in wanted
    ]  # fmt: skip
    labels, series = series_of(rows, "label", ("won", _("Deals won")), ("calls", _("Calls")))
    return Figures(
        total_label=_("deals won"),
        columns=[Column("label", _("Who")), Column("tasks_done", _("Tasks done"), "int"),
                 Column("tasks_overdue", _("Overdue"), "int"), Column("calls", _("Calls"), "int"),
                 Column("meetings", _("Meetings"), "int"),
                 Column("first_call", _("Hours to first call"), "number"),
                 Column("won", _("Deals won"), "int"), Column("revenue", _("Revenue"), "money")],
        rows=rows, labels=labels, series=series,
        total=sum(r["won"] for r in rows),
    )  # fmt: skip


@report("response_times", gettext_lazy("Response times"),
        gettext_lazy("How soon each colleague answers clients' messages and missed calls, in "
                     "working minutes."),
        ("bar", "number", "table"), lower_better=True)  # fmt: skip
def response_times(scope: Scope) -> Figures:
    people = _colleagues(scope)
    figures = comms_figures([p.pk for p in people], scope.period.since, scope.period.until)
    everyone = ChannelFigures()
    rows = []
    for person in people:
        mine = ChannelFigures()
        for one in figures[person.pk].values():
            mine.merged(one)
        everyone.merged(mine)
        if mine.incoming or mine.outgoing or mine.missed:
            rows.append({"label": person.full_name or person.email,
                         "incoming": mine.incoming, "answered": mine.answered,
                         "median": mine.median, "p90": mine.p90})  # fmt: skip
    labels, series = series_of(rows, "label", ("median", _("Median answer, working minutes")))
    return Figures(
        total_label=_("median answer, working minutes"),
        columns=[Column("label", _("Who")), Column("incoming", _("Messages and calls in"), "int"),
                 Column("answered", _("Answered"), "int"),
                 Column("median", _("Median answer"), "minutes"),
                 Column("p90", _("90% within"), "minutes")],
        rows=rows, labels=labels, series=series, total=everyone.median, total_kind="minutes",
    )  # fmt: skip


@report("activity", gettext_lazy("Activity"),
        gettext_lazy("Calls, meetings, visits and notes logged, over time."),
        ("line", "bar", "number", "table"), needs="activities")  # fmt: skip
def activity(scope: Scope) -> Figures:
    """From the daily counts (the company's dates), not the activities one by one."""
    days = activity_days_visible_to(scope.user, scope.period.since, scope.period.until)
    kinds = [(CALL, _("Calls")), (MEETING, _("Meetings")), (VISIT, _("Visits")),
             (EMAIL, _("E-mails")), (NOTE, _("Notes"))]  # fmt: skip
    found: dict = defaultdict(lambda: defaultdict(int))
    grouped = scope.owned(days, "actor").values("day", "kind").annotate(n=Sum("count"))
    for row in grouped.order_by():
        found[scope.period.bucket_of(row["day"])][row["kind"]] += row["n"]
    rows = [
        {"label": scope.period.label(b), **{kind: found[b][kind] for kind, _label in kinds}}
        for b in scope.period.buckets()
    ]
    for row in rows:
        row["all"] = sum(row[kind] for kind, _label in kinds)
    labels, series = series_of(rows, "label", *kinds[:3])
    return Figures(
        total_label=_("calls, meetings, visits, e-mails and notes"),
        columns=[Column("label", _("Period"))]
        + [Column(kind, label, "int") for kind, label in kinds]
        + [Column("all", _("All"), "int")],
        rows=rows if any(r["all"] for r in rows) else [],
        labels=labels,
        series=series,
        total=sum(r["all"] for r in rows),
    )
