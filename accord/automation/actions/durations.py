"""Amounts of time a step names (a task due in 2 hours, a wait of 3 working days):
their units, their checks and when they end."""

from datetime import datetime, timedelta
from typing import Any

from django.utils.translation import gettext as _

UNITS = {"minutes": 60, "hours": 3600, "days": 86400, "working_days": 86400}


def later(now: datetime, amount: Any, unit: str) -> datetime:
    """`amount` `unit`s after now; working days skip Saturdays and Sundays."""
    amount = int(amount or 0)
    if unit != "working_days":
        return now + timedelta(seconds=amount * UNITS.get(unit, 60))
    moment = now
    while amount > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            amount -= 1
    return moment


def duration_problems(value: dict | None) -> list[str]:
    """What is wrong with {"amount": N, "unit": ...} (a due time, a wait)."""
    value = value or {}
    try:
        amount = int(value.get("amount", 0))
    except (TypeError, ValueError, AttributeError):
        return [_("Give the time as a whole number.")]
    if value.get("unit") not in UNITS:
        return [_("Choose minutes, hours, days or working days.")]
    if not 0 <= amount <= 100_000:
        return [_("Give the time as a whole number.")]
    return []
