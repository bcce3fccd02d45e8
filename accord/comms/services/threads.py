"""Every write of conversations (threads): a message joining one (the Inbox's counts and
order kept on the row), who answers it, and what each user has read of it."""

from collections import defaultdict
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.accounts.queries import hours_of
from accord.comms.models import Conversation, ConversationRead, Message
from accord.comms.services.stats import Tally, day_of, stats_add, stats_message
from accord.core.company import reply_minutes
from accord.core.events import emit, emit_many
from accord.core.visibility import NONE, WRITE, effective_level
from accord.core.workhours import deadline, minutes_between
from accord.work.models import Notification
from accord.work.services import notify, sees


def default_assignee(person, company, deal, actor: User | None = None) -> User | None:
    """Who answers a new conversation: the client's owner (the deal's owner for a deal
    alone), else who started it."""
    for record in (person, company, deal):
        if record is not None and record.owner_id and record.owner.is_active:
            return record.owner
    return actor if actor is not None and actor.pk else None


def joined(conversation: Conversation, message: Message, *, reader: User | None = None) -> None:
    """A message is now part of the conversation: its count, its last moment, whether the
    client waits for an answer. `reader`: who wrote it has read the conversation so far."""
    incoming = message.direction == Message.IN
    # Only a person's own message answers the client: a mailing's or a rule's does not
    # stop the first-answer clock, nor count as an answer.
    answers = not incoming and not message.mailing_id and not message.rule_name
    waited, channel = (
        Conversation.objects.select_for_update()
        .filter(pk=conversation.pk)
        .values_list("waiting_since", "channel")
        .first()
    ) or (None, Conversation.EMAIL)
    who = message.author_id or conversation.assignee_id
    answered_after = None
    if answers and waited is not None and waited <= message.created_at and who:
        answerer = message.author if message.author_id else conversation.assignee
        answered_after = minutes_between(waited, message.created_at, hours_of(answerer))
    if not message.mailing_id:
        stats_message(at=message.created_at, user_id=who, channel=channel, incoming=incoming,
                      answered_after=answered_after)  # fmt: skip
    changes = {
        "message_count": F("message_count") + 1,
        "last_message_at": message.created_at,
    }
    if incoming:
        changes["awaiting_reply"] = True
        changes["last_incoming_at"] = message.created_at
        changes["waiting_since"] = Coalesce(F("waiting_since"), Value(message.created_at))
    elif answers:  # answered: the first-answer clock stops
        changes["awaiting_reply"] = False
        changes["waiting_since"] = None
        changes["reply_late_at"] = None
        changes["reply_due_at"] = None
    later = Conversation.objects.filter(pk=conversation.pk, last_message_at__lte=message.created_at)
    if not later.update(**changes):  # an older message, arriving late: only the count
        older = {"message_count": F("message_count") + 1}
        if incoming:
            older["last_incoming_at"] = message.created_at
        Conversation.objects.filter(pk=conversation.pk).update(**older)
    if reader is not None and reader.pk:
        _read(conversation, reader, message.created_at)


@transaction.atomic
def conversation_message_received(*, message: Message) -> Conversation | None:
    """An incoming message was stored in its conversation: `conversations_messages_received`
    for one message. Answers the conversation as it is now."""
    conversations_messages_received(messages=[message])
    if message.conversation is not None:
        message.conversation.refresh_from_db()
    return message.conversation


@transaction.atomic
def conversations_messages_received(*, messages: list[Message]) -> None:
    """Incoming messages were stored in their conversations (the receiving worker calls
    this for a batch): each counts; the client now waits for an answer and the
    conversation's last message moves to the latest, unless every new one is older than
    the last already there (it arrived late: it only counts); "last came in" never moves
    back; a conversation nobody answers goes to its client's owner. One SELECT and one
    UPDATE for the batch. Emits `conversation.waiting` for each message."""
    incoming = [m for m in messages if m.conversation_id and m.direction == Message.IN]
    if not incoming:
        return
    joined: dict[int, tuple[int, datetime, datetime]] = {}
    for message in incoming:
        count, latest, earliest = joined.get(
            message.conversation_id, (0, message.created_at, message.created_at)
        )
        joined[message.conversation_id] = (
            count + 1, max(latest, message.created_at), min(earliest, message.created_at)
        )  # fmt: skip
    nobodys = Conversation.objects.filter(pk__in=joined, assignee=None).select_related(
        "person__owner", "company__owner", "deal__owner"
    )
    assignees = {}
    for conversation in nobodys:
        assignee = default_assignee(conversation.person, conversation.company, conversation.deal)
        assignees[conversation.pk] = assignee.pk if assignee is not None else None
    rows = [
        (pk, count, latest, assignees.get(pk), earliest)
        for pk, (count, latest, earliest) in joined.items()
    ]
    answered_by = _joined_many(rows)
    channels = dict(Conversation.objects.filter(pk__in=joined).values_list("pk", "channel"))
    tallies: dict = defaultdict(Tally)
    for message in incoming:
        key = (day_of(message.created_at), answered_by.get(message.conversation_id),
               channels.get(message.conversation_id, Conversation.EMAIL))  # fmt: skip
        tallies[key].incoming += 1
    stats_add(tallies)
    emit_many("conversation.waiting", [
        {"conversation_id": m.conversation_id, "message_id": m.pk,
         "assignee_id": answered_by.get(m.conversation_id)}
        for m in incoming
    ])  # fmt: skip


