"""Report screens: the sales funnel of a pipeline, and each employee's work, over a period."""

import datetime

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.comms.models import Telephony
from accord.comms.queries import call_figures
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
