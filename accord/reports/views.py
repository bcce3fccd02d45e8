"""Report screens: the sales funnel of a pipeline, and each employee's work, over a period."""

import datetime

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

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
    the first call of a new lead, deals won."""

    if effective_level(request.user, "reports", READ) == NONE:
        raise Http404
    since, until = period(request)
    start = timezone.make_aware(datetime.datetime.combine(since, datetime.time.min))
    end = timezone.make_aware(datetime.datetime.combine(until, datetime.time.max))
    return render(
        request,
        "reports/people.html",
        {
            "page_title": _("Team performance"),
            "rows": performance(request.user, start, end),
            "since": since,
            "until": until,
            "currency": default_currency(),
        },
    )
