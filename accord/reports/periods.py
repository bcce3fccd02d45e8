"""A report's period: named ranges a widget keeps ("this quarter" stays this quarter as the
days go by), the buckets a chart draws (days, weeks or months, by the period's length),
and the period before it of the same length, for a figure's trend."""

import datetime
from dataclasses import dataclass

from django.db.models.functions import TruncDay, TruncMonth, TruncWeek
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

DAY = datetime.timedelta(days=1)

PRESETS = [
    ("this_month", _("This month")),
    ("last_month", _("Last month")),
    ("last_30", _("Last 30 days")),
    ("this_quarter", _("This quarter")),
    ("last_quarter", _("Last quarter")),
    ("last_90", _("Last 90 days")),
    ("this_year", _("This year")),
    ("last_12_months", _("Last 12 months")),
    ("next_3_months", _("Next 3 months")),
    ("next_6_months", _("Next 6 months")),
]
PRESET_KEYS = {key for key, _label in PRESETS}
MAX_DAYS = 3 * 366


def _month_start(day: datetime.date, months_back: int = 0) -> datetime.date:
    index = day.year * 12 + day.month - 1 - months_back
    return datetime.date(index // 12, index % 12 + 1, 1)


def _quarter_start(day: datetime.date) -> datetime.date:
    return datetime.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def preset_range(key: str, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first and last day (inclusive) of a named period, as of `today`."""
    if key == "this_month":
        return _month_start(today), _month_start(today, -1) - DAY
    if key == "last_month":
        return _month_start(today, 1), _month_start(today) - DAY
    if key == "last_30":
        return today - datetime.timedelta(days=29), today
    if key == "this_quarter":
        start = _quarter_start(today)
        return start, _month_start(start, -3) - DAY
    if key == "last_quarter":
        start = _month_start(_quarter_start(today), 3)
        return start, _quarter_start(today) - DAY
    if key == "this_year":
        return datetime.date(today.year, 1, 1), datetime.date(today.year, 12, 31)
    if key == "last_12_months":
        return _month_start(today, 11), today
    if key == "next_3_months":
        return _month_start(today), _month_start(today, -3) - DAY
    if key == "next_6_months":
        return _month_start(today), _month_start(today, -6) - DAY
    return today - datetime.timedelta(days=89), today  # last_90


@dataclass(frozen=True)
class Period:
    since: datetime.date
    until: datetime.date  # inclusive
    by: str = ""  # "day", "week" or "month"; empty: by the period's length

    @classmethod
    def named(cls, key: str, today: datetime.date | None = None) -> "Period":
        return cls(*preset_range(key, today or timezone.localdate()))

    @property
    def start(self) -> datetime.datetime:
        return timezone.make_aware(datetime.datetime.combine(self.since, datetime.time.min))

    @property
    def end(self) -> datetime.datetime:
        """The moment after the last day: compare with `< end`."""
        return timezone.make_aware(datetime.datetime.combine(self.until + DAY, datetime.time.min))

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    def previous(self) -> "Period":
        """The period of the same length just before this one (a month before a month)."""
        if self.since.day == 1 and (self.until + DAY).day == 1:
            months = (self.until.year - self.since.year) * 12 + self.until.month - self.since.month
            start = _month_start(self.since, months + 1)
            return Period(start, self.since - DAY, self.by)
        if self.since.day == 1:  # so far this month (quarter, year): as far into the last
            months = (self.until.year - self.since.year) * 12 + self.until.month - self.since.month
            start = _month_start(self.since, months + 1)
            return Period(start, min(start + (self.until - self.since), self.since - DAY), self.by)
        return Period(self.since - datetime.timedelta(days=self.days), self.since - DAY, self.by)

    def so_far(self, today: datetime.date | None = None) -> "Period":
        """The period up to today: this month's figures are those of its days gone by."""
        today = today or timezone.localdate()
        return Period(self.since, min(self.until, today), self.by) if self.since <= today else self

    def as_months(self) -> "Period":
        return Period(self.since, self.until, "month")

    @property
    def step(self) -> str:
        if self.by:
            return self.by
        if self.days <= 31:
            return "day"
        return "week" if self.days <= 120 else "month"

    def trunc(self, field: str):
        """The database expression putting a moment or a day into its bucket."""
        kind = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}[self.step]
        return kind(field)

    def bucket_of(self, value) -> datetime.date:
        if isinstance(value, datetime.datetime):
            value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
        if self.step == "week":
            return value - datetime.timedelta(days=value.weekday())
        return _month_start(value) if self.step == "month" else value

    def buckets(self) -> list[datetime.date]:
        """Every bucket of the period, the empty ones too, so a chart's axis has no gaps."""
        found, day = [], self.bucket_of(self.since)
        while day <= self.until:
            found.append(day)
            if self.step == "month":
                day = _month_start(day, -1)
            else:
                day += datetime.timedelta(days=7 if self.step == "week" else 1)
        return found

    def label(self, bucket: datetime.date) -> str:
        if self.step == "month":
            return date_format(bucket, "YEAR_MONTH_FORMAT")
        return date_format(bucket, "MONTH_DAY_FORMAT")