# What a batch of incoming messages does to their conversations, in one statement. SET
# reads the row as it was, so "later" compares with the last message before the batch.
JOINED_MANY = """
UPDATE {table} SET
  message_count = message_count + v.column2{number},
  awaiting_reply = CASE WHEN last_message_at <= v.column3{stamp} THEN TRUE
                        ELSE awaiting_reply END,
  last_message_at = CASE WHEN last_message_at <= v.column3{stamp} THEN v.column3{stamp}
                         ELSE last_message_at END,
  last_incoming_at = CASE WHEN last_incoming_at IS NULL
                           OR last_incoming_at < v.column3{stamp} THEN v.column3{stamp}
                          ELSE last_incoming_at END,
  assignee_id = COALESCE(assignee_id, v.column4{number}),
  reply_due_at = CASE WHEN waiting_since IS NULL OR waiting_since > v.column5{stamp}
                      THEN NULL ELSE reply_due_at END,
  waiting_since = CASE WHEN waiting_since IS NULL THEN v.column5{stamp}
                       WHEN waiting_since > v.column5{stamp} THEN v.column5{stamp}
                       ELSE waiting_since END
FROM (VALUES {values}) AS v
WHERE {table}.id = v.column1
RETURNING {table}.id, {table}.assignee_id
"""


def _joined_many(
    rows: list[tuple[int, int, datetime, int | None, datetime]],
) -> dict[int, int | None]:
    """Rows of (conversation, messages come in, the latest of them, who answers it if
    nobody does yet, the earliest of them: the client waits since then unless they
    waited already) applied in one UPDATE … FROM (VALUES …), as `core.bulk.move_forward`
    writes; answers who answers each conversation now."""
    ops = connection.ops
    postgresql = connection.vendor == "postgresql"
    sql = JOINED_MANY.format(
        table=ops.quote_name(Conversation._meta.db_table),
        values=", ".join(["(%s, %s, %s, %s, %s)"] * len(rows)),
        stamp="::timestamptz" if postgresql else "",
        number="::bigint" if postgresql else "",
    )
    params = [
        value
        for pk, count, latest, assignee, earliest in rows
        for value in (
            pk,
            count,
            ops.adapt_datetimefield_value(latest),
            assignee,
            ops.adapt_datetimefield_value(earliest),
        )
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)  # the table's name is our model's; values are parameters
        return dict(cursor.fetchall())


@transaction.atomic
def conversation_assign(
    *, actor: User, conversation: Conversation, assignee: User | None
) -> Conversation:
    """Give the conversation to a colleague who may see its client (None: to nobody).
    Who may write to the client may reassign it. The colleague is notified (not who
    takes it themselves). Emits `conversation.assigned`."""
    if not may_answer(actor, conversation):
        raise PermissionDenied(_("You may not reassign this conversation."))
    if assignee is not None:
        records = _records(conversation)
        if not assignee.is_active:
            raise ValidationError({"assignee": [_("This user is deactivated.")]})
        if not all(sees(assignee, record) for record in records):
            raise ValidationError(
                {"assignee": [_("%(name)s may not see this client.") % {"name": assignee}]}
            )
    before = conversation.assignee_id
    conversation.assignee = assignee
    if before == conversation.assignee_id:
        return conversation
    changes = {"assignee": assignee}
    if conversation.waiting_since is not None and conversation.reply_late_at is None:
        # Not late yet: the answer is now due in the new assignee's working hours.
        conversation.reply_due_at = changes["reply_due_at"] = reply_due(conversation)
    Conversation.objects.filter(pk=conversation.pk).update(**changes)
    if assignee is not None and assignee.pk != actor.pk:  # who takes it knows already
        now = timezone.now()
        notify(
            assignee, Notification.ASSIGNED, f"conversation:{conversation.pk}:{now:%s%f}",
            conversation_id=conversation.pk, subject=conversation.subject, by=str(actor),
            link=reverse("thread_detail", args=[conversation.pk]),
        )  # fmt: skip
    emit(
        "conversation.assigned",
        conversation_id=conversation.pk,
        assignee_id=conversation.assignee_id,
        previous_id=before,
        actor_id=actor.pk,
    )
    return conversation


