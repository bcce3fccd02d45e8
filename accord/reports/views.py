"""Report screens: the sales funnel of a pipeline, and each employee's work, over a period."""

import datetime

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accord.accounts.queries import people_in_reach
from accord.comms.models import Telephony
from accord.comms.queries import (
    STAT_CHANNELS,
    ChannelFigures,
    call_figures,
    comms_figures,
    totals,
)
from accord.core.company import default_currency
from accord.core.visibility import NONE, READ, effective_level
from accord.sales.queries import funnel, pipelines_for, win_rate
from accord.work.queries import performance

DEFAULT_DAYS = 90


def period(request) -> tuple[datetime.date, datetime.date]:
    today = timezone.localdate()
    try:
        since = datetime.date.fromisoformat(request.GET.get("from", ""))
    except ValueError:
        since = today - datetime.timedelta(days=DEFAULT_DAYS)
    try:
        until = datetime.date.fromisoformat(request.GET.get("to", ""))
    except ValueError:
        until = today
    return (since, until) if since <= until else (until, since)


@login_required
def funnel_report(request):
    if effective_level(request.user, "reports", READ) == NONE:
        raise Http404
    pipelines = pipelines_for(request.user)
    pipeline_id = request.GET.get("pipeline", "")
    pipeline = (pipelines.filter(pk=pipeline_id).first() if pipeline_id.isdecimal() else None) or (
        pipelines.first()
    )
    since, until = period(request)
    rows = []
    if pipeline is not None:
        start = timezone.make_aware(datetime.datetime.combine(since, datetime.time.min))
        end = timezone.make_aware(datetime.datetime.combine(until, datetime.time.max))
        rows = funnel(request.user, pipeline, start, end)
    widest = max((row.entered for row in rows), default=0)
    return render(
        request,
        "reports/funnel.html",
        {
            "page_title": _("Sales funnel"),
            "pipelines": pipelines,
            "pipeline": pipeline,
            "rows": rows,
            "widest": widest,
            "win_rate": win_rate(rows),
            "since": since,
            "until": until,
        },
    )


@login_required
def people_report(request):
    """Per employee (as far as the user's reports reach): tasks, calls, meetings, time to
    the first call of a new lead, deals won; with a PBX, its calls: taken, made, missed
    and not yet returned, and how soon missed calls were returned."""

    if effective_level(request.user, "reports", READ) == NONE:
        raise Http404
    since, until = period(request)
    start = timezone.make_aware(datetime.datetime.combine(since, datetime.time.min))
    end = timezone.make_aware(datetime.datetime.combine(until, datetime.time.max))
    rows = performance(request.user, start, end)
    phones = Telephony.objects.exists()
    if phones:  # the PBX's calls beside those logged by hand
        figures = call_figures([row.user.pk for row in rows], start, end)
        for row in rows:
            row.phone = figures[row.user.pk]
    return render(
        request,
        "reports/people.html",
        {
            "page_title": _("Team performance"),
            "rows": rows,
            "phones": phones,
            "since": since,
            "until": until,
            "currency": default_currency(),
        },
    )


@login_required
def communication_report(request):
    """How the team talks with clients over a period, from the daily rollups: per channel
    and per employee (as far as the user's reports reach; one team with ?team=), messages
    and calls in and out, clients' waits answered and how soon (median and 90th
    percentile, in working minutes), missed calls and those not called back."""
    if effective_level(request.user, "reports", READ) == NONE:
        raise Http404
    since, until = period(request)
    people = list(people_in_reach(request.user).select_related("team"))
    teams = sorted({p.team for p in people if p.team_id}, key=lambda t: t.name)
    team = next((t for t in teams if str(t.pk) == request.GET.get("team")), None)
    if team is not None:
        people = [p for p in people if p.team_id == team.pk]
    figures = comms_figures([p.pk for p in people], since, until)
    summed = totals(figures)
    rows = []
    for person in people:
        mine = figures[person.pk]
        everything = ChannelFigures()
        for one in mine.values():
            everything.merged(one)
        if everything.incoming or everything.outgoing or everything.missed:
            rows.append({"user": person, "all": everything, "channels": mine})
    labels = dict(channel_labels())
    chart = {
        "type": "bar", "kind": "int", "labels": [str(labels[c]) for c in STAT_CHANNELS],
        "series": [
            {"label": pgettext("messages and calls", "In"),
             "data": [summed[c].incoming for c in STAT_CHANNELS]},
            {"label": pgettext("messages and calls", "Out"),
             "data": [summed[c].outgoing for c in STAT_CHANNELS]},
        ],
    }  # fmt: skip
    return render(request, "reports/communication.html", {
        "page_title": _("Communication"),
        "since": since, "until": until, "teams": teams, "team": team,
        "channels": [(c, labels[c], summed[c]) for c in STAT_CHANNELS],
        "total": summed["all"], "rows": rows, "chart": chart,
    })  # fmt: skip


def channel_labels() -> list[tuple[str, str]]:
    """The channels' names in the request's language."""
    return [("email", _("E-mail")), ("sms", "SMS"), ("telegram", "Telegram"),
            ("whatsapp", "WhatsApp"), ("phone", _("Phone"))]  # fmt: skip
