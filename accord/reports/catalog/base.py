"""What every report is made of: the scope it reads, the figures it answers, the
register of reports, and the helpers their figures share."""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accord.accounts.models import User
from accord.core.formats import money
from accord.core.visibility import NONE, READ, effective_level
from accord.reports.periods import DAY, Period
from accord.sales.models import Pipeline
from accord.sales.queries import deals_visible_to

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


def as_number(value) -> float | None:
    """A figure as a chart draws it; None leaves a gap (no rate without deals)."""
    return None if value is None else float(value)


def other_currencies(queryset, scope: Scope, amount: str = "amount", count=None) -> list[str]:
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


def bucketed(scope: Scope, queryset, moment: str, **aggregates) -> dict:
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


def names_of(ids) -> dict:
    users = User.objects.filter(pk__in=[i for i in ids if i])
    names = {u.pk: u.full_name or u.email for u in users}
    names[None] = _("Nobody")
    return names


def topped(rows: list[dict], sums: tuple[str, ...], label_key: str = "label") -> list[dict]:
    """The first TOP rows, and the rest summed as one "Others" row."""
    if len(rows) <= TOP:
        return rows
    rest = {label_key: _("Others")}
    for key in sums:
        rest[key] = sum(row[key] or 0 for row in rows[TOP:])
    return [*rows[:TOP], rest]


def series_of(rows: list[dict], label_key: str, *keys: tuple[str, str]) -> tuple[list, list]:
    labels = [str(row[label_key]) for row in rows]
    series = [
        {"key": key, "label": str(label), "data": [as_number(row.get(key)) for row in rows]}
        for key, label in keys
    ]
    return labels, series


def rate_of(part: int, whole: int) -> float | None:
    return round(part * 100 / whole, 1) if whole else None
