"""Working time: how many working minutes lie between two moments, and the moment a number
of working minutes after another — for a first answer's deadline and for response times
"counted in working hours" (a message at 23:00 answered at 9:10 the next working day was
answered in 10 minutes).

Hours are a week's working days (0 is Monday), a day's start and end, in a time zone: a
user's work schedule, else the company's default (Monday to Friday, 9:00 to 18:00, in the
company's zone). No database here: callers pass the hours.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_DAYS = (0, 1, 2, 3, 4)
MAX_DAYS = 400  # a search never walks further than this (a schedule with no working day)


@dataclass(frozen=True)
class Hours:
    days: tuple[int, ...] = DEFAULT_DAYS
    starts: time = time(9)
    ends: time = time(18)
    zone: str = "UTC"

    @property
    def works(self) -> bool:
        return bool(self.days) and self.starts < self.ends

    def _day(self, day: date) -> tuple[datetime, datetime] | None:
        """The working span of a local date, or None on a day off."""
        if day.weekday() not in self.days:
            return None
        zone = ZoneInfo(self.zone)
        return (datetime.combine(day, self.starts, zone), datetime.combine(day, self.ends, zone))


def minutes_between(start: datetime, end: datetime, hours: Hours) -> float:
    """Working minutes from `start` to `end` (0 when end is not after start; wall-clock
    minutes when the hours have no working time at all)."""
    if end <= start:
        return 0.0
    if not hours.works:
        return (end - start).total_seconds() / 60
    zone = ZoneInfo(hours.zone)
    day, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    total = 0.0
    for _n in range(MAX_DAYS * 10):
        if day > last:
            break
        span = hours._day(day)
        if span is not None:
            begin, finish = max(span[0], start), min(span[1], end)
            if finish > begin:
                total += (finish - begin).total_seconds() / 60
        day += timedelta(days=1)
    return total


def deadline(start: datetime, minutes: float, hours: Hours) -> datetime:
    """The moment `minutes` working minutes after `start` (a message that comes at night
    is due that many minutes after work begins)."""
    if not hours.works:
        return start + timedelta(minutes=minutes)
    zone = ZoneInfo(hours.zone)
    left = timedelta(minutes=minutes)
    day = start.astimezone(zone).date()
    for _n in range(MAX_DAYS):
        span = hours._day(day)
        if span is not None:
            begin = max(span[0], start)
            if begin < span[1]:
                if begin + left <= span[1]:
                    return begin + left
                left -= span[1] - begin
        day += timedelta(days=1)
    return start + timedelta(minutes=minutes)
