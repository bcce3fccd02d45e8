"""Sales reports: volume (by period, manager, pipeline, channel, product, client group),
the forecast and how it compared with what was won, win rate, sales cycle, the funnel
and the pipeline now."""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from itertools import batched
from statistics import median

from django.core.exceptions import ValidationError
from django.db.models import Count, DecimalField, ExpressionWrapper, F, FloatField, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.contacts.queries import segments_visible_to
from accord.core.money import STORED
from accord.marketing.models import Touch
from accord.reports import learning
from accord.reports.catalog.base import (
    CYCLE_SAMPLE,
    DEALS,
    Column,
    Figures,
    Scope,
    bucketed,
    names_of,
    other_currencies,
    rate_of,
    report,
    series_of,
    topped,
)
from accord.reports.models import ForecastSnapshot
from accord.reports.periods import Period, preset_range
from accord.sales.models import Deal, LineItem, Pipeline
from accord.sales.queries import (
    deal_days_visible_to,
    deals_visible_to,
    funnel,
    in_segment,
    pipelines_for,
)


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
    labels, series = series_of(rows, "label", ("revenue", _("Revenue")))
    return Figures(
        total_label=_("won in the period"),
        columns=[Column("label", _("Period")), Column("deals", _("Deals won"), "int"),
                 Column("revenue", _("Revenue"), "money")],
        rows=rows if any(r["deals"] for r in rows) else [],
        labels=labels, series=series, total=sum(r["revenue"] for r in rows),
        total_kind="money", notes=other_currencies(won, scope, count=DAY_COUNT),
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
    rows = topped(rows, ("deals", "revenue"))
    chart_labels, series = series_of(rows, "label", ("revenue", _("Revenue")))
    return Figures(
        total_label=_("won in the period"),
        columns=[Column("label", _("Who") if key == "owner" else _("Name")),
                 Column("deals", _("Deals won"), "int"), Column("revenue", _("Revenue"), "money")],
        rows=rows, labels=chart_labels, series=series,
        total=sum(r["revenue"] for r in rows), total_kind="money",
        notes=other_currencies(won, scope, count=count),
    )  # fmt: skip


@report("sales_by_manager", gettext_lazy("Sales by manager"),
        gettext_lazy("Deals won and their sum per owner."), ("bar", "table"),
        filters=frozenset({"pipeline", "team"}), needs="deals")  # fmt: skip
def sales_by_manager(scope: Scope) -> Figures:
    return _grouped_sales(scope, "owner", names_of)


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
    rows = topped(rows, ("deals", "revenue"))
    labels, series = series_of(rows, "label", ("revenue", _("Revenue")))
    return Figures(
        total_label=_("won in the period"),
        columns=[Column("label", _("Name")), Column("deals", _("Deals won"), "int"),
                 Column("revenue", _("Revenue"), "money")],
        rows=rows, labels=labels, series=series,
        total=sum(r["revenue"] for r in rows), total_kind="money",
        notes=other_currencies(days, scope, count=DAY_COUNT),
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
    rows = topped(rows, ("quantity", "revenue"))
    labels, series = series_of(rows, "label", ("revenue", _("Revenue")))
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
    rows, grouped, notes = [], Q(pk__in=[]), other_currencies(_won(scope), scope)
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
    labels, series = series_of(rows, "label", ("revenue", _("Revenue")))
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
    months = bucketed(scope.with_period(monthly), dated, "expected_close_date", **sums)
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
    labels, series = series_of(rows, "label", *shown)
    notes = other_currencies(open_deals, scope)
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
                rate_of(float(row["won"]), float(row["forecast"])) if row["forecast"] else None
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
    labels, series = series_of(rows, "label", ("forecast", _("Forecast, weighted")),
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
        total=rate_of(float(won_total), float(forecast_total)) if forecast_total else None,
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
                     "rate": rate_of(won, won + lost)})  # fmt: skip
    won_all, lost_all = sum(r["won"] for r in rows), sum(r["lost"] for r in rows)
    labels, series = series_of(rows, "label", ("rate", _("Win rate, %")))
    return Figures(
        total_label=_("of the deals closed were won"),
        columns=[Column("label", _("Period")), Column("won", _("Won"), "int"),
                 Column("lost", _("Lost"), "int"), Column("rate", _("Win rate"), "percent")],
        rows=rows if won_all or lost_all else [], labels=labels, series=series,
        total=rate_of(won_all, won_all + lost_all), total_kind="percent",
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
    labels, series = series_of(rows, "label", ("days", _("Median days")))
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
    labels, series = series_of(rows, "label", ("entered", _("Entered")))
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
    labels, series = series_of(rows, "label", ("amount", _("Sum")),
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