@transaction.atomic
def conversation_mark_read(
    *, actor: User, conversation: Conversation, read: bool = True
) -> Conversation:
    """Mark it read for this user (up to now), or unread again (its last incoming
    message counts as new)."""
    if read:
        _read(conversation, actor, timezone.now())
    elif conversation.last_incoming_at is not None:
        ConversationRead.objects.update_or_create(
            conversation=conversation,
            user=actor,
            defaults={"read_at": conversation.last_incoming_at - timedelta(microseconds=1)},
        )
    return conversation


def may_answer(actor: User | None, conversation: Conversation) -> bool:
    """Whether the user may reply in it (and reassign it): they may write to clients and
    see each record it is about."""
    records = _records(conversation)
    if actor is None or not records or effective_level(actor, "activities", WRITE) == NONE:
        return False
    return all(sees(actor, record) for record in records)


def _records(conversation: Conversation) -> list:
    return [record for record in (conversation.person, conversation.company, conversation.deal)
            if record is not None]  # fmt: skip


def _read(conversation: Conversation, user: User, at: datetime) -> None:
    mark, created = ConversationRead.objects.get_or_create(
        conversation=conversation, user=user, defaults={"read_at": at}
    )
    if not created and mark.read_at < at:
        ConversationRead.objects.filter(pk=mark.pk).update(read_at=at)


# --- The first-answer clock ------------------------------------------------------------------

LATE_BATCH = 500


def reply_due(conversation: Conversation) -> datetime | None:
    """When the client waiting in it must have had an answer: the channel's target in
    the assignee's working minutes (the company's week with nobody) after they wrote."""
    if conversation.waiting_since is None:
        return None
    hours = hours_of(conversation.assignee if conversation.assignee_id else None)
    return deadline(conversation.waiting_since, reply_minutes(conversation.channel), hours)


def replies_late(now: datetime) -> int:
    """The worker's pass: each conversation whose client started waiting gets its answer's
    deadline worked out (once); each whose deadline passed is marked late once, its
    assignee told, and the head of their team (escalation); emits `conversation.late` for
    automation. Answers how many were late now."""
    fresh = (
        Conversation.objects.filter(waiting_since__isnull=False, reply_due_at=None)
        .select_related("assignee__work_schedule")
        .order_by("waiting_since")[:LATE_BATCH]
    )
    for conversation in fresh:
        due = reply_due(conversation)
        Conversation.objects.filter(
            pk=conversation.pk, waiting_since=conversation.waiting_since
        ).update(reply_due_at=due)
    waiting = (
        Conversation.objects.filter(reply_due_at__lte=now, reply_late_at=None, awaiting_reply=True)
        .select_related("assignee__team__head")
        .order_by("reply_due_at")[:LATE_BATCH]
    )
    late = 0
    for conversation in waiting:
        with transaction.atomic():
            claimed = Conversation.objects.filter(pk=conversation.pk, reply_late_at=None).update(
                reply_late_at=now
            )
            if not claimed:
                continue  # another worker's pass took it
            _told_late(conversation, conversation.reply_due_at)
            late += 1
    return late


def _told_late(conversation: Conversation, due: datetime) -> None:
    data = {
        "conversation_id": conversation.pk,
        "subject": conversation.subject,
        "due_at": due.isoformat(),
        "waiting_since": conversation.waiting_since.isoformat(),
        "link": reverse("thread_detail", args=[conversation.pk]),
    }
    key = f"late:{conversation.pk}:{conversation.waiting_since:%s}"
    assignee = conversation.assignee
    if assignee is not None and assignee.is_active:
        notify(assignee, Notification.OVERDUE, key, **data)
        head = assignee.team.head if assignee.team_id and assignee.team.head_id else None
        if head is not None and head.is_active and head.pk != assignee.pk:
            notify(head, Notification.ESCALATION, f"{key}:head", assignee=str(assignee), **data)
    emit("conversation.late", conversation_id=conversation.pk,
         assignee_id=conversation.assignee_id, channel=conversation.channel,
         person_id=conversation.person_id, company_id=conversation.company_id,
         deal_id=conversation.deal_id)  # fmt: skip
