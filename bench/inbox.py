"""A client's e-mail and the Inbox at scale: python -m bench.inbox [--engines ...] [--keep].

On a database of its own (like `python -m bench`): one client with 10,000 messages in
2,000 conversations (one of them 1,000 messages long), each on the client's timeline,
and 98,000 other conversations (100,000 in all) among 5,000 clients of 20 managers: 40%
e-mail, 20% each SMS, Telegram and WhatsApp (on a Messenger each, with the client's
number or chat id), 1 to 5 messages each, in and out in turn, minutes to days apart;
half of them waiting for an answer (`waiting_since` set: the first-answer clock), one in
twenty with nobody assigned, half the managers with a work schedule of their own.
Measures, median / p95 of 20 after a warm-up, one JSON line per figure:

- client_mail: the e-mail card of the client with 10,000 messages (its first page of
  conversations), ≤ 50 ms;
- client_card: that client's page, ≤ 50 ms;
- thread: the 1,000-message conversation opened (its latest 30), ≤ 50 ms;
- inbox_all / inbox_mine: the Inbox of an administrator (all 100,000) and of a manager
  (their own), ≤ 50 ms;
- inbox_channel / inbox_mine_channel: the same filtered to Telegram, ≤ 50 ms;
- inbox_badge: the navigation's unread count of a manager, ≤ 50 ms.
"""

import random
import sys
import time
import uuid
from datetime import time as clock
from datetime import timedelta

from bench.harness import client_for, emit, emit_load, migrated, scaled_main, timed, write

BIG, BIG_THREADS, LONG_THREAD = 10_000, 2_000, 1_000
OTHER_THREADS, OTHER_CLIENTS, MANAGERS = 98_000, 5_000, 20
# The other conversations' channels, one in five each: 40% e-mail, 20% each of the rest.
CHANNEL_MIX = ("email", "email", "sms", "telegram", "whatsapp")
# Minutes between two messages of a conversation: an answer within minutes, hours or days.
GAPS = (3, 20, 90, 600, 2_000, 5_000)
TARGETS_MS = {"client_mail": 50, "client_card": 50, "thread": 50, "inbox_all": 50,
              "inbox_mine": 50, "inbox_channel": 50, "inbox_mine_channel": 50,
              "inbox_badge": 50}  # fmt: skip


def main(argv=None) -> int:
    return scaled_main("bench.inbox", __doc__, argv, measure, "fraction of the others")


def measure(args) -> int:
    migrated()
    emit_load("inbox_load_before")
    started = time.perf_counter()
    world = generate(args.scale)
    emit("inbox_generate", seconds=round(time.perf_counter() - started, 1),
         messages=world["messages"], conversations=world["conversations"],
         waiting=world["waiting"])  # fmt: skip
    figures(world, args.repeat)
    emit_load("inbox_load_after")
    return 0


