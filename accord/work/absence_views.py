"""The team absence calendar, absences and work schedules (the records are the accounts
app's; the screens sit with the calendar and count the tasks an absence touches)."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accord.accounts.models import Absence, User
from accord.accounts.queries import (
    absence_calendar,
    schedule_of,
    time_managed_by,
    upcoming_absences,
)
from accord.accounts.services import absence_add, absence_delete, schedule_save
from accord.core.company import default_time_zone
from accord.core.ui.forms import apply_errors
from accord.work import forms
from accord.work.queries import tasks_visible_to


def month_of(value: str) -> datetime.date:
    """The first day of the month named YYYY-MM, else of this month."""
    try:
        return datetime.date.fromisoformat(f"{value}-01")
    except ValueError:
        return timezone.localdate().replace(day=1)


@login_required
def absences(request):
    first = month_of(request.GET.get("month", ""))
    today = timezone.localdate()
    managed = time_managed_by(request.user)
    form = forms.AbsenceForm(
        request.POST or None,
        people=managed,
        initial={"user": request.user, "starts": today, "ends": today},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            absence = absence_add(actor=request.user, **data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The absence is on the calendar."))
            due = (
                tasks_visible_to(request.user)
                .filter(
                    assignee=absence.user,
                    status="open",
                    due_at__date__gte=absence.starts,
                    due_at__date__lte=absence.ends,
                )
                .count()
            )
            if due:
                text = ngettext(
                    "%(user)s has %(count)s open task due while away: give it to someone else.",
                    "%(user)s has %(count)s open tasks due while away: reassign them.",
                    due,
                )
                messages.warning(request, text % {"user": absence.user, "count": due})
            return redirect(f"{request.path}?month={absence.starts:%Y-%m}")
    days, rows = absence_calendar(request.user, first)
    managed_ids = set(managed.values_list("pk", flat=True))
    previous = (first - datetime.timedelta(days=1)).replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    return render(
        request,
        "work/absences.html",
        {
            "page_title": _("Team absences"),
            "form": form,
            "days": days,
            "rows": rows,
            "first": first,
            "today": today,
            "previous": f"{previous:%Y-%m}",
            "following": f"{following:%Y-%m}",
            "this_month": f"{today:%Y-%m}",
            "upcoming": list(upcoming_absences(request.user, today)[:50]),
            "managed_ids": managed_ids,
            "kinds": Absence.KINDS,
        },
    )


@login_required
@require_POST
def absence_remove(request, pk: int):
    absence = get_object_or_404(Absence.objects.select_related("user"), pk=pk)
    try:
        absence_delete(actor=request.user, absence=absence)
    except PermissionDenied:
        raise Http404 from None
    messages.success(request, _("The absence is removed."))
    return redirect(f"{reverse('absences')}?month={absence.starts:%Y-%m}")


@login_required
def schedule(request, user_id: int):
    person = get_object_or_404(time_managed_by(request.user), pk=user_id)
    current = schedule_of(person)
    form = forms.ScheduleForm(
        request.POST or None,
        initial={"weekdays": current.weekdays, "starts": current.starts, "ends": current.ends},
    )
    if request.method == "POST" and form.is_valid():
        try:
            schedule_save(actor=request.user, user=person, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("absences")
    title = (
        _("My work schedule")
        if person == request.user
        else _("Work schedule of %(user)s") % {"user": person}
    )
    return render(
        request,
        "work/schedule.html",
        {"page_title": title, "form": form, "person": person, "zone": zone_of(person)},
    )


def zone_of(person: User) -> str:
    return person.time_zone or default_time_zone()
