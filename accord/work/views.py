"""Screens of the daily work: Today, tasks, logging activities, notifications."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accord.accounts.queries import owner_choices, users_visible_to
from accord.contacts.queries import companies_visible_to, people_visible_to
from accord.core.errors import StaleVersion, message_of
from accord.core.formats import short_date, short_datetime
from accord.core.pagination import InvalidCursor, keyset_page
from accord.core.ui import records
from accord.core.ui.forms import apply_errors
from accord.core.ui.links import back_to
from accord.core.visibility import NONE, WRITE, effective_level
from accord.sales.queries import deals_visible_to
from accord.work import forms
from accord.work.models import CalendarFeed, Task
from accord.work.queries import (
    calendar_days,
    day_bounds,
    ics_feed,
    notification_text,
    notifications_for,
    overdue_at,
    tasks_visible_to,
    today_for,
    unread_count,
)
from accord.work.quickadd import next_working_morning, parse_line
from accord.work.services import (
    activity_log,
    calendar_feed_token,
    can_change,
    notifications_read,
    task_cancel,
    task_complete,
    task_create,
    task_reopen,
    task_update,
    tasks_bulk_assign,
)

LIST_PAGE = 50


def linked(request, data: dict) -> dict:
    """The person / company / deal ids a quick form names, as records the user may see."""

    visible = {
        "person": people_visible_to,
        "company": companies_visible_to,
        "deal": deals_visible_to,
    }
    found = {}
    for name, query in visible.items():
        if data.get(name):
            record = query(request.user).filter(pk=data[name]).first()
            if record is None:
                raise Http404
            found[name] = record
    return found


# --- Today -----------------------------------------------------------------------------


def dress(tasks, user) -> list:
    """Whether the user may tick each task done (for the rows' Done button)."""
    for task in tasks:
        task.can_complete = can_change(user, task)
    return tasks


@login_required
def today(request):
    context = today_for(request.user)
    for notice in context["notifications"]:
        notice.text = notification_text(notice)
    for key in ("overdue", "today", "upcoming"):
        dress(context[key], request.user)
    if context["team"]:
        dress(context["team"]["overdue"], request.user)
    return render(
        request,
        "work/today.html",
        {"page_title": _("Today"), "quick_form": forms.QuickTaskForm(), **context},
    )


# --- Tasks -----------------------------------------------------------------------------

TASK_VIEWS = {"mine", "overdue", "team", "done"}


@login_required
def task_list(request):
    view = request.GET.get("view", "mine")
    view = view if view in TASK_VIEWS else "mine"
    tasks = tasks_visible_to(request.user)
    now = timezone.now()
    if view == "mine":
        tasks = tasks.filter(assignee=request.user, status=Task.OPEN)
    elif view == "overdue":
        # Overdue as Today and the scheduler count it: a whole-day task once its day is over.
        tasks = tasks.filter(overdue_at(now, day_bounds(now)[0]), status=Task.OPEN)
    elif view == "team":
        tasks = tasks.filter(status=Task.OPEN)
    else:
        tasks = tasks.filter(status=Task.DONE)
    assignee = request.GET.get("assignee", "")
    if assignee.isdecimal() and len(assignee) < 18:
        tasks = tasks.filter(assignee_id=int(assignee))
    sort = "-due_at" if view == "done" else "due_at"
    try:
        page = keyset_page(tasks, sort=sort, cursor=request.GET.get("cursor"), limit=LIST_PAGE)
    except InvalidCursor:
        raise Http404 from None
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {
        "page_title": _("Tasks"),
        "tasks": dress(page.items, request.user),
        "view": view,
        "show_assignee": view != "mine",
        "assignee": assignee,
        "owners": owner_choices(request.user),
        "next_url": f"?{query.urlencode()}&cursor={page.next_cursor}" if page.next_cursor else "",
        "quick_form": forms.QuickTaskForm(),
        "can_write": effective_level(request.user, "tasks", WRITE) != NONE,
    }
    if context["can_write"] and view != "done":
        context["select_form"] = "task-bulk"
    if request.htmx and request.GET.get("cursor"):
        return render(request, "work/tasks.html#rows", context)
    return render(request, "work/tasks.html", context)


@login_required
@require_POST
def task_bulk(request):
    """With the tasks ticked on the list: give them to a colleague."""
    ids = [int(pk) for pk in request.POST.getlist("ids") if pk.isdecimal() and len(pk) < 18]
    tasks = list(tasks_visible_to(request.user).filter(pk__in=ids, status=Task.OPEN))
    chosen = request.POST.get("assignee", "")
    assignee = (
        users_visible_to(request.user).filter(pk=chosen, is_active=True).first()
        if chosen.isdecimal() and len(chosen) < 18
        else None
    )
    try:
        if not tasks:
            raise ValidationError(_("Select at least one row."))
        done = tasks_bulk_assign(actor=request.user, tasks=tasks, assignee=assignee)
        messages.success(request, _("%(count)s tasks have a new assignee.") % {"count": done})
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, message_of(error))
    return redirect(reverse("task_list") + "?" + request.POST.get("query", ""))


