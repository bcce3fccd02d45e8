"""How a due time reads ("today 10:00", "tomorrow", "Thu 26 Nov 15:30", in the user's
zone), and a task's row in a list."""

from django import template
from django.middleware.csrf import get_token

from accord.work.rows import due_text, icons_url, task_row_html

register = template.Library()


@register.filter
def due(task) -> str:
    return due_text(task)


@register.simple_tag(takes_context=True)
def task_row(context, task):
    """{% task_row task %}: one row of a task list (accord.work.rows), with the Done form
    returning to `next` or to this page."""
    request = context["request"]
    once = context.render_context  # what every row of this page shares
    if "task_row" not in once:
        once["task_row"] = {
            "next_url": context.get("next") or request.get_full_path(),
            "csrf_token": get_token(request),
            "icons": icons_url(),
        }
    return task_row_html(
        task,
        show_assignee=bool(context.get("show_assignee")),
        select_form=context.get("select_form", ""),
        **once["task_row"],
    )
