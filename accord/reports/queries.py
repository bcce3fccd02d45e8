"""Reads of dashboards: those a user may open (their own and those shared with everyone),
the dashboard their role starts with, and a widget's figures as the reader may see
them, with the same figure for the period before, for its trend."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from accord.accounts.models import Team
from accord.accounts.queries import people_in_reach
from accord.core.company import default_currency
from accord.core.visibility import ALL, NONE, READ, TEAM, WRITE, effective_level
from accord.reports.catalog import REPORTS, Figures, Report, Scope
from accord.reports.models import Dashboard, Widget
from accord.reports.periods import Period


def teams_in_reach(user):
    """The teams of the colleagues the user's reports reach (a widget's team filter)."""
    return Team.objects.filter(members__in=people_in_reach(user)).distinct().order_by("name")


def dashboards_for(user) -> QuerySet[Dashboard]:
    return Dashboard.objects.filter(Q(owner=user) | Q(shared=True)).select_related("owner")


def own_dashboard(user, pk) -> Dashboard | None:
    return Dashboard.objects.filter(owner=user, pk=pk).first() if str(pk).isdecimal() else None


# What each kind of role opens first: (report, chart, period, just mine, wide). The
# numbers come four to a row (two on a narrow screen), a chart or a table takes two places.
STARTERS = {
    "manager": [
        ("sales", "number", "this_month", True, False),
        ("win_rate", "number", "this_quarter", True, False),
        ("tasks", "number", "this_month", True, False),
        ("response_times", "number", "last_30", True, False),
        ("pipeline", "bar", "this_month", True, False),
        ("forecast", "bar", "next_3_months", True, False),
        ("activity", "line", "last_30", True, True),
    ],
    "head": [
        ("sales", "number", "this_month", False, False),
        ("win_rate", "number", "this_quarter", False, False),
        ("feedback", "number", "last_90", False, False),
        ("tasks", "number", "this_month", False, False),
        ("forecast", "bar", "next_6_months", False, False),
        ("sales_by_manager", "bar", "this_quarter", False, False),
        ("sales", "line", "last_12_months", False, True),
        ("performance", "table", "this_month", False, True),
        ("tasks", "bar", "this_month", False, False),
        ("funnel", "funnel", "this_quarter", False, False),
    ],
    "marketing": [
        ("new_clients", "number", "this_month", False, False),
        ("channels", "number", "this_month", False, False),
        ("sales", "number", "this_month", False, False),
        ("feedback", "number", "last_90", False, False),
        ("channels", "table", "last_90", False, True),
        ("new_clients", "line", "last_12_months", False, False),
        ("sales_by_channel", "bar", "this_quarter", False, False),
    ],
}
STARTERS["admin"] = [
    ("sales", "number", "this_month", False, False),
    ("win_rate", "number", "this_quarter", False, False),
    ("invoices", "number", "this_month", False, False),
    ("tasks", "number", "this_month", False, False),
    *STARTERS["head"][4:6],
    ("sales", "line", "last_12_months", False, True),
    ("income", "bar", "last_12_months", False, False),
    ("funnel", "funnel", "this_quarter", False, False),
    ("performance", "table", "this_month", False, True),
    ("channels", "table", "last_90", False, True),
]


def role_kind(user) -> str:
    """Which starting dashboard suits the user's role: by what the role may do, so an
    administrator's own roles fit too."""
    role = getattr(user, "role", None)
    if user.is_superuser or (role and (role.slug == "administrator" or role.can_manage_users)):
        return "admin"
    deals_read = effective_level(user, "deals", READ)
    sells = effective_level(user, "deals", WRITE) != NONE
    runs_campaigns = effective_level(user, "campaigns", WRITE) != NONE
    if (role and role.slug == "marketing") or deals_read == NONE or (runs_campaigns and not sells):
        return "marketing"
    # Whose work their reports reach: the whole company or a team, or only their own.
    return "head" if effective_level(user, "reports", READ) in (ALL, TEAM) else "manager"


NAMES = {"manager": _("My work"), "head": _("Sales"), "marketing": _("Marketing"),
         "admin": _("Company")}  # fmt: skip


