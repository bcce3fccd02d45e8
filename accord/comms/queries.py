"""Reads of mailboxes, messages and calls, scoped to the acting user: a message or a call
is seen by whoever may see its client or its deal (anyone else gets a 404); a mailbox is
managed by the administrators, a personal one also by its owner."""

import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from statistics import median

from django.core.cache import cache
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from accord.comms.models import (
    BouncingAddress,
    Call,
    ChannelDay,
    Conversation,
    ConversationRead,
    EmailTemplate,
    Extension,
    Mailbox,
    Mailing,
    Message,
    Messenger,
    Telephony,
)
from accord.contacts.queries import companies_visible_to, people_visible_to
from accord.core.pagination import COUNT_CAP, capped_counts
from accord.core.pagination import Count as CappedCount
from accord.core.visibility import ALL, NONE, READ, effective_level
from accord.sales.queries import deals_visible_to

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# A connection read by its webhook is kept this long: a burst of deliveries reads the
# database once. Changing or removing it through the services forgets it at once (in
# every process where the cache is Redis; in this process with the default in-memory
# cache, the others take up to this long to see it).
HOOK_CACHE_SECONDS = 5


def hook_connection(model: type[Telephony] | type[Messenger], token: str):
    """The active connection (a PBX, a messenger) whose webhook address holds `token`,
    or None."""
    key = _hook_key(model, token)
    found = cache.get(key)
    if found is None:
        found = model.objects.filter(hook_token=token, active=True).first()
        if found is not None:  # an unknown address is not kept: it may be made next
            cache.set(key, found, HOOK_CACHE_SECONDS)
    return found


def hook_connection_forget(connection: Telephony | Messenger) -> None:
    """After a connection changed or went: this process reads it anew at once."""
    cache.delete(_hook_key(type(connection), connection.hook_token))


def _hook_key(model, token: str) -> str:
    return f"hook:{model._meta.model_name}:{token}"


def messengers_in_use() -> QuerySet[Messenger]:
    return Messenger.objects.filter(active=True).order_by("name", "pk")


def manages_mailboxes(user) -> bool:
    """Administrators (who set up the company) manage every mailbox, shared ones too."""
    return bool(getattr(user, "sets_up_company", False))


def mailboxes_managed_by(user) -> QuerySet[Mailbox]:
    if not getattr(user, "is_active", False):
        return Mailbox.objects.none()
    mailboxes = Mailbox.objects.select_related("owner")
    return mailboxes if manages_mailboxes(user) else mailboxes.filter(owner=user)


def mailboxes_to_send_from(user) -> QuerySet[Mailbox]:
    """The user's own mailboxes and the shared ones, in use."""
    if not getattr(user, "is_active", False):
        return Mailbox.objects.none()
    return Mailbox.objects.filter(Q(owner=None) | Q(owner=user), active=True).order_by(
        "owner", "name", "id"
    )


def mailboxes_visible_to(user) -> QuerySet[Mailbox]:
    """What the API lists: those the user sends from, and those they manage."""
    if not getattr(user, "is_active", False):
        return Mailbox.objects.none()
    if manages_mailboxes(user):
        return Mailbox.objects.select_related("owner")
    return Mailbox.objects.select_related("owner").filter(
        Q(owner=None, active=True) | Q(owner=user)
    )


def default_mailbox() -> Mailbox | None:
    """Where a rule writes from when it names no mailbox: the shared one marked the
    company's default, else the first shared one in use."""
    shared = Mailbox.objects.filter(owner=None, active=True)
    return shared.filter(is_default=True).first() or shared.order_by("id").first()


def messages_visible_to(user) -> QuerySet[Message]:
    messages = Message.objects.select_related(
        "mailbox", "messenger", "author", "person", "company", "deal"
    )
    seen = _seen(user)
    if seen is None:
        return messages
    if getattr(user, "pk", None):  # what came into one's own mailbox, matched or not
        seen |= Q(mailbox__owner=user)
    return messages.filter(seen)


def conversations_visible_to(user, *, read_marks: bool = True) -> QuerySet[Conversation]:
    """Conversations whose client (person or company) or deal the user may see, with the
    user's own read mark as `read_at` (None: never opened) unless `read_marks` is off."""
    if not getattr(user, "is_active", False):
        return Conversation.objects.none()
    conversations = Conversation.objects.select_related("person", "company", "deal", "assignee")
    if read_marks:
        mark = ConversationRead.objects.filter(conversation=OuterRef("pk"), user=user)
        conversations = conversations.annotate(read_at=Subquery(mark.values("read_at")[:1]))
    seen = _seen(user)
    return conversations if seen is None else conversations.filter(seen)


