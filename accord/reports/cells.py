"""A report's figure as a table cell shows it (money with its currency, per cent, days,
minutes, in the reader's language) and as a file keeps it (a plain number)."""

from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from accord.core.formats import money


def shown(value, kind: str, currency: str) -> str:
    if value is None or value == "":
        return "—"
    if kind == "money":
        return money(value, currency)
    if kind == "percent":
        return _("%(value)s %%") % {"value": number_format(value, 1 if value % 1 else 0)}
    if kind == "days":
        return _("%(value)s d") % {"value": number_format(value, 1 if value % 1 else 0)}
    if kind == "minutes":
        return _("%(value)s min") % {"value": number_format(value, 0)}
    if kind in ("int", "number"):
        places = 0 if Decimal(str(value)) % 1 == 0 else 2
        return number_format(value, places, force_grouping=True)
    return str(value)


def plain(value, kind: str):
    """The value as a spreadsheet keeps it: numbers stay numbers."""
    if value is None:
        return None
    if kind in ("money", "percent", "days", "minutes", "int", "number"):
        number = Decimal(str(value))
        # 1234.5 whatever the database kept (PostgreSQL answers 1234.50); 100, not 1E+2
        return int(number) if number == number.to_integral_value() else number.normalize()
    return str(value)
