"""How a due time reads: "today 10:00", "tomorrow", "Thu 26 Nov 15:30" (the user's zone)."""

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
