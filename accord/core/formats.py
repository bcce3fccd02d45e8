"""Dates as the company writes them (Settings → Company, "date format"), else as the
user's language does: the short forms lists, cards and the timeline show; how long
something took ("3 min 25 s"); and money as the user's language writes it."""

from datetime import date, datetime

from babel.numbers import format_currency
from django.utils import timezone, translation
from django.utils.formats import date_format, get_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accord.core.company import company


def short_date(value: date | datetime | None) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value, company().date_format or "SHORT_DATE_FORMAT")


def short_datetime(value: datetime | None) -> str:
    if value is None or value == "":
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    own = company().date_format
    if not own:
        return date_format(value, "SHORT_DATETIME_FORMAT")
    return date_format(value, f"{own} {get_format('TIME_FORMAT')}")


def week_start() -> int:
    """The first day of the week as Python counts (0 Monday … 6 Sunday): the company's,
    else the language's (Hebrew weeks start on Sunday)."""
    own = company().week_start
    if own is not None:
        return own
    return (int(get_format("FIRST_DAY_OF_WEEK")) - 1) % 7  # Django counts from Sunday


def days_since_week_start(day: date) -> int:
    return (day.weekday() - week_start()) % 7


def duration_text(seconds: int) -> str:
    """A call's length in words: "45 s", "3 min 25 s", "14 min", "1 h 54 min"."""
    minutes, rest = divmod(max(int(seconds), 0), 60)
    if minutes >= 60:
        hours, minutes = divmod(minutes, 60)
        return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": minutes}
    if not minutes:
        return _("%(seconds)s s") % {"seconds": rest}
    if not rest:
        return ngettext("%(minutes)s min", "%(minutes)s min", minutes) % {"minutes": minutes}
    return _("%(minutes)s min %(seconds)s s") % {"minutes": minutes, "seconds": rest}


def money(amount, currency: str) -> str:
    """An amount with its currency as the user's language writes it ("€1,250.50",
    "1 250,50 ₽"); an amount without a known currency as a plain number."""
    if amount is None or amount == "":
        return ""
    locale = translation.to_locale(translation.get_language() or "en")
    try:
        return format_currency(amount, currency, locale=locale)
    except (ValueError, TypeError, KeyError):
        return f"{amount} {currency}"