def _seen(user) -> Q | None:
    """What of a message or conversation the user may see (None: everything): its person
    or company by the clients' rule, its deal by the deals' rule."""
    clients = effective_level(user, "clients", READ)
    deals = effective_level(user, "deals", READ)
    if clients == ALL and deals == ALL:
        return None
    seen = Q(pk__in=[])
    if clients == ALL:
        seen |= Q(person__isnull=False) | Q(company__isnull=False)
    elif clients != NONE:
        seen |= Q(person__in=people_visible_to(user).values("pk"))
        seen |= Q(company__in=companies_visible_to(user).values("pk"))
    if deals == ALL:
        seen |= Q(deal__isnull=False)
    elif deals != NONE:
        seen |= Q(deal__in=deals_visible_to(user).values("pk"))
    return seen


# --- The Inbox ----------------------------------------------------------------------------

BOXES = ("mine", "unassigned", "waiting", "all")
# The Inbox's order: a client waiting for an answer first, then the latest.
INBOX_SORT = "-awaiting_reply,-last_message_at"
THREADS_SORT = "-last_message_at"


def inbox(user, box: str = "mine", channel: str = "") -> QuerySet[Conversation]:
    """The conversations a client wrote in, that the user may see: theirs, nobody's, those
    waiting for our answer, or all (of one channel: e-mail, SMS, Telegram, WhatsApp); each
    with `unread`, its incoming messages the user has not read."""
    found = conversations_visible_to(user).filter(last_incoming_at__isnull=False)
    if channel:
        found = found.filter(channel=channel)
    if box == "mine":
        found = found.filter(assignee=user)
    elif box == "unassigned":
        found = found.filter(assignee__isnull=True)
    elif box == "waiting":
        found = found.filter(awaiting_reply=True)
    return with_unread(found)


