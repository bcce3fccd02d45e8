"""A task typed in one line: "Call back Monday 10:00", "Перезвонить завтра в 15:00",
"להתקשר מחר 10:00" — the words that say when become the due time, the rest the title,
and the first word hints the kind (call, meeting, e-mail, visit)."""

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from dateparser.search import search_dates
from django.utils import timezone

KIND_WORDS = {
    "call": ["call", "ring", "phone", "позвонить", "перезвонить", "звонок", "להתקשר",
             "שיחה", "զանգ", "զանգել"],
    "meeting": ["meet", "meeting", "встреча", "встретиться", "פגישה", "להיפגש", "հանդիպում"],
    "email": ["email", "e-mail", "mail", "write", "send", "написать", "отправить", "письмо",
              "לשלוח", "מייל", "գրել", "ուղարկել"],
    "visit": ["visit", "measure", "install", "выезд", "замер", "монтаж", "ביקור", "այց"],
}  # fmt: skip
DEFAULT_HOUR = 9  # a day without a time: the task is for that whole day


@dataclass
class Parsed:
    title: str
    due_at: datetime | None
    all_day: bool
    kind: str


def parse_line(line: str, *, language: str, now: datetime | None = None) -> Parsed:
    """Read one line in the user's language and time zone (the active one)."""

    line = " ".join(line.split())
    now = timezone.localtime(now or timezone.now())
    settings = {
        "PREFER_DATES_FROM": "future",
        "RETURN_AS_TIMEZONE_AWARE": True,
        "TIMEZONE": str(now.tzinfo),
        "RELATIVE_BASE": now.replace(tzinfo=None),
    }
    languages = [language[:2]] if language[:2] in ("en", "ru", "he", "hy") else None
    try:
        found = search_dates(line, languages=languages, settings=settings) or []
    except (ValueError, OverflowError):  # dateparser trips on some inputs: no date then
        found = []
    due, all_day, title = None, False, line
    for text, moment in found:
        if not re.search(r"\d|\w{3,}", text):
            continue
        title = (line.replace(text, " ", 1)).strip(" ,.-–—")
        has_time = (
            moment.second == 0
            and moment.microsecond == 0
            and (moment.hour != now.hour or moment.minute != now.minute or ":" in text)
        )
        if has_time:
            due = moment
        else:  # "tomorrow", "on Monday": that day, as a whole-day task
            due = timezone.make_aware(datetime.combine(moment.date(), time(0, 0)), now.tzinfo)
            all_day = True
        break
    title = re.sub(r"\s+(в|at|on|ב|ժամը)$", "", " ".join(title.split()), flags=re.IGNORECASE)
    return Parsed(title=title or line, due_at=due, all_day=all_day, kind=guess_kind(title))


def guess_kind(title: str) -> str:
    first = title.split()[0].lower().strip(",.:") if title.split() else ""
    for kind, words in KIND_WORDS.items():
        if any(first.startswith(word) for word in words):
            return kind
    return "other"


def next_working_morning(now: datetime | None = None) -> datetime:
    """When a one-line task without a date is due: tomorrow at 9:00 (local time)."""
    now = timezone.localtime(now or timezone.now())
    day = now.date() + timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, time(DEFAULT_HOUR, 0)), now.tzinfo)