@login_required
@require_POST
def task_quick(request):
    """A task from one typed line, from Today, a card, a deal or the task list."""
    form = forms.QuickTaskForm(request.POST)
    fallback = reverse("task_list")
    if not form.is_valid():
        messages.error(request, _("Type what is to be done, e.g. “Call back Monday 10:00”."))
        return redirect(back_to(request, fallback))
    parsed = parse_line(form.cleaned_data["line"], language=request.LANGUAGE_CODE)
    data = {
        "title": parsed.title,
        "kind": parsed.kind,
        "due_at": parsed.due_at or next_working_morning(),
        "all_day": parsed.all_day,
        "remind_minutes": None if parsed.all_day else 15,
        **linked(request, form.cleaned_data),
    }
    try:
        task = task_create(actor=request.user, data=data)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    else:
        when = timezone.localtime(task.due_at)
        shown = short_date(when) if task.all_day else short_datetime(when)
        text = _("Task “%(title)s” added for %(when)s.")
        messages.success(request, text % {"title": task.title, "when": shown})
    return redirect(back_to(request, fallback))


def task_form(request, data=None, initial=None):
    form = forms.TaskForm(data, initial=initial)
    form.limit_links(request.user)
    form.fields["assignee"].queryset = form.fields["assignee"].queryset.filter(
        pk__in=[int(pk) for pk, _name in owner_choices(request.user)]
    )
    return form


