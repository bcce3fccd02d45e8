"""A task's row in a list (Today, the task list, a card's next steps), made in Python.

Through the template engine a row cost about 0.45 ms (four links, two icons, the due
time, the Done form); Today shows up to a hundred of them. format_html makes the same
row, escaped the same way, in a fraction of that (docs/performance.md).
"""

from django.contrib.humanize.templatetags.humanize import naturalday
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from accord.core.formats import short_date
from accord.work.models import Task

KIND_ICONS = {"call": "phone", "meeting": "users", "email": "mail", "visit": "map-pin"}
KIND_LABELS = dict(Task.KINDS)


def due_text(task) -> str:
    """When a task is due, in the user's zone: "today 10:00", "tomorrow", "Thu 26 Nov 15:30"."""
    moment = timezone.localtime(task.due_at)
    # The aware moment, not its date: naturalday then takes "today" on the user's clock,
    # not the server's (past 21:00 UTC, Moscow's today was the server's tomorrow).
    day = naturalday(moment, "D j M")
    return day if task.all_day else f"{day} {time_format(moment, 'TIME_FORMAT')}"


def icons_url() -> str:
    return static("vendor/icons.svg")


def task_row_html(
    task,
    *,
    next_url: str,
    csrf_token: str,
    icons: str,
    show_assignee: bool = False,
    select_form: str = "",
) -> SafeString:
    """The <li> of one task; `task.can_complete` says whether it gets a Done button, and
    with `select_form` a box to tick it for that form (the list's bulk bar).
    `icons` is the icon sprite's address (icons_url(), once per page)."""
    late = task.is_overdue
    when = (
        short_date(task.completed_at)
        if task.status == "done" and task.completed_at
        else due_text(task)
    )
    about = []
    if task.person_id:
        about.append((reverse("client_detail", args=["people", task.person_id]), task.person))
    if task.company_id:
        about.append((reverse("client_detail", args=["companies", task.company_id]), task.company))
    if task.deal_id:
        about.append((reverse("deal_detail", args=[task.deal_id]), task.deal))
    links = format_html_join("\n", '<a href="{}">{}</a>', about)
    assignee = format_html("<span>{}</span>", task.assignee) if show_assignee else ""
    done = ""
    completes = task.status == "open" and getattr(task, "can_complete", False)
    if completes and task.asks and task.deal_id:
        # It asks for the deal's fields: its page's form takes them.
        done = format_html(
            '<a class="button button-quiet button-icon task-done" href="{}#complete" title="{}" '
            'aria-label="{}"><svg class="icon" aria-hidden="true"><use href="{}#check"></use>'
            "</svg></a>",
            reverse("task_detail", args=[task.pk]),
            gettext("Fill in and mark done"),
            gettext("Fill in and mark “%(title)s” done") % {"title": task.title},
            icons,
        )
    elif completes:
        done = format_html(
            '<form method="post" action="{}" class="task-done">'
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<input type="hidden" name="next" value="{}">'
            '<button type="submit" class="button button-quiet button-icon" title="{}" '
            'aria-label="{}"><svg class="icon" aria-hidden="true"><use href="{}#check"></use>'
            "</svg></button></form>",
            reverse("task_complete", args=[task.pk]),
            csrf_token,
            next_url,
            gettext("Mark done"),
            gettext("Mark “%(title)s” done") % {"title": task.title},
            icons,
        )
    overdue = " is-overdue" if late else ""
    select = ""
    if select_form and task.status == "open" and getattr(task, "can_complete", False):
        label = gettext("Select “%(title)s”") % {"title": task.title}
        select = format_html(
            '<input type="checkbox" class="task-select fold-away" name="ids" value="{}" '
            'form="{}" aria-label="{}">',
            task.pk, select_form, label,
        )  # fmt: skip
    return format_html(
        '<li class="task-row{}">{}'
        '<span class="task-kind" title="{}" aria-hidden="true"><svg class="icon">'
        '<use href="{}#{}"></use></svg></span>'
        '<div class="task-main"><a class="task-title" href="{}">{}</a>'
        '<p class="task-about muted">{}{}<span class="task-due-inline{}">{}</span></p></div>'
        '<time class="task-due{}" datetime="{}">{}</time>{}</li>',
        overdue,
        select,
        KIND_LABELS.get(task.kind, task.kind),  # not get_kind_display: it hashes every label
        icons,
        KIND_ICONS.get(task.kind, "circle-check"),
        reverse("task_detail", args=[task.pk]),
        task.title,
        links,
        assignee,
        overdue,
        when,
        overdue,
        task.due_at.isoformat(),
        when,
        done,
    )
