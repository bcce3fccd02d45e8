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
from accord.core.visibility import NONE, READ, effective_level

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