def starter(user) -> tuple[str, list[Widget]]:
    """The dashboard the user's role starts with (unsaved widgets), and its name."""
    kind = role_kind(user)
    widgets = [
        Widget(report=report, chart=chart, period=period, member=user if mine else None,
               wide=wide, position=index)
        for index, (report, chart, period, mine, wide) in enumerate(STARTERS[kind])
        if REPORTS[report].allowed(user)
    ]  # fmt: skip
    return str(NAMES[kind]), widgets


@dataclass
class Shown:
    """A widget as the reader sees it: the report, its figures over the period, and the
    number's trend against the period before."""

    widget: Widget
    report: Report
    period: Period
    figures: Figures
    previous: object = None
    filters: dict | None = None  # the pipeline, team and colleague in force
    index: int = 0  # its place on the page

    @property
    def data_id(self) -> str:
        return f"chart-data-{self.index}"

    @property
    def chart_data(self) -> dict:
        """What the browser's chart draws (json_script)."""
        figures = self.figures
        first = figures.series[0]["key"] if figures.series else ""
        kind = next((c.kind for c in figures.columns if c.key == first), "int")
        return {"type": self.widget.chart, "labels": figures.labels, "series": figures.series,
                "kind": kind, "currency": default_currency()}  # fmt: skip

    @property
    def title(self) -> str:
        return self.widget.title or str(self.report.title)

    @property
    def query(self) -> str:
        """The widget's report on a page of its own, with the same filters."""
        params = {"period": "custom", "since": self.period.since.isoformat(),
                  "until": self.period.until.isoformat(), "chart": self.widget.chart}  # fmt: skip
        for key, value in (self.filters or {}).items():
            if value is not None:
                params[key] = value.pk
        return urlencode(params)

    @property
    def good(self) -> bool | None:
        """Whether the change is for the better (fewer overdue tasks are)."""
        change = self.change
        if not change:
            return None
        return (change < 0) if self.report.lower_better else (change > 0)

    @property
    def change(self) -> float | None:
        """The number's change against the period before, in per cent."""
        now, before = self.figures.total, self.previous
        if now is None or before in (None, 0):
            return None
        return round((float(now) - float(before)) * 100 / abs(float(before)), 1)


def scope_for(user, *, period: Period, pipeline=None, team=None, member=None) -> Scope:
    """Whose figures: a colleague or a team, as far as the user's reports reach."""
    people = None
    if member is not None:
        people = list(people_in_reach(user).filter(pk=member.pk).values_list("pk", flat=True))
    elif team is not None:
        people = list(people_in_reach(user).filter(team=team).values_list("pk", flat=True))
    return Scope(user, period, default_currency(), pipeline, people)


def _computed(report: Report, scope: Scope, done: dict | None) -> Figures:
    """The report's figures for the scope, once per page (`done`): a number and a chart of
    the same report and period share them."""
    if done is None:
        return report.compute(scope)
    key = (report.key, scope.period, getattr(scope.pipeline, "pk", None),
           tuple(scope.people) if scope.people is not None else None)  # fmt: skip
    if key not in done:
        done[key] = report.compute(scope)
    return done[key]


def shown(
    user, widget: Widget, overrides: dict | None = None, done: dict | None = None
) -> Shown | None:
    """A widget's figures for `user`, the page's filters (`overrides`: period, pipeline,
    team, member) over its own; None when the report is not the user's to read. `done`:
    the figures the page's other widgets computed already."""
    report = REPORTS.get(widget.report)
    if report is None or not report.allowed(user):
        return None
    overrides = overrides or {}
    period = overrides.get("period") or Period.named(widget.period)
    if not report.ahead:
        period = period.so_far()
    filters = {"pipeline": widget.pipeline, "team": widget.team, "member": widget.member}
    for key in ("pipeline", "team", "member"):
        if overrides.get(key) is not None:
            filters[key] = overrides[key]
    if overrides.get("team") is not None:
        filters["member"] = None if overrides.get("member") is None else filters["member"]
    accepted = report.filters | ({"member"} if "user" in report.filters else set())
    filters = {k: v for k, v in filters.items() if k in accepted}
    scope = scope_for(user, period=period, **filters)
    figures = _computed(report, scope, done)
    previous = None
    if widget.chart == "number" and not report.ahead and not report.now:
        previous = _computed(report, scope.with_period(period.previous()), done).total
    return Shown(widget, report, period, figures, previous, filters)
