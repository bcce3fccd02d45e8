"""Where the company works, as the rest of Accord asks it: the defaults for phone numbers,
money, clocks and language, from Settings → Company, else the operator's ACCORD_* settings."""

import datetime
import zoneinfo

from django.conf import settings

from accord.core.models import CompanyProfile


def company() -> CompanyProfile:
    return CompanyProfile.current()


def default_region() -> str | None:
    """The country of phone numbers typed without a +code."""
    return company().country or settings.ACCORD_PHONE_REGION or None


def default_currency() -> str:
    return company().currency or settings.ACCORD_CURRENCY


# How soon a client who writes must be answered, in working minutes, unless Settings →
# Messengers and SMS says otherwise.
REPLY_MINUTES = {"email": 240, "sms": 30, "telegram": 30, "whatsapp": 30}


def reply_minutes(channel: str) -> int:
    """The company's target for a first answer on `channel`, in working minutes."""
    chosen = company().reply_minutes or {}
    return chosen.get(channel) or REPLY_MINUTES.get(channel, 240)


def default_time_zone() -> str:
    """The clock of a user who chose none (and of the company's own schedules)."""
    return company().time_zone or settings.TIME_ZONE


def zone_of(name: str | None) -> zoneinfo.ZoneInfo:
    """A user's zone (their own, else the company's); UTC for a name no longer known."""
    try:
        return zoneinfo.ZoneInfo(name or default_time_zone())
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def default_language() -> str:
    """The language of a user who chose none, when the browser asks for none we speak."""
    return company().language or settings.LANGUAGE_CODE


def week_start() -> int | None:
    """0 Monday … 6 Sunday, or None for the language's own first day."""
    return company().week_start


def company_date(moment) -> datetime.date:
    """The company's date of a moment: the day of the daily rollups."""
    return moment.astimezone(zone_of(None)).date()
