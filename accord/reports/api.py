"""API: the reports' figures — communication: per employee and channel, messages and
calls in and out, answers and how soon (median, 90th percentile, in working minutes),
missed calls and those not called back; and a client's channels."""

from datetime import date, timedelta
from typing import Literal

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from accord.accounts.queries import people_in_reach
from accord.comms.queries import (
    STAT_CHANNELS,
    ChannelFigures,
    client_channels,
    comms_figures,
    totals,
)
from accord.contacts.queries import companies_visible_to, people_visible_to
from accord.core.api.problems import Problem
from accord.core.api.schemas import RecordId
from accord.core.company import default_currency
from accord.core.visibility import NONE, READ, effective_level
from accord.reports.catalog import REPORTS, allowed_reports
from accord.reports.forms import FilterForm
from accord.reports.models import Widget
from accord.reports.periods import PRESET_KEYS
from accord.reports.queries import shown

router = Router(tags=["reports"])
Channel = Literal["email", "sms", "telegram", "whatsapp", "phone"]
MAX_DAYS = 3 * 366


class FiguresOut(Schema):
    incoming: int
    outgoing: int
    answered: int = Field(description="Clients' waits answered (a missed call: called back)")
    answer_median_minutes: int | None = Field(description="Working minutes; null: none")
    answer_p90_minutes: int | None = Field(description="90% of answers within, working minutes")
    missed: int = Field(description="Missed calls (the phone only)")
    not_returned: int = Field(description="Missed calls nobody called back")

    @staticmethod
    def resolve_answer_median_minutes(figures) -> int | None:
        return figures.median

    @staticmethod
    def resolve_answer_p90_minutes(figures) -> int | None:
        return figures.p90


class EmployeeOut(Schema):
    user: str
    name: str
    all: FiguresOut
    channels: dict[Channel, FiguresOut]


class CommunicationOut(Schema):
    since: date
    until: date
    channels: dict[Channel, FiguresOut]
    all: FiguresOut
    employees: list[EmployeeOut]


class PeriodParams(Schema):
    since: date | None = Field(None, alias="from", description="Default: 90 days ago")
    until: date | None = Field(None, alias="to", description="Default: today")
    team: int | None = None


@router.get(
    "/reports/communication",
    response=CommunicationOut,
    summary="Communication figures per channel and employee (as far as your reports reach)",
)
def reports_communication(request, params: Query[PeriodParams]):
    if effective_level(request.auth, "reports", READ) == NONE:
        raise Http404
    today = timezone.localdate()
    until = params.until or today
    since = params.since or until - timedelta(days=90)
    if since > until or (until - since).days > MAX_DAYS:
        wrong = [{"field": "from", "message": "From must be on or before to, at most 3 years."}]
        raise Problem(422, "Give a period of at most three years.", errors=wrong)
    people = list(people_in_reach(request.auth))
    if params.team is not None:
        people = [p for p in people if p.team_id == params.team]
    figures = comms_figures([p.pk for p in people], since, until)
    summed = totals(figures)
    employees = []
    for person in people:
        everything = ChannelFigures()
        for one in figures[person.pk].values():
            everything.merged(one)
        employees.append({"user": str(person.pk), "name": str(person), "all": everything,
                          "channels": figures[person.pk]})  # fmt: skip
    return {"since": since, "until": until, "all": summed["all"],
            "channels": {c: summed[c] for c in STAT_CHANNELS}, "employees": employees}  # fmt: skip


class ClientChannelOut(Schema):
    channel: Channel
    incoming: int
    outgoing: int
    replies: int = Field(description="The client's answers to our messages")
    reply_median_minutes: float | None = Field(description="How soon they answer, wall clock")

    @staticmethod
    def resolve_replies(one) -> int:
        return len(one.replies)

    @staticmethod
    def resolve_reply_median_minutes(one) -> float | None:
        return round(one.reply_median, 1) if one.reply_median is not None else None


