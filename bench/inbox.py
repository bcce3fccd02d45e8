"""A client's e-mail and the Inbox at scale: python -m bench.inbox [--engines ...] [--keep].

On a database of its own (like `python -m bench`): one client with 10,000 messages in
2,000 conversations (one of them 1,000 messages long), each on the client's timeline,
and 50,000 other conversations with 200,000 messages among 5,000 clients of 20 managers,
half of them waiting for an answer. Measures, median / p95 of 20 after a warm-up, one
JSON line per figure:

- client_mail: the e-mail card of the client with 10,000 messages (its first page of
  conversations), ≤ 50 ms;
- client_card: that client's page, ≤ 50 ms;
- thread: the 1,000-message conversation opened (its latest 30), ≤ 50 ms;
- inbox_all / inbox_mine: the Inbox of an administrator (all 52,000) and of a manager
  (their own), ≤ 50 ms;
- inbox_badge: the navigation's unread count of a manager, ≤ 50 ms.
"""

import random
import sys
import time
import uuid
from datetime import timedelta

from bench.harness import client_for, emit, emit_load, migrated, scaled_main, timed, write

BIG, BIG_THREADS, LONG_THREAD = 10_000, 2_000, 1_000
OTHER_THREADS, OTHER_MESSAGES, OTHER_CLIENTS, MANAGERS = 50_000, 200_000, 5_000, 20
TARGETS_MS = {"client_mail": 50, "client_card": 50, "thread": 50, "inbox_all": 50,
              "inbox_mine": 50, "inbox_badge": 50}  # fmt: skip


def main(argv=None) -> int:
    return scaled_main("bench.inbox", __doc__, argv, measure, "fraction of the others")


def measure(args) -> int:
    migrated()
    started = time.perf_counter()
    world = generate(args.scale)
    emit("inbox_generate", seconds=round(time.perf_counter() - started, 1),
         messages=world["messages"], conversations=world["conversations"])  # fmt: skip
    figures(world, args.repeat)
    emit_load("inbox_load_after")
    return 0


def generate(scale: float) -> dict:
    """The rows, written in bulk as the services would write them (counts kept)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from accord.accounts.services import user_create
    from accord.comms.models import Conversation, ConversationRead, Mailbox, Message
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
    mailbox = Mailbox.objects.create(name="Sales", address="sales@bench.example",
                                     smtp_host="127.0.0.1")  # fmt: skip
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

    def conversations(count, owner_of):
        for n in range(count):
            person = owner_of(n)
            started = now - timedelta(days=rng.uniform(1, 365))
            yield Conversation(subject=f"Conversation {n}", person=person, started_at=started,
                               last_message_at=started, assignee_id=person.owner_id)  # fmt: skip

    with transaction.atomic():
        write(Conversation, conversations(BIG_THREADS, lambda n: big))
        write(Conversation, conversations(int(OTHER_THREADS * scale),
                                          lambda n: rest[n % len(rest)]))  # fmt: skip
    threads = list(Conversation.objects.order_by("pk").values_list("pk", "person_id",
                                                                    "started_at"))  # fmt: skip
    bigs, small = threads[:BIG_THREADS], threads[BIG_THREADS:]
    plan = [bigs[0]] * LONG_THREAD + [rng.choice(bigs[1:]) for _ in range(BIG - LONG_THREAD)]
    plan += [rng.choice(small) for _ in range(int(OTHER_MESSAGES * scale))]

    def messages():
        for n, (thread_id, person_id, started) in enumerate(plan):
            incoming = n % 3 == 1
            yield Message(
                direction=Message.IN if incoming else Message.OUT,
                state=Message.RECEIVED if incoming else Message.SENT,
                message_id=f"<{uuid.uuid4().hex}@bench.example>",
                conversation_id=thread_id, mailbox=mailbox, person_id=person_id,
                from_address="client@example.com" if incoming else mailbox.address,
                to=[mailbox.address] if incoming else ["client@example.com"],
                subject=f"Message {n}", text="Hello,\n\nabout the windows.",
                html="<p>Hello,</p><p>about the windows.</p>",
                created_at=started + timedelta(minutes=n % 5000),
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
    with transaction.atomic():  # a manager has read half their conversations
        mine = Conversation.objects.filter(assignee=managers[0]).values_list("pk", flat=True)
        write(ConversationRead, (ConversationRead(conversation_id=pk, user=managers[0],
                                                  read_at=now) for pk in mine[::2]))  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return {"admin": admin, "manager": managers[0], "big": big, "long": bigs[0][0],
            "messages": len(plan), "conversations": len(threads)}  # fmt: skip


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
        ("inbox_badge", manager, "/inbox/badge/"),
    ]:
        queries, _sent = capture(lambda client=client, url=url: client.get(url))
        result = timed(lambda client=client, url=url: client.get(url), repeat)
        target = TARGETS_MS[figure]
        emit(figure, **result, queries=queries, target_ms=target, met=result["p95_ms"] <= target)


if __name__ == "__main__":
    sys.exit(main())