def with_unread(conversations: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """Each with `unread`: how many incoming messages came after the user's read mark."""
    since = Coalesce(OuterRef("read_at"), Value(EPOCH))
    unread = (
        Message.objects.filter(
            conversation=OuterRef("pk"), direction=Message.IN, created_at__gt=since
        )
        .order_by()
        .values("conversation")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return conversations.annotate(unread=Coalesce(Subquery(unread), 0))


# An Inbox tab says "1,000+" past this: read no further (a manager's four boxes counted
# to 10,000 each were half of their Inbox's time on PostgreSQL).
INBOX_COUNT_CAP = 1_000


def inbox_counts(user, *, cap: int = COUNT_CAP) -> dict[str, CappedCount]:
    """How many conversations in each box (mine, unassigned, waiting, all), capped past
    `cap` (the API's lists' 10,000; the Inbox's tabs INBOX_COUNT_CAP), in one statement."""
    found = conversations_visible_to(user, read_marks=False).filter(last_incoming_at__isnull=False)
    return capped_counts(
        {
            "mine": found.filter(assignee=user),
            "unassigned": found.filter(assignee__isnull=True),
            "waiting": found.filter(awaiting_reply=True),
            "all": found,
        },
        cap=cap,
    )


def unread_of(user) -> int:
    """The navigation's badge: the user's conversations with news."""
    if not getattr(user, "is_active", False):
        return 0
    found = conversations_visible_to(user).filter(assignee=user, last_incoming_at__isnull=False)
    return found.filter(Q(read_at__isnull=True) | Q(last_incoming_at__gt=F("read_at"))).count()


def threads_of(user, *, person=None, company=None, deal=None) -> QuerySet[Conversation]:
    """A client's or a deal's conversations the user may see, each with `unread`."""
    found = conversations_visible_to(user)
    if person is not None:
        found = found.filter(person=person)
    elif company is not None:
        found = found.filter(company=company)
    elif deal is not None:
        found = found.filter(deal=deal)
    else:
        return found.none()
    return with_unread(found)


def thread_messages(conversation: Conversation) -> QuerySet[Message]:
    """Its messages, oldest first, with their files and authors."""
    return (
        Message.objects.filter(conversation=conversation)
        .select_related("author", "mailbox")
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )


def client_addresses(*, person=None, company=None, deal=None) -> list[tuple[str, str]]:
    """(address, whose) of the e-mail addresses a message to these may go to: the
    person's, the company's, and a deal's client's, each once, in their order."""
    if deal is not None:
        person, company = person or deal.person, company or deal.company
    found: dict[str, str] = {}
    for record in (person, company):
        if record is None:
            continue
        for point in record.contact_points.all():
            if point.kind == "email" and point.value not in found:
                found[point.value] = str(record)
    return list(found.items())


def last_messenger_of(client) -> int | None:
    """The connection (its id) of a client's latest SMS or messenger conversation: the
    one "Write a message" offers first."""
    field = "company" if client._meta.model_name == "company" else "person"
    latest = Conversation.objects.filter(**{field: client}, messenger__isnull=False)
    return latest.order_by("-last_message_at").values_list("messenger_id", flat=True).first()


def mailings_visible_to(user):
    """Mailings are the company's: whoever may write to clients sees them all."""
    if not getattr(user, "is_active", False) or effective_level(user, "activities", READ) == NONE:
        return Mailing.objects.none()
    return Mailing.objects.select_related("created_by").order_by("-created_at", "-id")


def templates_for(user):
    """Everyone who writes to clients uses the templates."""
    if not getattr(user, "is_active", False):
        return EmailTemplate.objects.none()
    return EmailTemplate.objects.order_by("name", "id")


def bouncing(addresses) -> set[str]:
    """Which of these addresses (any case) a mail server said do not exist (a hard
    bounce): lower-cased. Mailings skip them."""
    wanted = {address.strip().lower() for address in addresses if address}
    if not wanted:
        return set()
    return set(BouncingAddress.objects.filter(address__in=wanted).values_list("address", flat=True))


def unmatched_messages(mailbox: Mailbox) -> QuerySet[Message]:
    """Received client mail no client holds the address of: shown on the mailbox's page
    until a rule makes a client of the sender or someone adds the address."""
    return Message.objects.filter(
        mailbox=mailbox, direction=Message.IN, kind=Message.CLIENT, person=None, company=None
    ).order_by("-created_at")


# --- Calls -------------------------------------------------------------------------------

RINGING_FOR = timedelta(minutes=3)  # a "ringing" call older than this ended unseen


def calls_visible_to(user) -> QuerySet[Call]:
    """Calls whose client or deal the user may see (as messages), and those with nobody
    that the user took or made; an administrator sees every call."""
    if not getattr(user, "is_active", False):
        return Call.objects.none()
    calls = Call.objects.select_related("person", "company", "deal", "user")
    if getattr(user, "sets_up_company", False):
        return calls
    seen = _seen(user)
    with_nobody = Q(user=user, person=None, company=None, deal=None)  # a hidden number
    return calls if seen is None else calls.filter(seen | with_nobody)


def has_extension(user) -> bool:
    return Extension.objects.filter(user=user, telephony__active=True).exists()


def calls_ringing_for(user, now: datetime) -> list[Call]:
    """The calls ringing now at the user's extensions (or given to them), newest first."""
    rings_here = Q(user=user)
    for telephony_id, number in Extension.objects.filter(
        user=user, telephony__active=True
    ).values_list("telephony_id", "number"):
        rings_here |= Q(telephony_id=telephony_id, extension=number)  # this phone, on its PBX
    calls = list(
        Call.objects.filter(rings_here, state=Call.RINGING, started_at__gte=now - RINGING_FOR)
        .select_related("person", "company", "deal")
        .order_by("-started_at")[:3]
    )
    # The caller's name and deal only for one who may see them; else the number alone.
    people = _visible(people_visible_to(user), [c.person_id for c in calls])
    companies = _visible(companies_visible_to(user), [c.company_id for c in calls])
    deals = _visible(deals_visible_to(user), [c.deal_id for c in calls])
    for call in calls:
        call.shown_person = call.person if call.person_id in people else None
        call.shown_company = call.company if call.company_id in companies else None
        call.shown_deal = call.deal if call.deal_id in deals else None
    return calls


def _visible(visible: QuerySet, ids: list[int | None]) -> set[int]:
    wanted = [pk for pk in ids if pk]
    return set(visible.filter(pk__in=wanted).values_list("pk", flat=True)) if wanted else set()


def dialing_extension(user) -> Extension | None:
    """The user's extension on a PBX Accord can ask to place a call (Zadarma, its API key
    and secret given), or None: their phone numbers are plain tel: links."""
    if not getattr(user, "is_active", False):
        return None
    return (
        Extension.objects.filter(user=user, telephony__active=True, telephony__provider="zadarma")
        .exclude(telephony__api_key_sealed="")
        .exclude(telephony__secret_sealed="")
        .select_related("telephony")
        .first()
    )


@dataclass
class CallFigures:
    """An employee's phone calls over a period (the PBX's, not those logged by hand)."""

    incoming: int = 0  # answered by them
    outgoing: int = 0  # made by them, someone talked
    talk_seconds: int = 0
    missed: int = 0  # missed calls whose "call back" was theirs
    not_returned: int = 0  # of those, not called back yet
    callback_seconds: int | None = None  # median, from the missed call to the talk after


def call_figures(user_ids: list[int], start: datetime, end: datetime) -> dict[int, CallFigures]:
    """Each employee's `CallFigures` for calls that began in [start, end): three grouped
    queries whatever the number of calls (the report's caller has checked who is in reach)."""
    figures = {pk: CallFigures() for pk in user_ids}
    period = Call.objects.filter(started_at__gte=start, started_at__lt=end)
    talked = (
        period.filter(user__in=user_ids, state=Call.ENDED)
        .values("user")
        .annotate(
            incoming=Count("pk", filter=Q(direction=Call.IN)),
            outgoing=Count("pk", filter=Q(direction=Call.OUT)),
            talk=Sum("duration"),
        )
    )
    for row in talked:
        found = figures[row["user"]]
        found.incoming, found.outgoing = row["incoming"], row["outgoing"]
        found.talk_seconds = row["talk"] or 0
    missed = period.filter(state=Call.MISSED, task__assignee__in=user_ids)
    for row in missed.values("task__assignee").annotate(
        n=Count("pk"), waiting=Count("pk", filter=Q(returned_at__isnull=True))
    ):
        found = figures[row["task__assignee"]]
        found.missed, found.not_returned = row["n"], row["waiting"]
    waits: dict[int, list[float]] = {}
    returned = missed.filter(returned_at__isnull=False, ended_at__isnull=False)
    for assignee, ended, returned_at in returned.values_list(
        "task__assignee", "ended_at", "returned_at"
    )[:20000]:
        waits.setdefault(assignee, []).append(max((returned_at - ended).total_seconds(), 0))
    for pk, seconds in waits.items():
        figures[pk].callback_seconds = round(median(seconds))
    return figures


# --- Communication statistics ----------------------------------------------------------------


@dataclass
class ChannelFigures:
    """Traffic and answers on one channel (or all), over a period: messages or calls in
    and out; clients' waits answered, and how soon — the median and the 90th percentile
    in working minutes (nearest rank; None with no answer); missed calls and returned."""

    incoming: int = 0
    outgoing: int = 0
    answered: int = 0
    missed: int = 0
    returned: int = 0
    minutes: Counter = field(default_factory=Counter)

    def merged(self, other: "ChannelFigures") -> None:
        self.incoming += other.incoming
        self.outgoing += other.outgoing
        self.answered += other.answered
        self.missed += other.missed
        self.returned += other.returned
        self.minutes.update(other.minutes)

    def percentile(self, share: float) -> int | None:
        """The smallest answer time at or below which `share` of the answers lie."""
        total = sum(self.minutes.values())
        if not total:
            return None
        rank, seen = max(1, math.ceil(share * total)), 0
        for minutes in sorted(self.minutes):
            seen += self.minutes[minutes]
            if seen >= rank:
                return minutes
        return None

    @property
    def median(self) -> int | None:
        return self.percentile(0.5)

    @property
    def p90(self) -> int | None:
        return self.percentile(0.9)

    @property
    def not_returned(self) -> int:
        return max(self.missed - self.returned, 0)


STAT_CHANNELS = ("email", "sms", "telegram", "whatsapp", "phone")


def comms_figures(
    user_ids: list[int], since: date, until: date
) -> dict[int, dict[str, ChannelFigures]]:
    """Each user's figures per channel from the daily rollups, `since` to `until`
    inclusive (the company's dates). Two queries whatever the number of messages: the
    counts summed by the database, then the days' answer times, merged here as plain
    tuples (a year of a team is some ten thousand days of rollups)."""
    found: dict[int, dict[str, ChannelFigures]] = {
        pk: {channel: ChannelFigures() for channel in STAT_CHANNELS} for pk in user_ids
    }
    days = ChannelDay.objects.filter(
        user_id__in=user_ids, day__gte=since, day__lte=until, channel__in=STAT_CHANNELS
    ).order_by()
    for row in days.values("user_id", "channel").annotate(
        in_=Sum("incoming"), out=Sum("outgoing"), answers=Sum("answered"),
        missed_=Sum("missed"), returned_=Sum("returned"),
    ):  # fmt: skip
        one = found[row["user_id"]][row["channel"]]
        one.incoming, one.outgoing, one.answered = row["in_"], row["out"], row["answers"]
        one.missed, one.returned = row["missed_"], row["returned_"]
    merged: dict[tuple[int, str], dict[str, int]] = {}
    answered = days.filter(answered__gt=0).values_list("user_id", "channel", "answer_minutes")
    for user_id, channel, minutes in answered.iterator(5000):
        into = merged.setdefault((user_id, channel), {})
        for key, count in minutes.items():
            into[key] = into.get(key, 0) + count
    for (user_id, channel), minutes in merged.items():
        found[user_id][channel].minutes.update({int(k): v for k, v in minutes.items()})
    return found


def totals(figures: dict[int, dict[str, ChannelFigures]]) -> dict[str, ChannelFigures]:
    """The channels' figures of everyone together, and "all" of every channel."""
    summed = {channel: ChannelFigures() for channel in (*STAT_CHANNELS, "all")}
    for channels in figures.values():
        for channel, one in channels.items():
            summed[channel].merged(one)
            summed["all"].merged(one)
    return summed


@dataclass
class ClientChannel:
    channel: str
    incoming: int = 0
    outgoing: int = 0
    replies: list = field(default_factory=list)  # the client's answers to us, in minutes

    @property
    def reply_median(self) -> float | None:
        return statistics.median(self.replies) if self.replies else None


CLIENT_MESSAGES = 500  # the latest messages a card's figures read


def client_channels(*, person=None, company=None) -> list[ClientChannel]:
    """How a client talks with us, per channel, from their latest messages and calls: in
    and out, and how soon they answer us (wall-clock minutes from our message to their
    next one). The first is the channel they prefer: the one they answer on most, then
    fastest; [] when they never wrote or called."""
    record = {"person": person} if person is not None else {"company": company}
    messages = (
        Message.objects.filter(**record, conversation__isnull=False, mailing=None)
        .exclude(kind__in=(Message.OWN, Message.AUTO_REPLY, Message.BOUNCE))
        .order_by("-created_at")
        .values_list("conversation__channel", "direction", "created_at")[:CLIENT_MESSAGES]
    )
    channels: dict[str, ClientChannel] = {}
    ours: dict[str, datetime] = {}
    for channel, direction, at in sorted(messages, key=lambda m: m[2]):
        one = channels.setdefault(channel, ClientChannel(channel))
        if direction == Message.OUT:
            one.outgoing += 1
            ours.setdefault(channel, at)
            continue
        one.incoming += 1
        asked = ours.pop(channel, None)
        if asked is not None:
            one.replies.append((at - asked).total_seconds() / 60)
    calls = Call.objects.filter(**record).values_list("direction", "state")[:CLIENT_MESSAGES]
    for direction, state in calls:
        one = channels.setdefault("phone", ClientChannel("phone"))
        if direction == Call.IN:
            one.incoming += 1
        elif state == Call.ENDED:  # an outgoing call they took: an answer at once
            one.outgoing += 1
            one.replies.append(0.0)
        else:
            one.outgoing += 1
    found = [one for one in channels.values() if one.incoming]
    return sorted(found, key=lambda c: (-len(c.replies), c.reply_median or 0, -c.incoming))


def mailing_replied(mailing) -> int:
    """How many of a mailing's recipients wrote back after it started (by e-mail, SMS or
    a messenger): its replies, counted once per person."""
    if mailing.started_at is None:
        return 0
    people = mailing.recipients.filter(state="sent", person__isnull=False).values("person_id")
    answers = Message.objects.filter(
        direction=Message.IN, person_id__in=people, created_at__gte=mailing.started_at
    )
    return answers.values("person_id").distinct().count()