def generate(scale: float) -> dict:
    """The rows, written in bulk as the services would write them (counts kept)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from accord.accounts.models import WorkSchedule
    from accord.accounts.services import user_create
    from accord.comms.models import Conversation, ConversationRead, Mailbox, Message, Messenger
    from accord.contacts.models import Person
    from accord.core.models import TimelineEvent

    rng = random.Random(17)
    now = timezone.now()
    admin = user_create(email="bench.admin@example.com", password="x" * 12, role="administrator")
    managers = [
        user_create(
            email=f"bench.m{n}@example.com",
            password="x" * 12,
            role="manager",
            full_name=f"Manager {n:02}",
        )
        for n in range(MANAGERS)
    ]
    # Half the managers keep hours of their own (the clock reads them); the rest the default.
    write(WorkSchedule, (WorkSchedule(user=m, weekdays=[0, 1, 2, 3, 4, 5], starts=clock(8),
                                      ends=clock(20)) for m in managers[::2]))  # fmt: skip
    mailbox = Mailbox.objects.create(name="Sales", address="sales@bench.example",
                                     smtp_host="127.0.0.1")  # fmt: skip
    messengers = {
        "sms": Messenger.objects.create(name="SMS", provider="sms", sender="ACME"),
        "telegram": Messenger.objects.create(name="Bot", provider="telegram"),
        "whatsapp": Messenger.objects.create(name="WhatsApp", provider="whatsapp"),
    }
    others = int(OTHER_CLIENTS * scale)
    with transaction.atomic():
        clients = (
            Person(first_name=f"Client {n}", owner=managers[n % MANAGERS],
                   primary_email=f"client{n}@example.com")
            for n in range(others + 1)
        )  # fmt: skip
        write(Person, clients)
    people = list(Person.objects.order_by("pk"))
    big, rest = people[0], people[1:]

    def conversations(count, owner_of, mixed):
        for n in range(count):
            person = owner_of(n)
            # Drawn, not by n: by n, a client (and so a manager) would have one channel.
            channel = rng.choice(CHANNEL_MIX) if mixed else "email"
            started = now - timedelta(days=rng.uniform(1, 365))
            assignee = None if mixed and rng.random() < 0.05 else person.owner_id
            yield Conversation(
                subject=f"Conversation {n}" if channel == "email" else "", person=person,
                channel=channel, messenger=messengers.get(channel),
                address="" if channel == "email" else f"+7999{person.pk:07}",
                started_at=started, last_message_at=started, assignee_id=assignee,
            )  # fmt: skip

    with transaction.atomic():
        write(Conversation, conversations(BIG_THREADS, lambda n: big, False))
        write(Conversation, conversations(int(OTHER_THREADS * scale),
                                          lambda n: rest[n % len(rest)], True))  # fmt: skip
    threads = list(Conversation.objects.order_by("pk").values_list(
        "pk", "person_id", "started_at", "channel", "messenger_id"))  # fmt: skip
    bigs, small = threads[:BIG_THREADS], threads[BIG_THREADS:]
    # The big client's: every third message in; the others': 1 to 5 in turn, the client
    # first, an odd count (the client wrote last, waiting) for half of them.
    plan = [(bigs[0], n % 3 == 1, n) for n in range(LONG_THREAD)]
    plan += [(rng.choice(bigs[1:]), n % 3 == 1, n) for n in range(BIG - LONG_THREAD)]
    for thread in small:
        waits = rng.random() < 0.5
        count = rng.choice((1, 3, 5) if waits else (2, 4))
        at = 0
        for n in range(count):
            plan.append((thread, n % 2 == 0, at))
            at += rng.choice(GAPS) * rng.uniform(0.5, 1.5)

    def messages():
        for n, ((thread_id, person_id, started, channel, messenger_id), incoming,
                minutes) in enumerate(plan):  # fmt: skip
            chat = channel != "email"
            ours = "ACME" if chat else mailbox.address
            theirs = f"+7999{person_id:07}" if chat else "client@example.com"
            yield Message(
                direction=Message.IN if incoming else Message.OUT,
                state=Message.RECEIVED if incoming else Message.SENT,
                message_id=f"<{uuid.uuid4().hex}@bench.example>",
                conversation_id=thread_id, person_id=person_id,
                mailbox=None if chat else mailbox, messenger_id=messenger_id,
                from_address=theirs if incoming else ours,
                to=[ours] if incoming else [theirs],
                subject="" if chat else f"Message {n}",
                text="Hello,\n\nabout the windows.",
                html="" if chat else "<p>Hello,</p><p>about the windows.</p>",
                created_at=started + timedelta(minutes=minutes),
            )  # fmt: skip

    with transaction.atomic():
        write(Message, messages())
    with transaction.atomic():
        ids = Message.objects.filter(person=big).values_list("pk", "created_at")
        write(TimelineEvent, (TimelineEvent(subject_type=_person_type(), subject_id=big.pk,
                                            kind="email", occurred_at=at,
                                            data={"message_id": pk, "subject": "Message",
                                                  "to": ["client@example.com"]})
                              for pk, at in ids))  # fmt: skip
    with connection.cursor() as cursor:  # the counts the services keep, set at once
        cursor.execute(
            """UPDATE comms_conversation SET
                 message_count = (SELECT COUNT(*) FROM comms_message m
                                  WHERE m.conversation_id = comms_conversation.id),
                 last_message_at = COALESCE((SELECT MAX(created_at) FROM comms_message m
                     WHERE m.conversation_id = comms_conversation.id), last_message_at),
                 last_incoming_at = (SELECT MAX(created_at) FROM comms_message m
                     WHERE m.conversation_id = comms_conversation.id AND m.direction = 'in')"""
        )
        cursor.execute(
            """UPDATE comms_conversation SET awaiting_reply = (last_incoming_at IS NOT NULL
                 AND last_incoming_at = last_message_at)"""
        )
        # The clock: since the client's first message after our last one.
        cursor.execute(
            """UPDATE comms_conversation SET waiting_since = (
                 SELECT MIN(m.created_at) FROM comms_message m
                 WHERE m.conversation_id = comms_conversation.id AND m.direction = 'in'
                   AND NOT EXISTS (SELECT 1 FROM comms_message o
                       WHERE o.conversation_id = m.conversation_id AND o.direction = 'out'
                         AND o.created_at > m.created_at))
               WHERE awaiting_reply"""
        )
    with transaction.atomic():  # a manager has read half their conversations
        mine = Conversation.objects.filter(assignee=managers[0]).values_list("pk", flat=True)
        write(ConversationRead, (ConversationRead(conversation_id=pk, user=managers[0],
                                                  read_at=now) for pk in mine[::2]))  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    waiting = Conversation.objects.filter(waiting_since__isnull=False).count()
    return {"admin": admin, "manager": managers[0], "big": big, "long": bigs[0][0],
            "messages": len(plan), "conversations": len(threads),
            "waiting": waiting}  # fmt: skip


def _person_type():
    from django.contrib.contenttypes.models import ContentType

    from accord.contacts.models import Person

    return ContentType.objects.get_for_model(Person)


def figures(world, repeat: int) -> None:
    from bench.measure import capture

    admin, manager = client_for(world["admin"]), client_for(world["manager"])
    big = world["big"]
    for figure, client, url in [
        ("client_mail", admin, f"/mail/threads/?person={big.pk}"),
        ("client_card", admin, f"/clients/people/{big.pk}/"),
        ("thread", admin, f"/mail/threads/{world['long']}/"),
        ("inbox_all", admin, "/inbox/?box=all"),
        ("inbox_mine", manager, "/inbox/"),
        ("inbox_channel", admin, "/inbox/?box=all&channel=telegram"),
        ("inbox_mine_channel", manager, "/inbox/?channel=telegram"),
        ("inbox_badge", manager, "/inbox/badge/"),
    ]:
        queries, _sent = capture(lambda client=client, url=url: client.get(url))
        result = timed(lambda client=client, url=url: client.get(url), repeat)
        target = TARGETS_MS[figure]
        emit(figure, **result, queries=queries, target_ms=target, met=result["p95_ms"] <= target)


if __name__ == "__main__":
    sys.exit(main())
