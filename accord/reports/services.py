"""Dashboards a user builds: made, renamed, shared, copied from the one their role starts
with, removed; widgets added, changed, moved and taken off. Only a dashboard's owner
changes it; a widget names only a report, pipeline, team and colleague its owner may
read."""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from itertools import islice

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.accounts.models import Team, User
from accord.accounts.queries import people_in_reach
from accord.core.errors import StaleVersion
from accord.core.visibility import NONE, READ, effective_level
from accord.reports.catalog import REPORTS
from accord.reports.models import (
    CHARTS,
    Dashboard,
    ForecastEntry,
    ForecastSnapshot,
    Schedule,
    Widget,
)
from accord.reports.periods import PRESET_KEYS, preset_range
from accord.reports.queries import teams_in_reach
from accord.sales.models import Deal, Pipeline
from accord.sales.queries import pipelines_for

MAX_WIDGETS = 24
MAX_DASHBOARDS = 50


def _may_build(actor: User) -> None:
    if effective_level(actor, "reports", READ) == NONE:
        raise PermissionDenied(_("Your role does not read reports."))


def _owned(dashboard: Dashboard, actor: User) -> None:
    if dashboard.owner_id != actor.pk:
        raise PermissionDenied(_("Only the one who made a dashboard changes it."))


def _clean_dashboard(data: dict) -> tuple[str, bool]:
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": [_("Name the dashboard (at most 100 characters).")]})
    return name, bool(data.get("shared"))


@transaction.atomic
def dashboard_create(*, actor: User, data: dict, widgets: list[Widget] = ()) -> Dashboard:
    """A new dashboard of the actor's: empty, or with `widgets` (unsaved: a copy of the
    one their role starts with, or of another dashboard)."""
    _may_build(actor)
    name, shared = _clean_dashboard(data)
    if Dashboard.objects.filter(owner=actor).count() >= MAX_DASHBOARDS:
        raise ValidationError({"name": [_("You have 50 dashboards; remove one first.")]})
    dashboard = Dashboard.objects.create(name=name, shared=shared, owner=actor)
    Widget.objects.bulk_create(
        Widget(dashboard=dashboard, report=w.report, chart=w.chart, title=w.title,
               period=w.period, pipeline_id=w.pipeline_id, team_id=w.team_id,
               member_id=w.member_id, wide=w.wide, position=index)
        for index, w in enumerate(list(widgets)[:MAX_WIDGETS])
    )  # fmt: skip
    return dashboard


@transaction.atomic
def dashboard_update(
    *, dashboard: Dashboard, actor: User, data: dict, version: int | None = None
) -> Dashboard:
    _owned(dashboard, actor)
    name, shared = _clean_dashboard(data)
    changed = Dashboard.objects.filter(pk=dashboard.pk)
    if version is not None:
        changed = changed.filter(version=version)
    if not changed.update(name=name, shared=shared, version=F("version") + 1):
        raise StaleVersion(Dashboard.objects.get(pk=dashboard.pk).version)
    dashboard.refresh_from_db()
    return dashboard


@transaction.atomic
def dashboard_delete(*, dashboard: Dashboard, actor: User) -> None:
    _owned(dashboard, actor)
    dashboard.delete()


def _clean_widget(actor: User, data: dict) -> dict:
    """The widget's fields, each checked: a report the actor reads, a way it can be
    drawn, a period, and filters within the actor's reach (and the report's)."""
    errors: dict[str, list[str]] = {}
    report = REPORTS.get(str(data.get("report") or ""))
    if report is None or not report.allowed(actor):
        raise ValidationError({"report": [_("Choose one of the reports.")]})
    chart = str(data.get("chart") or report.charts[0])
    if chart not in report.charts or chart not in dict(CHARTS):
        errors["chart"] = [_("This report cannot be shown that way.")]
    period = str(data.get("period") or ("next_6_months" if report.ahead else "last_90"))
    if period not in PRESET_KEYS:
        errors["period"] = [_("Choose a period.")]
    title = str(data.get("title") or "").strip()
    if len(title) > 100:
        errors["title"] = [_("At most 100 characters.")]
    found: dict = {}
    for key, model, allowed, wanted in (
        ("pipeline", Pipeline, pipelines_for(actor), "pipeline"),
        ("team", Team, teams_in_reach(actor), "team"),
        ("member", User, people_in_reach(actor), "user"),
    ):
        value = data.get(key)
        value = value.pk if isinstance(value, model) else value
        if value in (None, ""):
            found[key] = None
        elif wanted not in report.filters:
            found[key] = None  # the report has no such filter: nothing to keep
        elif not str(value).isdecimal() or not allowed.filter(pk=value).exists():
            errors[key] = [_("Choose one from the list.")]
        else:
            found[key] = model.objects.get(pk=value)
    if errors:
        raise ValidationError(errors)
    return {"report": report.key, "chart": chart, "period": period, "title": title,
            "wide": bool(data.get("wide")), **found}  # fmt: skip


