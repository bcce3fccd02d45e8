from django import template

from accord.core.company import default_currency
from accord.reports import cells

register = template.Library()


@register.simple_tag
def cell(row: dict, column) -> str:
    """One cell of a report's table, shown for the reader."""
    return cells.shown(row.get(column.key), column.kind, default_currency())


@register.filter
def figure(value, kind: str) -> str:
    """A widget's one number, shown for the reader."""
    return cells.shown(value, kind, default_currency())