@router.get(
    "/people/{person_id}/channels",
    response=list[ClientChannelOut],
    summary="How a person talks with us, per channel; the first is the one they prefer",
)
def people_channels(request, person_id: RecordId):
    person = get_object_or_404(people_visible_to(request.auth), pk=person_id)
    return client_channels(person=person)


@router.get(
    "/companies/{company_id}/channels",
    response=list[ClientChannelOut],
    summary="How a company talks with us, per channel; the first is the one it prefers",
)
def companies_channels(request, company_id: RecordId):
    company = get_object_or_404(companies_visible_to(request.auth), pk=company_id)
    return client_channels(company=company)


class ReportOut(Schema):
    key: str
    title: str
    description: str
    charts: list[str] = Field(description="The ways it can be drawn; the first is the usual one")
    filters: list[str]

    @staticmethod
    def resolve_title(report) -> str:
        return str(report.title)

    @staticmethod
    def resolve_description(report) -> str:
        return str(report.description)

    @staticmethod
    def resolve_charts(report) -> list[str]:
        return list(report.charts)

    @staticmethod
    def resolve_filters(report) -> list[str]:
        return sorted(report.filters)


@router.get("/reports", response=list[ReportOut], summary="The reports you may read")
def reports_list(request):
    return allowed_reports(request.auth)


class ColumnOut(Schema):
    key: str
    label: str
    kind: str = Field(description="text, int, number, money, percent, days or minutes")


class ReportFiguresOut(Schema):
    key: str
    since: date
    until: date
    currency: str = Field(description="Money columns are in this currency")
    columns: list[ColumnOut]
    rows: list[dict]
    total: float | None = Field(description="The report's one number (a dashboard's number)")
    total_label: str
    previous_total: float | None = Field(description="The same number for the period before")
    notes: list[str]


class FiguresParams(Schema):
    period: str | None = Field(
        None, description="A named period: " + ", ".join(sorted(PRESET_KEYS))
    )
    since: date | None = Field(None, alias="from", description="With to: a period of your own")
    until: date | None = Field(None, alias="to")
    pipeline: int | None = None
    team: int | None = None
    user: int | None = Field(None, description="One colleague's figures")


@router.get(
    "/reports/{key}",
    response=ReportFiguresOut,
    summary="One report's figures, as far as your access reaches",
)
def reports_figures(request, key: str, params: Query[FiguresParams]):
    report = REPORTS.get(key)
    if report is None or not report.allowed(request.auth):
        raise Http404
    data = {"period": params.period or "", "since": params.since or "",
            "until": params.until or "", "pipeline": params.pipeline or "",
            "team": params.team or "", "member": params.user or ""}  # fmt: skip
    filters = FilterForm(data, user=request.auth)
    if not filters.is_valid():
        names = {"member": "user", "since": "from", "until": "to"}
        wrong = [{"field": names.get(name, name), "message": " ".join(errors)}
                 for name, errors in filters.errors.items()]  # fmt: skip
        raise Problem(422, "Check the report's filters.", errors=wrong)
    default = "next_6_months" if report.ahead else "last_90"
    item = shown(request.auth, Widget(report=key, chart="number", period=default),
                 filters.overrides())  # fmt: skip
    figures = item.figures
    rows = [{c.key: _plain(row.get(c.key)) for c in figures.columns} for row in figures.rows]
    for row, source in zip(rows, figures.rows, strict=True):
        if "flag" in source:
            row["flag"] = source["flag"]
    return {"key": key, "since": item.period.since, "until": item.period.until,
            "currency": default_currency(), "columns": figures.columns, "rows": rows,
            "total": _plain(figures.total), "total_label": figures.total_label,
            "previous_total": _plain(item.previous), "notes": figures.notes}  # fmt: skip


def _plain(value):
    if value is None or isinstance(value, int | float | str | bool):
        return value
    return float(value)