@transaction.atomic
def widget_save(
    *, dashboard: Dashboard, actor: User, data: dict, widget: Widget | None = None
) -> Widget:
    _owned(dashboard, actor)
    values = _clean_widget(actor, data)
    if widget is None:
        if dashboard.widgets.count() >= MAX_WIDGETS:
            raise ValidationError({"report": [_("A dashboard holds at most 24 widgets.")]})
        last = dashboard.widgets.aggregate(last=Max("position"))["last"]
        widget = Widget(dashboard=dashboard, position=0 if last is None else last + 1)
    elif widget.dashboard_id != dashboard.pk:
        raise PermissionDenied(_("Only the one who made a dashboard changes it."))
    for key, value in values.items():
        setattr(widget, key, value)
    widget.save()
    Dashboard.objects.filter(pk=dashboard.pk).update(version=F("version") + 1)
    return widget


@transaction.atomic
def widget_delete(*, widget: Widget, actor: User) -> None:
    _owned(widget.dashboard, actor)
    widget.delete()


@transaction.atomic
def widget_move(*, widget: Widget, actor: User, by: int = 0, to: int | None = None) -> None:
    """Move a widget `by` places (−1: earlier, 1: later) among its dashboard's, or `to` a
    place (0: first; past the end: last), as a drag and drop puts it."""
    _owned(widget.dashboard, actor)
    order = list(widget.dashboard.widgets.order_by("position", "id"))
    index = order.index(widget)
    target = max(0, min(len(order) - 1, index + by if to is None else to))
    order.insert(target, order.pop(index))
    for position, one in enumerate(order):
        if one.position != position:
            Widget.objects.filter(pk=one.pk).update(position=position)


# --- Schedules: a dashboard e-mailed as a PDF ---------------------------------------------

MAX_SCHEDULES = 10


def next_sending(schedule: Schedule, after: datetime) -> datetime:
    """The first moment after `after` the schedule falls on, on the company's clock."""
    zone = timezone.get_default_timezone()
    local = timezone.localtime(after, zone)
    for offset in range(0, 63):
        day = local.date() + timedelta(days=offset)
        if schedule.frequency == Schedule.WEEKLY and day.weekday() != schedule.weekday:
            continue
        if schedule.frequency == Schedule.MONTHLY and day.day != schedule.day:
            continue
        moment = datetime.combine(day, time(schedule.hour), tzinfo=zone)
        if moment > local:
            return moment
    raise ValueError("a schedule that never falls")  # every frequency falls within 62 days


def _clean_schedule(actor: User, dashboard: Dashboard, data: dict, schedule: Schedule) -> None:
    errors: dict[str, list[str]] = {}
    user, role = data.get("user") or None, data.get("role") or None
    if (user is None) == (role is None):
        errors["user"] = [_("Send it to one colleague or to everyone in one role.")]
    elif user is not None and (not user.is_active or not user.email):
        errors["user"] = [_("This colleague cannot receive e-mail.")]
    elif (role is not None or user != actor) and not dashboard.shared:
        errors["user"] = [_("Share the dashboard with everyone first: each recipient then "
                            "gets the figures their own access allows.")]  # fmt: skip
    frequency = data.get("frequency") or Schedule.WEEKLY
    if frequency not in dict(Schedule.FREQUENCIES):
        errors["frequency"] = [_("Choose how often.")]
    numbers = {"weekday": (0, 6), "day": (1, 28), "hour": (0, 23)}
    for key, (low, high) in numbers.items():
        value = data.get(key, getattr(schedule, key))
        if not str(value).isdecimal() or not low <= int(value) <= high:
            errors[key] = [_("Between %(low)s and %(high)s.") % {"low": low, "high": high}]
        else:
            setattr(schedule, key, int(value))
    if errors:
        raise ValidationError(errors)
    schedule.user, schedule.role, schedule.frequency = user, role, frequency


