"""Every write of the communication statistics: the daily rollups (`ChannelDay`) moved on
by the services as a message comes in or goes out, a client's wait is answered, a call
ends, is missed or is called back — and rebuilt from the stored messages and calls (an
upgrade, a restore: `stats_rebuild`)."""

import contextvars
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import IntegrityError, transaction

from accord.accounts.models import User
from accord.accounts.queries import hours_of
from accord.comms.models import Call, ChannelDay, Message
from accord.core.company import zone_of
from accord.core.workhours import minutes_between

WEEK_MINUTES = 7 * 24 * 60  # an answer after a week or more counts as a week


@dataclass
class Tally:
    """What one (day, user, channel) gains."""

    incoming: int = 0
    outgoing: int = 0
    missed: int = 0
    returned: int = 0
    answers: Counter = field(default_factory=Counter)  # whole working minutes -> count

    def add(self, other: "Tally") -> None:
        self.incoming += other.incoming
        self.outgoing += other.outgoing
        self.missed += other.missed
        self.returned += other.returned
        self.answers.update(other.answers)


# Inside `stats_gathered()`: the tallies added so far, written when it ends.
_gathered: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "stats_gathered", default=None
)


@contextmanager
def stats_gathered():
    """What the block adds to the rollups is written when it ends, each day's row once (a
    worker's batch of calls or messages adds to a few rows hundreds of times); an
    exception writes nothing. Nested, the outermost block writes."""
    if _gathered.get() is not None:
        yield
        return
    tallies: dict = defaultdict(Tally)
    token = _gathered.set(tallies)
    try:
        yield
    finally:
        _gathered.reset(token)
    if tallies:
        stats_add(dict(tallies))


def day_of(moment: datetime) -> date:
    """The company's date of a moment (the rollups' day)."""
    return moment.astimezone(zone_of(None)).date()


def stats_add(tallies: dict[tuple[date, int | None, str], Tally]) -> None:
    """Add the tallies to their days' rows, made on first use; one transaction."""
    gathered = _gathered.get()
    if gathered is not None:
        for key, tally in tallies.items():
            gathered[key].add(tally)
        return
    with transaction.atomic():
        # Rows locked in one order by every writer: two batches never wait on each other.
        ordered = sorted(
            tallies.items(), key=lambda item: (item[0][0], item[0][1] or 0, item[0][2])
        )
        for (day, user_id, channel), tally in ordered:
            row = _row(day, user_id, channel)
            row.incoming += tally.incoming
            row.outgoing += tally.outgoing
            row.missed += tally.missed
            row.returned += tally.returned
            if tally.answers:
                minutes = Counter({int(k): v for k, v in row.answer_minutes.items()})
                minutes.update(tally.answers)
                row.answer_minutes = {str(k): v for k, v in sorted(minutes.items())}
                row.answered += sum(tally.answers.values())
            row.save()


def _lock_order(item) -> tuple:
    (day, user_id, channel), _tally = item
    return day, user_id or 0, channel


def _row(day: date, user_id: int | None, channel: str) -> ChannelDay:
    found = ChannelDay.objects.select_for_update().filter(day=day, user_id=user_id, channel=channel)
    row = found.first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            return ChannelDay.objects.create(day=day, user_id=user_id, channel=channel)
    except IntegrityError:  # made a moment ago by another process
        return found.get()


def answer_minutes(minutes: float) -> int:
    return min(round(minutes), WEEK_MINUTES)


def stats_message(
    *, at: datetime, user_id: int | None, channel: str, incoming: bool,
    answered_after: float | None = None,
) -> None:  # fmt: skip
    """One message in or out (and, out, the wait it answered, in working minutes)."""
    tally = Tally(incoming=int(incoming), outgoing=int(not incoming))
    if answered_after is not None:
        tally.answers[answer_minutes(answered_after)] += 1
    stats_add({(day_of(at), user_id, channel): tally})


