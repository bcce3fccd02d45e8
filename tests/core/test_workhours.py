"""Working time: deadlines and response times counted in working minutes."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from accord.core.workhours import Hours, deadline, minutes_between

MOSCOW = ZoneInfo("Europe/Moscow")
WEEK = Hours(zone="Europe/Moscow")  # Monday to Friday, 9:00 to 18:00


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=MOSCOW)  # 7 December is a Monday


def test_a_message_late_on_friday_is_due_on_monday_morning():
    assert deadline(at(11, 17, 50), 30, WEEK) == at(14, 9, 20)


def test_a_message_at_night_is_due_after_work_begins():
    assert deadline(at(8, 23, 0), 30, WEEK) == at(9, 9, 30)
    assert deadline(at(8, 10, 0), 30, WEEK) == at(8, 10, 30)


def test_an_answer_the_next_morning_took_the_working_minutes_only():
    assert minutes_between(at(8, 17, 50), at(9, 9, 10), WEEK) == 20
    assert minutes_between(at(11, 17, 0), at(14, 10, 0), WEEK) == 120  # over a weekend
    assert minutes_between(at(9, 10, 0), at(9, 9, 0), WEEK) == 0


def test_without_working_time_the_clock_runs_all_the_time():
    never = Hours(days=(), zone="UTC")
    start = datetime(2026, 12, 12, 3, tzinfo=UTC)
    assert deadline(start, 30, never) == start + timedelta(minutes=30)
    assert minutes_between(start, start + timedelta(hours=2), never) == 120


@given(
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1),
                       timezones=st.just(UTC)),
    minutes=st.integers(min_value=0, max_value=5000),
)  # fmt: skip
def test_the_deadline_is_exactly_that_many_working_minutes_later(start, minutes):
    hours = Hours(days=(0, 1, 2, 3, 5), starts=time(8, 30), ends=time(17), zone="Asia/Jerusalem")
    due = deadline(start, minutes, hours)
    assert due >= start
    assert abs(minutes_between(start, due, hours) - minutes) < 1e-6