@transaction.atomic
def schedule_save(
    *, actor: User, dashboard: Dashboard, data: dict, schedule: Schedule | None = None
) -> Schedule:
    _owned(dashboard, actor)
    if schedule is None:
        if dashboard.schedules.count() >= MAX_SCHEDULES:
            raise ValidationError({"user": [_("A dashboard is sent on at most 10 schedules.")]})
        schedule = Schedule(dashboard=dashboard)
    elif schedule.dashboard_id != dashboard.pk:
        raise PermissionDenied(_("Only the one who made a dashboard changes it."))
    _clean_schedule(actor, dashboard, data, schedule)
    schedule.next_at = next_sending(schedule, timezone.now())
    schedule.save()
    return schedule


@transaction.atomic
def schedule_delete(*, schedule: Schedule, actor: User) -> None:
    _owned(schedule.dashboard, actor)
    schedule.delete()


def schedule_claim(schedule: Schedule, now: datetime) -> bool:
    """Take a due sending (another worker may be taking it too): its next time is set
    from now, so a worker that was down sends once, not once per missed day."""
    return bool(
        Schedule.objects.filter(pk=schedule.pk, next_at=schedule.next_at).update(
            next_at=next_sending(schedule, now), last_sent_at=now, last_problem=""
        )
    )


def schedule_failed(schedule: Schedule, problem: str) -> None:
    Schedule.objects.filter(pk=schedule.pk).update(last_problem=problem[:300])


# --- The forecast kept at each quarter's start ---------------------------------------------

SNAPSHOT_BATCH = 2_000


def quarter_of(day: date) -> tuple[date, date]:
    """The first and last day of the quarter `day` is in."""
    return preset_range("this_quarter", day)


@transaction.atomic
def forecast_snapshot_record(
    *, quarter: date, taken_at: datetime, entries: Iterable[dict]
) -> ForecastSnapshot | None:
    """Keep a quarter's forecast once: `entries` are {deal_id, amount, currency,
    probability, learned}. None when the quarter has one already (another worker's)."""
    try:
        with transaction.atomic():
            snapshot = ForecastSnapshot.objects.create(quarter=quarter, taken_at=taken_at)
    except IntegrityError:
        return None
    rows = (ForecastEntry(snapshot=snapshot, **entry) for entry in entries)
    while batch := list(islice(rows, SNAPSHOT_BATCH)):
        ForecastEntry.objects.bulk_create(batch)
        snapshot.deals += len(batch)
    snapshot.save(update_fields=["deals"])
    return snapshot


def forecast_snapshot_take(*, now: datetime) -> ForecastSnapshot | None:
    """The current quarter's forecast, if nobody kept it yet: every open deal expected to
    close in the quarter, as it stands now."""
    first, last = quarter_of(timezone.localdate(now))
    if ForecastSnapshot.objects.filter(quarter=first).exists():
        return None
    expected = Deal.objects.filter(
        status=Deal.OPEN, expected_close_date__gte=first, expected_close_date__lte=last
    ).order_by("pk")
    rows = expected.values_list(
        "pk", "amount", "currency", "stage__probability", "score__probability"
    ).iterator(chunk_size=SNAPSHOT_BATCH)
    entries = (
        {"deal_id": pk, "amount": amount, "currency": currency,
         "probability": probability or 0, "learned": learned}
        for pk, amount, currency, probability, learned in rows
    )  # fmt: skip
    return forecast_snapshot_record(quarter=first, taken_at=now, entries=entries)