def stats_call(
    *, at: datetime, user_id: int | None, incoming: bool = False, outgoing: bool = False,
    missed: bool = False, returned_after: float | None = None,
) -> None:  # fmt: skip
    """A call ended (in or out), was missed, or a missed one was called back after this
    many working minutes."""
    tally = Tally(incoming=int(incoming), outgoing=int(outgoing), missed=int(missed))
    if returned_after is not None:
        tally.returned = 1
        tally.answers[answer_minutes(returned_after)] += 1
    stats_add({(day_of(at), user_id, ChannelDay.PHONE): tally})


def stats_rebuild(*, since: datetime | None = None) -> int:
    """Count the rollups again from the stored messages and calls (after an upgrade or a
    restore): in and out per day, user and channel; answers from each conversation's
    messages in order (the first of ours after the client's). Answers the rows written.

    It reads the messages as plain tuples, a conversation at a time in the order of the
    index `message_thread`, with their conversation's channel and assignee joined in:
    its memory is that of the rollups, whatever the number of messages and conversations."""
    tallies: dict[tuple[date, int | None, str], Tally] = defaultdict(Tally)
    zone = zone_of(None)
    hours = _HoursOf()
    messages = Message.objects.filter(conversation__isnull=False, mailing=None).exclude(
        kind__in=(Message.OWN, Message.AUTO_REPLY, Message.BOUNCE)
    )
    if since is not None:
        messages = messages.filter(created_at__gte=since)
    rows = messages.order_by("conversation_id", "created_at", "pk").values_list(
        "conversation_id", "conversation__channel", "conversation__assignee_id", "direction",
        "author_id", "created_at",
    )  # fmt: skip
    current, waiting_since = None, None  # the conversation read, and since when its client waits
    for conversation_id, channel, assignee_id, direction, author_id, at in rows.iterator(5000):
        if conversation_id != current:
            current, waiting_since = conversation_id, None
        day = at.astimezone(zone).date()
        if direction == Message.IN:
            tallies[(day, assignee_id, channel)].incoming += 1
            if waiting_since is None:
                waiting_since = at
            continue
        who = author_id or assignee_id
        tally = tallies[(day, who, channel)]
        tally.outgoing += 1
        if waiting_since is not None and who:
            spent = minutes_between(waiting_since, at, hours[who])
            tally.answers[answer_minutes(spent)] += 1
        waiting_since = None
    calls = Call.objects.all() if since is None else Call.objects.filter(started_at__gte=since)
    calls = calls.order_by().values_list(
        "started_at", "user_id", "state", "direction", "ended_at", "returned_at"
    )
    for started_at, user_id, state, direction, ended_at, returned_at in calls.iterator(5000):
        tally = tallies[(started_at.astimezone(zone).date(), user_id, ChannelDay.PHONE)]
        if state == Call.MISSED:
            tally.missed += 1
        elif direction == Call.IN and state == Call.ENDED:
            tally.incoming += 1
        elif direction == Call.OUT:
            tally.outgoing += 1
        if state == Call.MISSED and returned_at and ended_at:
            tally.returned += 1
            spent = minutes_between(ended_at, returned_at, hours[user_id])
            tally.answers[answer_minutes(spent)] += 1
    with transaction.atomic():
        old = ChannelDay.objects.all()
        if since is not None:
            old = old.filter(day__gte=day_of(since))
        old.delete()
        ChannelDay.objects.bulk_create(
            (
                ChannelDay(day=day, user_id=user_id, channel=channel, incoming=t.incoming,
                           outgoing=t.outgoing, missed=t.missed, returned=t.returned,
                           answered=sum(t.answers.values()),
                           answer_minutes={str(k): v for k, v in sorted(t.answers.items())})
                for (day, user_id, channel), t in tallies.items()
            ),
            batch_size=1000,
        )  # fmt: skip
    return len(tallies)


class _HoursOf(dict):
    """Each user's working hours, read once (None: the company's week)."""

    def __missing__(self, user_id: int | None):
        user = User.objects.filter(pk=user_id).first() if user_id else None
        self[user_id] = found = hours_of(user)
        return found