@login_required
def task_new(request):
    if effective_level(request.user, "tasks", WRITE) == NONE:
        raise Http404
    initial = {
        "assignee": request.user,
        "kind": "call",
        "due_date": timezone.localdate(),
        "remind_minutes": 15,
        **{name: request.GET.get(name) for name in ("person", "company", "deal")},
    }
    form = task_form(request, request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            task = task_create(
                actor=request.user,
                data=form.service_data(),
                allow_past=form.cleaned_data["confirm_past"],
                allow_absent=form.cleaned_data["confirm_absent"],
            )
        except ValidationError as error:
            past_warning(form, error)
            apply_errors(form, error)
        else:
            messages.success(request, _("Task “%(title)s” added.") % {"title": task})
            return redirect(back_to(request, reverse("task_detail", args=[task.pk])))
    return render(request, "work/task_form.html", {"page_title": _("New task"), "form": form})


def past_warning(form, error: ValidationError) -> None:
    """A due time in the past, or on a day the assignee is away, is a warning: the form
    offers to keep it on the next save."""
    if hasattr(error, "error_dict") and "due_at" in error.error_dict:
        codes = {e.code for e in error.error_dict["due_at"]}
        data = form.data.copy()
        for code in codes & {"past", "absent"}:
            data[f"confirm_{code}"] = "on"
        form.data = data
        form.warned_past = "past" in codes
        error.error_dict["due_date"] = error.error_dict.pop("due_at")


def complete_form(task, data=None) -> forms.CompleteForm:
    return forms.CompleteForm(
        data, initial={"log_call": task.kind == "call"}, auto_id="done_%s", task=task
    )


@login_required
def task_detail(request, pk: int, completing: forms.CompleteForm | None = None):
    """The task's page: its details to change, the form to complete it (given, with the
    user's input and its errors, when completing failed), its history."""
    task = get_object_or_404(tasks_visible_to(request.user), pk=pk)
    editable = can_change(request.user, task)
    posted = request.POST if request.method == "POST" and completing is None else None
    form = task_form(request, posted, initial=forms.task_initial(task))
    if posted is not None:
        if not editable:
            raise Http404
        if form.is_valid():
            try:
                task_update(
                    actor=request.user,
                    task=task,
                    data=form.service_data(),
                    version=form.cleaned_data.get("version"),
                    allow_past=form.cleaned_data["confirm_past"],
                    allow_absent=form.cleaned_data["confirm_absent"],
                )
            except StaleVersion:
                form.add_error(
                    None,
                    _(
                        "Someone else saved this task while you were editing. Your changes "
                        "are below and not saved yet: compare, then save again."
                    ),
                )
            except ValidationError as error:
                past_warning(form, error)
                apply_errors(form, error)
            else:
                messages.success(request, _("Saved."))
                return redirect("task_detail", pk=task.pk)
    return render(
        request,
        "work/task_detail.html",
        {
            "page_title": str(task),
            "task": task,
            "form": form,
            "editable": editable,
            "complete_form": completing or complete_form(task),
            **records.timeline_context(request, task, reverse("task_detail", args=[task.pk])),
        },
    )


@login_required
@require_POST
def task_complete_view(request, pk: int):
    """Complete a task (its page's form, a list's Done button). When it fails, the task's
    page shows the form again with what was typed and the errors under the fields."""
    task = get_object_or_404(tasks_visible_to(request.user), pk=pk)
    form = complete_form(task, request.POST)
    if not form.is_valid():
        return task_detail(request, pk, completing=form)
    try:
        task_complete(
            actor=request.user,
            task=task,
            result=form.cleaned_data["result"],
            call=form.call(),
            fields=form.deal_fields() or None,
        )
    except ValidationError as error:
        apply_errors(form, error)
        return task_detail(request, pk, completing=form)
    except PermissionDenied as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        return redirect("task_detail", pk=task.pk)
    messages.success(request, _("Done: “%(title)s”.") % {"title": task})
    return redirect(back_to(request, reverse("today")))


@login_required
@require_POST
def task_action(request, pk: int, action: str):
    task = get_object_or_404(tasks_visible_to(request.user), pk=pk)
    services = {"cancel": task_cancel, "reopen": task_reopen}
    if action not in services:
        raise Http404
    try:
        services[action](actor=request.user, task=task)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    return redirect("task_detail", pk=task.pk)


@login_required
def record_panel(request):
    """The tasks of one client or deal with a line to add one and a form to log an activity:
    the card and the deal page load it after they render (htmx), so they stay light."""
    links = linked(
        request,
        {
            name: request.GET.get(name)
            for name in ("person", "company", "deal")
            if (request.GET.get(name) or "").isdecimal()
        },
    )
    if len(links) != 1:
        raise Http404
    ((name, record),) = links.items()
    tasks = tasks_visible_to(request.user).filter(**{name: record}, status=Task.OPEN)
    return render(
        request,
        "work/panel.html",
        {
            "tasks": dress(list(tasks.order_by("due_at", "id")[:20]), request.user),
            name: record,
            "link_name": name,
            "record": record,
            "next": request.GET.get("next", ""),
            "activity_form": forms.ActivityForm(auto_id="activity_%s"),  # ids unique on a card
            "can_log": effective_level(request.user, "activities", WRITE) != NONE,
            "can_plan": effective_level(request.user, "tasks", WRITE) != NONE,
        },
    )


# --- Activities ------------------------------------------------------------------------


@login_required
@require_POST
def activity_new(request):
    """Log a call, meeting, e-mail, visit or note from a client card or a deal page."""
    form = forms.ActivityForm(request.POST)
    fallback = reverse("today")
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect(back_to(request, fallback))
    data = {
        name: form.cleaned_data[name]
        for name in ("kind", "direction", "outcome", "text", "occurred_at")
    }
    data["duration_minutes"] = form.cleaned_data["duration_minutes"] or 0
    data.update(linked(request, form.cleaned_data))
    try:
        activity = activity_log(actor=request.user, data=data)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    else:
        messages.success(request, _("%(kind)s logged.") % {"kind": activity.get_kind_display()})
    return redirect(back_to(request, fallback))


# --- Calendar --------------------------------------------------------------------------

CALENDAR_VIEWS = ("day", "week", "month")


@login_required
def calendar(request):
    """Tasks and meetings by day, week or month, for me, a colleague or my team."""

    view = request.GET.get("view", "week")
    view = view if view in CALENDAR_VIEWS else "week"
    try:
        day = datetime.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        day = timezone.localdate()
    who = request.GET.get("who", "me")
    if who == "me" or not (who == "team" or (who.isdecimal() and len(who) < 18)):
        whose = request.user.pk
        who = "me"
    else:
        whose = "team" if who == "team" else int(who)
    days = calendar_days(request.user, view, day, whose)
    step = {"day": 1, "week": 7}.get(view)
    if step:
        previous, following = (
            day - datetime.timedelta(days=step),
            day + datetime.timedelta(days=step),
        )
    else:
        previous = (day.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
        following = (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return render(
        request,
        "work/calendar.html",
        {
            "page_title": _("Calendar"),
            "view": view,
            "day": day,
            "days": days,
            "weeks": [days[i : i + 7] for i in range(0, len(days), 7)],
            "who": who,
            "people": owner_choices(request.user),
            "previous": previous.isoformat(),
            "following": following.isoformat(),
            "today": timezone.localdate().isoformat(),
            "feed_url": request.build_absolute_uri(
                reverse("calendar_feed", args=[calendar_feed_token(user=request.user)])
            ),
        },
    )


@login_required
@require_POST
def calendar_feed_renew(request):
    calendar_feed_token(user=request.user, renew=True)
    messages.success(request, _("Your calendar has a new address; the old one no longer works."))
    return redirect("calendar")


def calendar_feed(request, token: str):
    """The .ics feed: no login (calendar apps cannot log in), the secret token is the key."""

    feed = CalendarFeed.objects.select_related("user").filter(token=token).first()
    if feed is None or not feed.user.is_active:
        raise Http404
    with timezone.override(feed.user.time_zone or None):
        body = ics_feed(feed.user)
    return HttpResponse(body, content_type="text/calendar; charset=utf-8")


@login_required
@require_POST
def task_move(request, pk: int):
    """Called by the calendar after a drag: {date} (YYYY-MM-DD), the time of day kept."""

    task = get_object_or_404(tasks_visible_to(request.user), pk=pk)
    try:
        day = datetime.date.fromisoformat(request.POST.get("date", ""))
    except ValueError:
        return JsonResponse({"error": _("Give the date as YYYY-MM-DD.")}, status=400)
    local = timezone.localtime(task.due_at)
    due = timezone.make_aware(datetime.datetime.combine(day, local.time()))
    try:
        task = task_update(
            actor=request.user,
            task=task,
            data={"due_at": due},
            allow_past=True,
            allow_absent=request.POST.get("confirm") == "1",
        )
    except ValidationError as error:
        codes = {e.code for e in getattr(error, "error_dict", {}).get("due_at", [])}
        if codes == {"absent"}:  # a warning: nothing saved, the page asks and sends confirm=1
            return JsonResponse({"warning": message_of(error)})
        return JsonResponse({"error": message_of(error)}, status=400)
    except PermissionDenied as error:
        return JsonResponse(
            {"error": " ".join(getattr(error, "messages", [str(error)]))}, status=400
        )
    return JsonResponse({"id": task.pk, "due_at": task.due_at.isoformat(), "version": task.version})


# --- Notifications ---------------------------------------------------------------------


@login_required
def notifications(request):
    items = list(notifications_for(request.user)[:100])
    for notice in items:
        notice.text = notification_text(notice)
    return render(
        request,
        "work/notifications.html",
        {"page_title": _("Notifications"), "items": items},
    )


@login_required
def notifications_bell(request):
    """The bell's count, asked for by the shell every 30 seconds."""
    return render(request, "work/bell.html", {"unread": unread_count(request.user)})


@login_required
@require_POST
def notifications_mark_read(request):
    ids = [int(pk) for pk in request.POST.getlist("id") if pk.isdecimal() and len(pk) < 18]
    notifications_read(user=request.user, ids=ids or None)
    if request.htmx:
        return HttpResponse(status=204, headers={"HX-Refresh": "true"})
    return redirect(back_to(request, reverse("notifications")))
