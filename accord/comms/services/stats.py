"""Every write of the communication statistics: the daily rollups (`ChannelDay`) moved on
by the services as a message comes in or goes out, a client's wait is answered, a call
ends, is missed or is called back — and rebuilt from the stored messages and calls (an
upgrade, a restore: `stats_rebuild`)."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import IntegrityError, transaction

from accord.accounts.models import User
from accord.accounts.queries import hours_of
from accord.comms.models import Call, ChannelDay, Conversation, Message
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


def day_of(moment: datetime) -> date:
    """The company's date of a moment (the rollups' day)."""
    return moment.astimezone(zone_of(None)).date()


def stats_add(tallies: dict[tuple[date, int | None, str], Tally]) -> None:
    """Add the tallies to their days' rows, made on first use; one transaction."""
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
    messages in order (the first of ours after the client's). Answers the rows written."""
    tallies: dict[tuple[date, int | None, str], Tally] = defaultdict(Tally)
    messages = Message.objects.filter(conversation__isnull=False, mailing=None).exclude(
        kind__in=(Message.OWN, Message.AUTO_REPLY, Message.BOUNCE)
    )
    if since is not None:
        messages = messages.filter(created_at__gte=since)
    channels = dict(Conversation.objects.values_list("pk", "channel"))
    assignees = dict(Conversation.objects.values_list("pk", "assignee_id"))
    hours: dict = {}
    waiting: dict[int, datetime] = {}
    for message in messages.order_by("conversation_id", "created_at", "pk").iterator(2000):
        channel = channels.get(message.conversation_id, ChannelDay.EMAIL)
        if message.direction == Message.IN:
            who = assignees.get(message.conversation_id)
            tallies[(day_of(message.created_at), who, channel)].incoming += 1
            waiting.setdefault(message.conversation_id, message.created_at)
            continue
        who = message.author_id or assignees.get(message.conversation_id)
        tally = tallies[(day_of(message.created_at), who, channel)]
        tally.outgoing += 1
        since_wait = waiting.pop(message.conversation_id, None)
        if since_wait is not None and who:
            if who not in hours:
                hours[who] = hours_of(User.objects.filter(pk=who).first())
            spent = minutes_between(since_wait, message.created_at, hours[who])
            tally.answers[answer_minutes(spent)] += 1
    calls = Call.objects.all() if since is None else Call.objects.filter(started_at__gte=since)
    for call in calls.iterator(2000):
        tally = tallies[(day_of(call.started_at), call.user_id, ChannelDay.PHONE)]
        if call.state == Call.MISSED:
            tally.missed += 1
        elif call.direction == Call.IN and call.state == Call.ENDED:
            tally.incoming += 1
        elif call.direction == Call.OUT:
            tally.outgoing += 1
        if call.state == Call.MISSED and call.returned_at and call.ended_at:
            who = call.user_id
            if who not in hours:
                hours[who] = hours_of(User.objects.filter(pk=who).first() if who else None)
            tally.returned += 1
            spent = minutes_between(call.ended_at, call.returned_at, hours[who])
            tally.answers[answer_minutes(spent)] += 1
    with transaction.atomic():
        old = ChannelDay.objects.all()
        if since is not None:
            old = old.filter(day__gte=day_of(since))
        old.delete()
        ChannelDay.objects.bulk_create(
            [
                ChannelDay(day=day, user_id=user_id, channel=channel, incoming=t.incoming,
                           outgoing=t.outgoing, missed=t.missed, returned=t.returned,
                           answered=sum(t.answers.values()),
                           answer_minutes={str(k): v for k, v in sorted(t.answers.items())})
                for (day, user_id, channel), t in tallies.items()
            ],
            batch_size=1000,
        )  # fmt: skip
    return len(tallies)
