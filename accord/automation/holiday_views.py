"""Settings → Automation → Holidays: the days the holiday greeting goes out, per country."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accord.automation.holidays import holiday_delete, holiday_save, holidays_seed
from accord.automation.models import Holiday
from accord.automation.views import require_automation
from accord.core.errors import message_of


@login_required
def holidays(request):
    require_automation(request)
    if request.method == "POST":
        year = request.POST.get("year", "").strip()
        try:
            holiday_save(
                actor=request.user,
                name=request.POST.get("name", ""),
                country=request.POST.get("country", ""),
                month=request.POST.get("month") or 0,
                day=request.POST.get("day") or 0,
                year=int(year) if year.isdecimal() else None,
            )
        except ValidationError as error:
            messages.error(request, message_of(error))
        else:
            messages.success(request, _("The holiday is added."))
        return redirect("holidays")
    return render(
        request,
        "automation/holidays.html",
        {
            "page_title": _("Holidays"),
            "section": "automation",
            "holidays": Holiday.objects.all(),
            "months": range(1, 13),
            "days": range(1, 32),
        },
    )


@login_required
@require_POST
def holiday_remove(request, pk: int):
    require_automation(request)
    holiday_delete(actor=request.user, holiday=get_object_or_404(Holiday, pk=pk))
    return redirect("holidays")


@login_required
@require_POST
def holidays_fill(request):
    require_automation(request)
    added = holidays_seed(actor=request.user)
    messages.success(request, _("%(count)s holidays added.") % {"count": added})
    return redirect("holidays")
