"""One-line tasks in the four languages, against a fixed clock (Sunday 22 Nov 2026, 18:40)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accord.work.quickadd import parse_line

MOSCOW = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 11, 22, 18, 40, tzinfo=MOSCOW)


@pytest.mark.parametrize(
    ("line", "language", "title", "due", "all_day", "kind"),
    [
        ("Call back Monday 10:00", "en", "Call back", (2026, 11, 23, 10, 0), False, "call"),
        (
            "Перезвонить в понедельник 10:00",
            "ru",
            "Перезвонить",
            (2026, 11, 23, 10, 0),
            False,
            "call",
        ),
        ("להתקשר מחר 10:00", "he", "להתקשר", (2026, 11, 23, 10, 0), False, "call"),
        ("Զանգել վաղը 10:00", "hy", "Զանգել", (2026, 11, 23, 10, 0), False, "call"),
        ("Send the offer tomorrow", "en", "Send the offer", (2026, 11, 23, 0, 0), True, "email"),
        ("Meet Anna at 15:30", "en", "Meet Anna", (2026, 11, 23, 15, 30), False, "meeting"),
        ("Think about prices", "en", "Think about prices", None, False, "other"),
    ],
)
def test_a_line_becomes_title_due_time_and_kind(line, language, title, due, all_day, kind):
    with timezone.override(MOSCOW):
        parsed = parse_line(line, language=language, now=NOW)
    assert parsed.title == title
    assert parsed.due_at == (datetime(*due, tzinfo=MOSCOW) if due else None)
    assert (parsed.all_day, parsed.kind) == (all_day, kind)
