"""`short_date`, `short_datetime` and `money`: built-ins of every template (settings.TEMPLATES)."""

from django import template

from accord.core import formats

register = template.Library()
register.filter("short_date", formats.short_date)
register.filter("short_datetime", formats.short_datetime)
register.filter("money", formats.money)
