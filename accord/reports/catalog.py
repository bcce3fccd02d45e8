"""The reports a dashboard's widgets and the report pages show: each reads what the user
may see (deals, tasks, activities, clients, money and campaigns through their apps'
visibility-scoped queries; colleagues as far as the user's reports reach), over a
period, for a pipeline, a team or one colleague, and answers the same figures as a
table, a chart's series and one number with the period before it for its trend.

Money counts the company's currency; deals or payments in another currency are named
in a note under the figures rather than added at a made-up rate."""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from itertools import batched
from statistics import median

from django.core.exceptions import ValidationError
from django.db.models import (
    Avg,
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    FloatField,
    Q,
    Sum,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accord.accounts.models import User
from accord.accounts.queries import people_in_reach
from accord.billing.models import Invoice
from accord.billing.queries import income_and_expenses, invoices_visible_to
from accord.comms.queries import ChannelFigures, comms_figures
from accord.contacts.queries import people_visible_to, segments_visible_to
from accord.core.company import company
from accord.core.formats import money
from accord.core.money import STORED
from accord.core.visibility import NONE, READ, effective_level
from accord.core.visibility import scope as visibility_scope
from accord.marketing.models import Survey, SurveyInvite, Touch
from accord.marketing.queries import channel_results
from accord.reports import learning
from accord.reports.models import ForecastSnapshot
from accord.reports.periods import DAY, Period, preset_range
from accord.sales.models import Deal, LineItem, Pipeline
from accord.sales.queries import (
    deal_days_visible_to,
    deals_visible_to,
    funnel,
    in_segment,
    pipelines_for,
)
from accord.work.models import CALL, EMAIL, MEETING, NOTE, VISIT, Task
from accord.work.queries import activity_days_visible_to, performance, tasks_visible_to

DEALS = frozenset({"pipeline", "team", "user"})  # the filters of deal reports
TOP = 12  # rows a "by …" chart draws; the rest are summed as "Others"
CYCLE_SAMPLE = 100_000  # won deals read for a median sales cycle


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"  # text, int, money, percent, days, minutes


@dataclass
class Scope:
    """Whose figures, over when: the user reading (their visibility), the period, a
    pipeline, the colleagues counted (None: everyone the user's reports reach)."""

    user: User
    period: Period
    currency: str
    pipeline: Pipeline | None = None
    people: list[int] | None = None

    def with_period(self, period: Period) -> "Scope":
        return Scope(self.user, period, self.currency, self.pipeline, self.people)

    def owned(self, queryset, owner: str = "owner"):
        return queryset if self.people is None else queryset.filter(**{f"{owner}__in": self.people})

    def deals(self):
        deals = self.owned(deals_visible_to(self.user))
        return deals.filter(pipeline=self.pipeline) if self.pipeline else deals


@dataclass
class Figures:
    columns: list[Column]
    rows: list[dict]
    labels: list[str] = field(default_factory=list)  # the chart's axis
    series: list[dict] = field(default_factory=list)  # {"key", "label", "data": [...]}
    total: object = None  # the one number of a "number" widget
    total_kind: str = "int"
    total_label: str = ""  # what the one number is ("not yet paid")
    notes: list[str] = field(default_factory=list)
    flagged: int = 0  # rows marked for attention (channels that spend and do not sell)

    @property
    def empty(self) -> bool:
        return not self.rows


@dataclass(frozen=True)
class Report:
    key: str
    title: str
    description: str
    charts: tuple[str, ...]  # the first is the default
    compute: Callable[[Scope], Figures]
    filters: frozenset = frozenset({"team", "user"})
    ahead: bool = False  # the period is ahead (a forecast)
    needs: str = ""  # a record type the user must read besides reports
    lower_better: bool = False  # the number is better when it falls (overdue tasks)
    now: bool = False  # the number is how things stand now (overdue now): no period before

    def allowed(self, user) -> bool:
        if effective_level(user, "reports", READ) == NONE:
            return False
        return not self.needs or effective_level(user, self.needs, READ) != NONE


REPORTS: dict[str, Report] = {}


def report(key, title, description, charts, **options):
    def register(compute):
        REPORTS[key] = Report(key, title, description, charts, compute, **options)
        return compute

    return register


def allowed_reports(user) -> list[Report]:
    return [r for r in REPORTS.values() if r.allowed(user)]


# --- Helpers ----------------------------------------------------------------------------


def _number(value) -> float | None:
    """A figure as a chart draws it; None leaves a gap (no rate without deals)."""
    return None if value is None else float(value)


def _other_currencies(queryset, scope: Scope, amount: str = "amount", count=None) -> list[str]:
    """A note naming what was left out for being in another currency."""
    rows = (
        queryset.exclude(currency=scope.currency)
        .values("currency")
        .annotate(n=count or Count("id"), total=Sum(amount))
        .order_by("currency")
    )
    return [
        ngettext(
            "Not counted: %(count)s deal in %(currency)s (%(total)s).",
            "Not counted: %(count)s deals in %(currency)s (%(total)s).",
            row["n"],
        ) % {"count": row["n"], "currency": row["currency"],
             "total": money(row["total"] or 0, row["currency"])}
        for row in rows
    ]  # fmt: skip


def _by_bucket(scope: Scope, queryset, moment: str, **aggregates) -> dict:
    """Each aggregate per bucket of the period, in one pass: an aggregate per bucket
    limited to its range (a comparison per row, where truncating each row's moment is a
    function call per row on SQLite — seconds over half a million clients)."""
    buckets = scope.period.buckets()
    dated = queryset.model._meta.get_field(moment).get_internal_type() == "DateField"
    edges = [*buckets[1:], scope.period.until + DAY]

    def border(day):
        return day if dated else Period(day, day).start

    sums = {}
    for index, (first, after) in enumerate(zip(buckets, edges, strict=True)):
        within = Q(**{f"{moment}__gte": border(first), f"{moment}__lt": border(after)})
        for key, aggregate in aggregates.items():
            sums[f"{key}__{index}"] = type(aggregate)(
                aggregate.get_source_expressions()[0], filter=within
            )
    totals = queryset.aggregate(**sums) if sums else {}
    found: dict = defaultdict(lambda: defaultdict(lambda: 0))
    for index, bucket in enumerate(buckets):
        for key in aggregates:
            found[bucket][key] += totals[f"{key}__{index}"] or 0
    return found


def _names(ids) -> dict:
    users = User.objects.filter(pk__in=[i for i in ids if i])
    names = {u.pk: u.full_name or u.email for u in users}
    names[None] = _("Nobody")
    return names


def _topped(rows: list[dict], sums: tuple[str, ...], label_key: str = "label") -> list[dict]:
    """The first TOP rows, and the rest summed as one "Others" row."""
    if len(rows) <= TOP:
        return rows
    rest = {label_key: _("Others")}
    for key in sums:
        rest[key] = sum(row[key] or 0 for row in rows[TOP:])
    return [*rows[:TOP], rest]


def _series(rows: list[dict], label_key: str, *keys: tuple[str, str]) -> tuple[list, list]:
    labels = [str(row[label_key]) for row in rows]
    series = [
        {"key": key, "label": str(label), "data": [_number(row.get(key)) for row in rows]}
        for key, label in keys
    ]
    return labels, series


def _rate(part: int, whole: int) -> float | None:
    return round(part * 100 / whole, 1) if whole else None


# --- Sales ------------------------------------------------------------------------------


def _won(scope: Scope):
    return scope.deals().filter(
        status=Deal.WON, closed_at__gte=scope.period.start, closed_at__lt=scope.period.end
    )


def _closed_days(scope: Scope, *statuses: str):
    """The daily counts of the deals closed (won, lost) in the period: the rollups the
    services keep, by the company's dates, so a year is a few thousand rows."""
    days = deal_days_visible_to(scope.user, scope.period.since, scope.period.until)
    days = scope.owned(days.filter(status__in=statuses))
    return days.filter(pipeline=scope.pipeline) if scope.pipeline else days


DAY_COUNT = Sum("count")  # what a count of deals is over the daily rollups


@report("sales", gettext_lazy("Sales volume"),
        gettext_lazy("Deals won and their sum, over time."),
        ("line", "bar", "number", "table"), filters=DEALS,
        needs="deals")  # fmt: skip
def sales_volume(scope: Scope) -> Figures:
    won = _closed_days(scope, Deal.WON)
    found: dict = defaultdict(lambda: {"deals": 0, "revenue": Decimal(0)})
    daily = won.filter(currency=scope.currency).values("day")
    for row in daily.annotate(n=DAY_COUNT, total=Sum("amount")).order_by():
        bucket = found[scope.period.bucket_of(row["day"])]
        bucket["deals"] += row["n"]
        bucket["revenue"] += row["total"] or 0
    rows = [
        {"label": scope.period.label(b), "deals": found[b]["deals"],
         "revenue": found[b]["revenue"] or Decimal(0)}
        for b in scope.period.buckets()
    ]  # fmt: skip
    labels, series = _series(rows, "label", ("revenue", _("Revenue")))
    return Figures(
        total_label=_("won in the period"),
        columns=[Column("label", _("Period")), Column("deals", _("Deals won"), "int"),
                 Column("revenue", _("Revenue"), "money")],
        rows=rows if any(r["deals"] for r in rows) else [],
        labels=labels, series=series, total=sum(r["revenue"] for r in rows),
        total_kind="money", notes=_other_currencies(won, scope, count=DAY_COUNT),
    )  # fmt: skip


def _grouped_sales(scope: Scope, key: str, label_of, queryset=None) -> Figures:
    """Deals won per `key`: from the daily counts (owner, pipeline), or from `queryset`,
    deals annotated with the key (the channel)."""
    count = DAY_COUNT if queryset is None else Count("id")
    won = _closed_days(scope, Deal.WON) if queryset is None else queryset
    grouped = (
        won.filter(currency=scope.currency)
        .values(key)
        .annotate(deals=count, revenue=Sum("amount"))
        .order_by("-revenue", key)
    )
    found = list(grouped)
    labels = label_of([row[key] for row in found])
    rows = [
        {"label": labels.get(row[key], "—"), "deals": row["deals"],
         "revenue": row["revenue"] or Decimal(0)}
        for row in found
    ]  # fmt: skip
    rows = _topped(rows, ("deals", "revenue"))
    chart_labels, series = _series(rows, "label", ("revenue", _("Revenue")))
    return Figures(
        total_label=_("won in the period"),
        columns=[Column("label", _("Who") if key == "owner" else _("Name")),
                 Column("deals", _("Deals won"), "int"), Column("revenue", _("Revenue"), "money")],
        rows=rows, labels=chart_labels, series=series,
        total=sum(r["revenue"] for r in rows), total_kind="money",
        notes=_other_currencies(won, scope, count=count),
    )  # fmt: skip


@report("sales_by_manager", gettext_lazy("Sales by manager"),
        gettext_lazy("Deals won and their sum per owner."), ("bar", "table"),
        filters=frozenset({"pipeline", "team"}), needs="deals")  # fmt: skip
def sales_by_manager(scope: Scope) -> Figures:
    return _grouped_sales(scope, "owner", _names)


@report("sales_by_pipeline", gettext_lazy("Sales by pipeline"),
        gettext_lazy("Deals won and their sum per pipeline."), ("bar", "table"),
        needs="deals")  # fmt: skip
def sales_by_pipeline(scope: Scope) -> Figures:
    return _grouped_sales(
        scope,
        "pipeline",
        lambda ids: dict(Pipeline.objects.filter(pk__in=ids).values_list("pk", "name")),
    )


@report("sales_by_channel", gettext_lazy("Sales by channel"),
        gettext_lazy("Deals won and their sum per channel the lead came through."),
        ("bar", "table"), filters=DEALS, needs="deals")  # fmt: skip
def sales_by_channel(scope: Scope) -> Figures:
    """The deal's own request, or else the client's first visit: a client's later deals
    keep the attribution of the lead. Read from the touches to the deals they name (a
    query per thousand), not deal by deal; what no touch names is the rest of the period's
    daily counts."""
    won = _won(scope).filter(currency=scope.currency)
    own: dict = {}  # deal -> (at, id, channel): its earliest own touch
    touches = Touch.objects.filter(deal__isnull=False, at__lt=scope.period.end)
    for deal, at, pk, channel in touches.values_list("deal", "at", "id", "channel__name"):
        if deal not in own or (at, pk) < own[deal][:2]:
            own[deal] = (at, pk, channel)
    first: dict = {}  # person -> the same, from their first touch
    touches = Touch.objects.filter(kind=Touch.FIRST, deal=None, at__lt=scope.period.end)
    for person, at, pk, channel in touches.values_list("person", "at", "id", "channel__name"):
        if person is not None and (person not in first or (at, pk) < first[person][:2]):
            first[person] = (at, pk, channel)
    came: dict = {}  # deal won in the period -> (channel, amount)
    for ids in batched(own, 900):
        for deal, amount in won.filter(pk__in=ids).values_list("pk", "amount"):
            came[deal] = (own[deal][2], amount)
    for ids in batched(first, 900):
        for deal, person, amount in won.filter(person__in=ids).values_list(
            "pk", "person", "amount"
        ):
            if not came.get(deal, (None,))[0]:  # no own touch, or one without a channel
                came[deal] = (first[person][2], amount)
    found: dict = defaultdict(lambda: {"deals": 0, "revenue": Decimal(0)})
    for channel, amount in came.values():
        if channel:
            found[channel]["deals"] += 1
            found[channel]["revenue"] += amount
    days = _closed_days(scope, Deal.WON)
    everyone = days.filter(currency=scope.currency).aggregate(n=DAY_COUNT, total=Sum("amount"))
    rest = {
        "deals": (everyone["n"] or 0) - sum(r["deals"] for r in found.values()),
        "revenue": (everyone["total"] or 0) - sum(r["revenue"] for r in found.values()),
    }
    rows = [{"label": _(name), **sums} for name, sums in found.items()]
    if rest["deals"] > 0:
        rows.append({"label": _("Not known"), **rest})
    rows.sort(key=lambda r: (-r["revenue"], str(r["label"])))
    rows = _topped(rows, ("deals", "revenue"))
    labels, series = _series(rows, "label", ("revenue", _("Revenue")))
    return Figures(
        total_label=_("won in the period"),
        columns=[Column("label", _("Name")), Column("deals", _("Deals won"), "int"),
                 Column("revenue", _("Revenue"), "money")],
        rows=rows, labels=labels, series=series,
        total=sum(r["revenue"] for r in rows), total_kind="money",
        notes=_other_currencies(days, scope, count=DAY_COUNT),
    )  # fmt: skip


@report("sales_by_product", gettext_lazy("Sales by product"),
        gettext_lazy("What the deals won sold, before tax, per product."), ("bar", "table"),
        filters=DEALS, needs="deals")  # fmt: skip
def sales_by_product(scope: Scope) -> Figures:
    won = _won(scope).filter(currency=scope.currency).values("pk")
    net = ExpressionWrapper(
        F("quantity") * F("unit_price") * (100 - F("discount_percent")) / 100,
        output_field=DecimalField(max_digits=20, decimal_places=4),
    )
    grouped = (
        LineItem.objects.filter(deal__in=won)
        .values("name")
        .annotate(sold=Sum("quantity"), revenue=Sum(net))
        .order_by("-revenue", "name")
    )
    rows = [
        {"label": row["name"], "quantity": row["sold"],
         "revenue": (row["revenue"] or Decimal(0)).quantize(STORED)}
        for row in grouped
    ]  # fmt: skip
    rows = _topped(rows, ("quantity", "revenue"))
    labels, series = _series(rows, "label", ("revenue", _("Revenue")))
    return Figures(
        total_label=_("sold, before tax"),
        columns=[Column("label", _("Product")), Column("quantity", _("Quantity"), "number"),
                 Column("revenue", _("Revenue"), "money")],
        rows=rows, labels=labels, series=series,
        total=sum(r["revenue"] for r in rows), total_kind="money",
    )  # fmt: skip


SEGMENTS_AT_MOST = 20  # segments a report of client groups counts (each is a query)


@report("sales_by_client_group", gettext_lazy("Sales by client group"),
        gettext_lazy("Deals won and their sum per segment of clients (VIP, wholesale, a "
                     "city…): the company's shared segments and your own."),
        ("bar", "table"), filters=DEALS, needs="deals")  # fmt: skip
def sales_by_client_group(scope: Scope) -> Figures:
    """A deal counts in each segment its client (the person, or else the company) is in
    now — segments are filters, always current; a client in two counts in both."""
    won = _won(scope).filter(currency=scope.currency)
    segments = segments_visible_to(scope.user).filter(record_type__in=["person", "company"])
    rows, grouped, notes = [], Q(pk__in=[]), _other_currencies(_won(scope), scope)
    counted = 0  # segments whose filter still holds
    for segment in segments.order_by("name", "pk")[:SEGMENTS_AT_MOST]:
        try:
            members = in_segment(segment, scope.user)
        except ValidationError:  # its filter no longer holds: the others still count
            notes.append(_("Segment “%(name)s” was left out: its filter no longer holds "
                           "(save it again on Clients).") % {"name": segment.name})  # fmt: skip
            continue
        grouped, counted = grouped | members, counted + 1
        sums = won.filter(members).aggregate(deals=Count("id"), revenue=Sum("amount"))
        rows.append({"label": segment.name, "deals": sums["deals"],
                     "revenue": sums["revenue"] or Decimal(0)})  # fmt: skip
    rest = won.exclude(grouped).aggregate(deals=Count("id"), revenue=Sum("amount"))
    if rest["deals"]:
        rows.append({"label": _("In no segment"), "deals": rest["deals"],
                     "revenue": rest["revenue"] or Decimal(0)})  # fmt: skip
    rows.sort(key=lambda r: (-r["revenue"], str(r["label"])))
    if segments.count() > SEGMENTS_AT_MOST:
        notes.append(_("Counted: the first %(count)s segments by name; the others' clients "
                       "are in no segment here.") % {"count": SEGMENTS_AT_MOST})  # fmt: skip
    if counted:
        notes.append(_("A client in two segments counts in both."))
    else:
        notes.append(_("Save a filter on Clients as a segment (VIP, wholesale…) to see the "
                       "sales of each group."))  # fmt: skip
    if not any(r["deals"] for r in rows):
        rows = []
    labels, series = _series(rows, "label", ("revenue", _("Revenue")))
    return Figures(
        total_label=_("won in the period"),
        columns=[Column("label", _("Segment")), Column("deals", _("Deals won"), "int"),
                 Column("revenue", _("Revenue"), "money")],
        rows=rows, labels=labels, series=series,
        total=won.aggregate(total=Sum("amount"))["total"] or Decimal(0),  # each deal once
        total_kind="money", notes=notes,
    )  # fmt: skip


@report("forecast", gettext_lazy("Forecast"),
        gettext_lazy("Open deals by the month they are expected to close: their sum, and "
                     "weighted by each stage's win probability."),
        ("bar", "number", "table"), filters=DEALS,
        ahead=True, needs="deals")  # fmt: skip
def forecast(scope: Scope) -> Figures:
    """Beside the stages' probabilities, the probability learned from the company's own
    closed deals (when there is enough history): a deal scored since last night counts
    at its stage's."""
    open_deals = scope.deals().filter(status=Deal.OPEN)
    money = DecimalField(max_digits=20, decimal_places=4)
    weighted = ExpressionWrapper(F("amount") * F("stage__probability") / 100, output_field=money)
    model = learning.latest()
    learns = model is not None and bool(model.weights)
    chance = Coalesce(F("score__probability"), F("stage__probability") / 100.0,
                      output_field=FloatField())  # fmt: skip
    sums = {"deals": Count("id"), "expected": Sum("amount"), "weighted": Sum(weighted)}
    if learns:
        sums["learned"] = Sum(ExpressionWrapper(F("amount") * chance, output_field=money))
    mine = open_deals.filter(currency=scope.currency)
    monthly = scope.period.as_months()
    dated = mine.filter(expected_close_date__gte=scope.period.since,
                        expected_close_date__lte=scope.period.until)  # fmt: skip
    months = _by_bucket(scope.with_period(monthly), dated, "expected_close_date", **sums)
    today = timezone.localdate()
    late = mine.filter(expected_close_date__lt=min(today, scope.period.since)).aggregate(**sums)
    undated = mine.filter(expected_close_date=None).aggregate(**sums)
    rows = []
    if late["deals"]:
        rows.append({"label": _("Overdue"), **late})
    for bucket in monthly.buckets():
        rows.append({"label": monthly.label(bucket), **months[bucket]})
    if undated["deals"]:
        rows.append({"label": _("No date"), **undated})
    keys = ["expected", "weighted", *(["learned"] if learns else [])]
    for row in rows:
        row.setdefault("deals", 0)
        for key in keys:
            row[key] = Decimal(str(row.get(key) or 0)).quantize(STORED)
    shown = [("expected", _("Expected")), ("weighted", _("Weighted by stage"))]
    if learns:
        shown.append(("learned", _("Weighted by learned chance")))
    labels, series = _series(rows, "label", *shown)
    notes = _other_currencies(open_deals, scope)
    notes.append(learning.described(model))
    return Figures(
        total_label=_("expected, weighted by stage"),
        columns=[Column("label", _("Month")), Column("deals", _("Open deals"), "int"),
                 *(Column(key, label, "money") for key, label in shown)],
        rows=rows if any(r["deals"] for r in rows) else [], labels=labels, series=series,
        total=sum(r["weighted"] for r in rows), total_kind="money", notes=notes,
    )  # fmt: skip


def _quarters(period: Period) -> list[tuple[date, date]]:
    """The quarters the period touches, each (first day, last day)."""
    found, day = [], period.since
    while day <= period.until:
        first, last = preset_range("this_quarter", day)
        found.append((first, last))
        day = last + timedelta(days=1)
    return found


def _quarter_label(first: date) -> str:
    return _("Q%(number)s %(year)s") % {"number": (first.month - 1) // 3 + 1, "year": first.year}


@report("forecast_accuracy", gettext_lazy("Forecast against sales"),
        gettext_lazy("For each quarter: what the forecast expected when the quarter began "
                     "(open deals expected to close in it, weighted by stage), and what was "
                     "won."),
        ("bar", "number", "table"), filters=DEALS, needs="deals")  # fmt: skip
def forecast_accuracy(scope: Scope) -> Figures:
    quarters = _quarters(scope.period)
    kept = {
        s.quarter: s for s in ForecastSnapshot.objects.filter(quarter__in=[q for q, _l in quarters])
    }
    visible = scope.deals()
    money = DecimalField(max_digits=20, decimal_places=4)
    weighted = ExpressionWrapper(F("amount") * F("probability") / 100, output_field=money)
    rows, notes, today = [], [], timezone.localdate()
    for first, last in quarters:
        quarter = Period(first, last)
        won = visible.filter(
            status=Deal.WON, currency=scope.currency, closed_at__gte=quarter.start,
            closed_at__lt=quarter.end,
        ).aggregate(n=Count("id"), total=Sum("amount"))  # fmt: skip
        row = {"label": _quarter_label(first), "won": won["total"] or Decimal(0),
               "won_deals": won["n"], "forecast": None, "expected": None, "hit": None}  # fmt: skip
        snapshot = kept.get(first)
        if snapshot is not None:
            counted = snapshot.entries.filter(
                deal__in=visible.values("pk"), currency=scope.currency
            ).aggregate(n=Count("id"), expected=Sum("amount"), forecast=Sum(weighted))
            row["expected"] = counted["expected"] or Decimal(0)
            row["forecast"] = Decimal(str(counted["forecast"] or 0)).quantize(STORED)
            row["hit"] = (
                _rate(float(row["won"]), float(row["forecast"])) if row["forecast"] else None
            )
            taken = timezone.localtime(snapshot.taken_at).date()
            if taken > first:
                notes.append(_("%(quarter)s: the forecast was kept on %(day)s, %(days)s days "
                               "into the quarter.") % {
                    "quarter": row["label"], "day": date_format(taken, "SHORT_DATE_FORMAT"),
                    "days": (taken - first).days})  # fmt: skip
        elif first <= today:
            notes.append(_("%(quarter)s: no forecast was kept — Accord keeps one on the first "
                           "day of each quarter it runs in.")
                         % {"quarter": row["label"]})  # fmt: skip
        if last >= today >= first:
            row["label"] = _("%(quarter)s so far") % {"quarter": row["label"]}
        rows.append(row)
    labels, series = _series(rows, "label", ("forecast", _("Forecast, weighted")),
                             ("won", _("Won")))  # fmt: skip
    forecast_total = sum(r["forecast"] for r in rows if r["forecast"] is not None)
    won_total = sum(r["won"] for r in rows if r["forecast"] is not None)
    return Figures(
        total_label=_("of the forecast was won"),
        columns=[Column("label", _("Quarter")),
                 Column("expected", _("Expected when it began"), "money"),
                 Column("forecast", _("Forecast, weighted by stage"), "money"),
                 Column("won_deals", _("Deals won"), "int"), Column("won", _("Won"), "money"),
                 Column("hit", _("Won of the forecast"), "percent")],
        rows=rows if any(r["won_deals"] or r["forecast"] for r in rows) else [],
        labels=labels, series=series, notes=notes,
        total=_rate(float(won_total), float(forecast_total)) if forecast_total else None,
        total_kind="percent",
    )  # fmt: skip


@report("win_rate", gettext_lazy("Win rate"),
        gettext_lazy("Of the deals closed, the share won; and how long the won ones took."),
        ("line", "number", "table"), filters=DEALS,
        needs="deals")  # fmt: skip
def win_rate(scope: Scope) -> Figures:
    closed = _closed_days(scope, Deal.WON, Deal.LOST)
    found: dict = defaultdict(lambda: {"won": 0, "lost": 0})
    for row in closed.values("day", "status").annotate(n=DAY_COUNT).order_by():
        found[scope.period.bucket_of(row["day"])][row["status"]] += row["n"]
    rows = []
    for bucket in scope.period.buckets():
        won, lost = found[bucket]["won"], found[bucket]["lost"]
        rows.append({"label": scope.period.label(bucket), "won": won, "lost": lost,
                     "rate": _rate(won, won + lost)})  # fmt: skip
    won_all, lost_all = sum(r["won"] for r in rows), sum(r["lost"] for r in rows)
    labels, series = _series(rows, "label", ("rate", _("Win rate, %")))
    return Figures(
        total_label=_("of the deals closed were won"),
        columns=[Column("label", _("Period")), Column("won", _("Won"), "int"),
                 Column("lost", _("Lost"), "int"), Column("rate", _("Win rate"), "percent")],
        rows=rows if won_all or lost_all else [], labels=labels, series=series,
        total=_rate(won_all, won_all + lost_all), total_kind="percent",
    )  # fmt: skip


@report("sales_cycle", gettext_lazy("Sales cycle"),
        gettext_lazy("Days from a deal's creation to its win: the median, over time."),
        ("number", "line", "table"), filters=DEALS,
        needs="deals", lower_better=True)  # fmt: skip
def sales_cycle(scope: Scope) -> Figures:
    won = _won(scope)
    by_bucket: dict = defaultdict(list)
    every = []
    for created, closed in won.order_by().values_list("created_at", "closed_at")[:CYCLE_SAMPLE]:
        days = max((closed - created).total_seconds(), 0) / 86400
        by_bucket[scope.period.bucket_of(closed)].append(days)
        every.append(days)
    rows = [
        {"label": scope.period.label(b), "won": len(by_bucket[b]),
         "days": round(median(by_bucket[b]), 1) if by_bucket[b] else None}
        for b in scope.period.buckets()
    ]  # fmt: skip
    labels, series = _series(rows, "label", ("days", _("Median days")))
    return Figures(
        total_label=_("median days from new deal to win"),
        columns=[Column("label", _("Period")), Column("won", _("Won"), "int"),
                 Column("days", _("Median days to win"), "days")],
        rows=rows if every else [], labels=labels, series=series,
        total=round(median(every), 1) if every else None, total_kind="days",
    )  # fmt: skip


def _pipeline_of(scope: Scope) -> Pipeline | None:
    return scope.pipeline or pipelines_for(scope.user).first()


@report("funnel", gettext_lazy("Sales funnel"),
        gettext_lazy("Deals entering each stage of a pipeline, how many went on, and how long "
                     "they stayed."),
        ("funnel", "table"), filters=frozenset({"pipeline"}), needs="deals")  # fmt: skip
def sales_funnel(scope: Scope) -> Figures:
    pipeline = _pipeline_of(scope)
    found = funnel(scope.user, pipeline, scope.period.start, scope.period.end) if pipeline else []
    rows = [
        {"label": str(row.stage), "entered": row.entered, "moved_on": row.moved_on,
         "conversion": round(row.conversion * 100, 1) if row.conversion is not None else None,
         "days": row.median_days}
        for row in found
    ]  # fmt: skip
    labels, series = _series(rows, "label", ("entered", _("Entered")))
    return Figures(
        total_label="",
        columns=[Column("label", _("Stage")), Column("entered", _("Entered"), "int"),
                 Column("moved_on", _("Went on"), "int"),
                 Column("conversion", _("Conversion"), "percent"),
                 Column("days", _("Median days in stage"), "days")],
        rows=rows if any(r["entered"] for r in rows) else [], labels=labels, series=series,
        notes=[_("Pipeline: %(name)s") % {"name": str(pipeline)}] if pipeline else [],
    )  # fmt: skip


@report("pipeline", gettext_lazy("Pipeline now"),
        gettext_lazy("Open deals in each stage of a pipeline: how many, their sum and the sum "
                     "weighted by the stage's win probability."),
        ("bar", "number", "table"), filters=DEALS,
        needs="deals", now=True)  # fmt: skip
def pipeline_now(scope: Scope) -> Figures:
    pipeline = _pipeline_of(scope)
    rows = []
    if pipeline is not None:
        deals = scope.owned(deals_visible_to(scope.user)).filter(
            pipeline=pipeline, status=Deal.OPEN, currency=scope.currency
        )
        grouped = {
            row["stage"]: row
            for row in deals.values("stage").annotate(deals=Count("id"), summed=Sum("amount"))
        }
        for stage in pipeline.stages.filter(kind="open").order_by("position", "id"):
            row = grouped.get(stage.pk, {})
            amount = row.get("summed") or Decimal(0)
            weighted = (amount * stage.probability / 100).quantize(STORED)
            rows.append({"label": str(stage), "deals": row.get("deals", 0), "amount": amount,
                         "weighted": weighted})  # fmt: skip
    labels, series = _series(rows, "label", ("amount", _("Sum")),
                             ("weighted", _("Weighted by stage")))  # fmt: skip
    return Figures(
        total_label=_("in open deals"),
        columns=[Column("label", _("Stage")), Column("deals", _("Open deals"), "int"),
                 Column("amount", _("Sum"), "money"),
                 Column("weighted", _("Weighted by stage"), "money")],
        rows=rows if any(r["deals"] for r in rows) else [], labels=labels, series=series,
        total=sum(r["amount"] for r in rows), total_kind="money",
        notes=[_("Pipeline: %(name)s") % {"name": str(pipeline)}] if pipeline else [],
    )  # fmt: skip


# --- Work -------------------------------------------------------------------------------


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
    labels, series = _series(rows, "label", ("done", _("Done")), ("overdue", _("Overdue")))
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
    labels, series = _series(rows, "label", ("won", _("Deals won")), ("calls", _("Calls")))
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
    labels, series = _series(rows, "label", ("median", _("Median answer, working minutes")))
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
    labels, series = _series(rows, "label", *kinds[:3])
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


# --- Clients and marketing --------------------------------------------------------------


@report("new_clients", gettext_lazy("New clients"),
        gettext_lazy("People added as clients, over time."),
        ("number", "line", "bar", "table"), needs="clients")  # fmt: skip
def new_clients(scope: Scope) -> Figures:
    people = scope.owned(people_visible_to(scope.user)).filter(
        created_at__gte=scope.period.start, created_at__lt=scope.period.end
    )
    found = _by_bucket(scope, people, "created_at", people=Count("id"))
    rows = [{"label": scope.period.label(b), "people": found[b]["people"]}
            for b in scope.period.buckets()]  # fmt: skip
    labels, series = _series(rows, "label", ("people", _("New clients")))
    return Figures(
        total_label=_("new clients"),
        columns=[Column("label", _("Period")), Column("people", _("New clients"), "int")],
        rows=rows if any(r["people"] for r in rows) else [],
        labels=labels,
        series=series,
        total=sum(r["people"] for r in rows),
    )


@report("channels", gettext_lazy("Leads and cost per channel"),
        gettext_lazy("Per channel: leads, deals and sales they brought, what the campaigns "
                     "spent, cost per lead and per sale, and the return. A channel that spends "
                     "without selling is flagged."),
        ("bar", "table"), filters=frozenset(), needs="campaigns")  # fmt: skip
def channels(scope: Scope) -> Figures:
    found = channel_results(scope.user, scope.period.since, scope.period.until)
    currency = scope.currency
    limit = company().max_cost_per_sale
    rows = []
    for channel, results in found:
        rows.append({
            "label": str(channel) if channel else _("Not known"), "leads": results.leads,
            "deals": results.deals, "won": results.won,
            "revenue": results.revenue.get(currency, Decimal(0)),
            "spent": results.spent.get(currency, Decimal(0)),
            "per_lead": results.per_lead(currency), "per_sale": results.per_sale(currency),
            "return": results.return_percent(currency),
            "flag": results.flag(currency, limit),
        })  # fmt: skip
    rows = [r for r in rows if r["leads"] or r["deals"] or r["spent"]]
    rows.sort(key=lambda r: (-r["leads"], str(r["label"])))
    labels, series = _series(rows, "label", ("leads", _("Leads")), ("won", _("Sales")))
    return Figures(
        total_label=_("leads"),
        columns=[Column("label", _("Channel")), Column("leads", _("Leads"), "int"),
                 Column("deals", _("Deals"), "int"), Column("won", _("Sales"), "int"),
                 Column("spent", _("Spent"), "money"), Column("revenue", _("Revenue"), "money"),
                 Column("per_lead", _("Per lead"), "money"),
                 Column("per_sale", _("Per sale"), "money"),
                 Column("return", _("Return"), "percent")],
        rows=rows, labels=labels, series=series, total=sum(r["leads"] for r in rows),
        flagged=sum(1 for r in rows if r["flag"]),
    )  # fmt: skip


# --- Money ------------------------------------------------------------------------------


@report("income", gettext_lazy("Income and expenses"),
        gettext_lazy("Money received (less refunds) and spent, per month."),
        ("bar", "number", "table"), filters=frozenset(), needs="invoices")  # fmt: skip
def income(scope: Scope) -> Figures:
    months = scope.period.as_months()
    found = {
        row["month"]: row
        for row in income_and_expenses(scope.user, start=scope.period.since,
                                       end=scope.period.until)
        if row["currency"] == scope.currency
    }  # fmt: skip
    rows = []
    for bucket in months.buckets():
        row = found.get(bucket, {})
        got, spent = row.get("income", Decimal(0)), row.get("expenses", Decimal(0))
        rows.append({"label": months.label(bucket), "income": got, "expenses": spent,
                     "result": got - spent})  # fmt: skip
    labels, series = _series(rows, "label", ("income", _("Income")), ("expenses", _("Expenses")))
    return Figures(
        total_label=_("income less expenses"),
        columns=[Column("label", _("Month")), Column("income", _("Income"), "money"),
                 Column("expenses", _("Expenses"), "money"),
                 Column("result", _("Result"), "money")],
        rows=rows if any(r["income"] or r["expenses"] for r in rows) else [],
        labels=labels, series=series, total=sum(r["result"] for r in rows), total_kind="money",
    )  # fmt: skip


@report("invoices", gettext_lazy("Invoices and payments"),
        gettext_lazy("Per manager: invoices issued in the period, their sum, what is paid, what "
                     "is overdue, and the median days to pay."),
        ("bar", "number", "table"), needs="invoices", lower_better=True)  # fmt: skip
def invoices(scope: Scope) -> Figures:
    issued = (
        scope.owned(invoices_visible_to(scope.user))
        .filter(
            kind=Invoice.INVOICE,
            issued_on__gte=scope.period.since,
            issued_on__lte=scope.period.until,
        )
        .exclude(status=Invoice.CANCELLED)
    )
    mine = issued.filter(currency=scope.currency)
    grouped = mine.values("owner").annotate(
        n=Count("id"), issued=Sum("total"), got=Sum("paid"),
        overdue=Sum("total", filter=Q(status=Invoice.OVERDUE)),
    ).order_by("-issued")  # fmt: skip
    waits: dict = defaultdict(list)
    for owner, issued_on, paid_on in mine.filter(paid_on__isnull=False).values_list(
        "owner", "issued_on", "paid_on"
    )[:CYCLE_SAMPLE]:
        waits[owner].append(max((paid_on - issued_on).days, 0))
    found = list(grouped)
    names = _names([row["owner"] for row in found])
    rows = [
        {"label": names.get(row["owner"], "—"), "invoices": row["n"], "total": row["issued"],
         "paid": row["got"], "overdue": row["overdue"] or Decimal(0),
         "days": median(waits[row["owner"]]) if waits[row["owner"]] else None}
        for row in found
    ]  # fmt: skip
    labels, series = _series(rows, "label", ("total", _("Issued")), ("paid", _("Paid")))
    return Figures(
        total_label=_("issued and not yet paid"),
        columns=[Column("label", _("Who")), Column("invoices", _("Invoices"), "int"),
                 Column("total", _("Issued"), "money"), Column("paid", _("Paid"), "money"),
                 Column("overdue", _("Overdue"), "money"),
                 Column("days", _("Median days to pay"), "days")],
        rows=rows, labels=labels, series=series,
        total=sum((r["total"] or 0) - (r["paid"] or 0) for r in rows), total_kind="money",
        notes=_other_currencies(issued, scope, "total"),
    )  # fmt: skip


# --- Feedback ---------------------------------------------------------------------------

PROMOTER = Q(survey__scale=Survey.NPS, score__gte=9) | Q(survey__scale=Survey.STARS, score=5)
DETRACTOR = Q(survey__scale=Survey.NPS, score__lte=6) | Q(survey__scale=Survey.STARS, score__lte=2)
OUT_OF_TEN = Case(
    When(survey__scale=Survey.STARS, then=F("score") * 2),
    default=F("score"),
    output_field=FloatField(),
)


@report("feedback", gettext_lazy("Client feedback"),
        gettext_lazy("Per manager rated: survey answers, the average (out of 10), promoters "
                     "less detractors (NPS) and low scores."),
        ("bar", "number", "table"), needs="clients")  # fmt: skip
def feedback(scope: Scope) -> Figures:
    # The clients the reader may see, by their owner (a join, not a list of a million).
    invites = visibility_scope(SurveyInvite.objects.all(), user=scope.user,
                               record_type="clients", owner_field="person__owner")  # fmt: skip
    answers = scope.owned(invites, "rated").filter(
        answered_at__gte=scope.period.start, answered_at__lt=scope.period.end
    )
    grouped = list(
        answers.values("rated")
        .annotate(n=Count("id"), average=Avg(OUT_OF_TEN), up=Count("id", filter=PROMOTER),
                  down=Count("id", filter=DETRACTOR),
                  low=Count("id", filter=Q(score__lte=F("survey__low_score"))))
        .order_by("-n")
    )  # fmt: skip
    names = _names([row["rated"] for row in grouped])
    rows = [
        {"label": names.get(row["rated"], "—"), "answers": row["n"],
         "average": round(row["average"], 1) if row["average"] is not None else None,
         "nps": round((row["up"] - row["down"]) * 100 / row["n"]), "low": row["low"]}
        for row in grouped
    ]  # fmt: skip
    everyone = sum(r["answers"] for r in rows)
    up = sum(row["up"] for row in grouped)
    down = sum(row["down"] for row in grouped)
    labels, series = _series(rows, "label", ("average", _("Average, out of 10")))
    return Figures(
        total_label=_("promoters less detractors (NPS)"),
        columns=[Column("label", _("Manager")), Column("answers", _("Answers"), "int"),
                 Column("average", _("Average, out of 10"), "number"),
                 Column("nps", _("NPS"), "int"), Column("low", _("Low scores"), "int")],
        rows=rows, labels=labels, series=series,
        total=round((up - down) * 100 / everyone) if everyone else None,
    )  # fmt: skip
