"""How a due time reads ("today 10:00", "tomorrow", "Thu 26 Nov 15:30", in the user's
zone), and a task's row in a list."""

from django import template
from django.contrib.humanize.templatetags.humanize import naturalday
from django.utils import timezone
from django.utils.formats import time_format

register = template.Library()


@register.filter
def due(task) -> str:
    moment = timezone.localtime(task.due_at)
    day = naturalday(moment.date(), "D j M")
    return day if task.all_day else f"{day} {time_format(moment, 'TIME_FORMAT')}"


@register.simple_tag(takes_context=True)
def task_row(context, task):
    """{% task_row task %}: one row of a task list (accord.work.rows), with the Done form
    returning to `next` or to this page."""
    from django.middleware.csrf import get_token

    from accord.work.rows import icons_url, task_row_html

    request = context["request"]
    once = context.render_context  # what every row of this page shares
    if "task_row" not in once:
        once["task_row"] = {
            "next_url": context.get("next") or request.get_full_path(),
            "csrf_token": get_token(request),
            "icons": icons_url(),
        }
    return task_row_html(task, show_assignee=bool(context.get("show_assignee")), **once["task_row"])
