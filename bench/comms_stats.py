"""Communication statistics at scale: python -m bench.comms_stats [--engines ...] [--keep].

On a database of its own (like `python -m bench.inbox`): 20 employees in three teams,
20,000 clients, and over the past year 1,000,000 messages in about 100,000 conversations
(40% e-mail, 20% each SMS, Telegram and WhatsApp, on a Messenger each), the client and
the employee writing in turn, each answer minutes to days after the message before; and
50,000 phone calls (a sixth of the incoming ones missed, most called back). Written in
bulk, as the services would write them, then the daily rollups (`ChannelDay`) built by
`stats_rebuild()` — the real path after an upgrade or a restore — timed, with its rows a
second and its peak memory. Then, median / p95 of 20 after a warm-up, one JSON line per
figure:

- comms_report_team: Reports → Communication, one team over the year, ≤ 500 ms;
- comms_report_all: the same for everyone (three teams), ≤ 500 ms;
- comms_api_team: GET /api/v1/reports/communication for the team over the year, ≤ 500 ms.
"""

import os
import random
import resource
import sys
import time
import uuid
from datetime import time as clock
from datetime import timedelta

from bench.harness import client_for, emit, emit_load, migrated, scaled_main, timed, write

MESSAGES, CALLS, CLIENTS = 1_000_000, 50_000, 20_000
TEAMS = (("North", 7), ("South", 7), ("Online", 6))
CHANNEL_MIX = ("email", "email", "sms", "telegram", "whatsapp")
# How soon the other side writes back, in minutes: (share, shortest, longest).
ANSWERS = ((0.40, 1, 15), (0.30, 15, 120), (0.15, 120, 480), (0.15, 1_440, 4_320))
TARGET_MS = 500
BODY_TEXT = "Hello,\n\nthank you for your order. " * 8
BODY_HTML = "<p>Hello,</p><p>thank you for your order. " * 8 + "</p>"


def main(argv=None) -> int:
    return scaled_main("bench.comms_stats", __doc__, argv, measure, "fraction of the messages")


def measure(args) -> int:
    migrated()
    emit_load("comms_load_before")
    started = time.perf_counter()
    world = generate(args.scale)
    emit("comms_generate", seconds=round(time.perf_counter() - started, 1),
         messages=world["messages"], calls=world["calls"],
         conversations=world["conversations"])  # fmt: skip
    rebuild(world)
    figures(world, args.repeat)
    emit_load("comms_load_after")
    return 0


def gap(rng: random.Random) -> timedelta:
    """How long the other side takes to write back."""
    draw = rng.random()
    for share, shortest, longest in ANSWERS:
        if draw < share:
            return timedelta(minutes=rng.uniform(shortest, longest))
        draw -= share
    return timedelta(minutes=ANSWERS[-1][2])


def generate(scale: float) -> dict:
    """The rows, written in bulk as the services would write them."""
    from django.db import connection, transaction
    from django.utils import timezone

    from accord.accounts.models import WorkSchedule
    from accord.accounts.services import team_save, user_create
    from accord.comms.models import Call, Conversation, Mailbox, Message, Messenger
    from accord.contacts.models import Person

    rng = random.Random(18)
    now = timezone.now()
    year_ago = now - timedelta(days=365)
    admin = user_create(email="bench.admin@example.com", password="x" * 12, role="administrator")
    teams, employees = [], []
    for name, size in TEAMS:
        members = [
            user_create(email=f"bench.{name.lower()}{n}@example.com", password="x" * 12,
                        role="manager", full_name=f"{name} {n:02}")
            for n in range(size)
        ]  # fmt: skip
        teams.append(team_save(actor=admin, name=name, head=members[0], members=members))
        employees += members
    # A third keep hours of their own (answers are counted in each one's working minutes).
    write(WorkSchedule, (WorkSchedule(user=e, weekdays=[0, 1, 2, 3, 4, 5], starts=clock(8),
                                      ends=clock(20)) for e in employees[::3]))  # fmt: skip
    mailbox = Mailbox.objects.create(name="Sales", address="sales@bench.example",
                                     smtp_host="127.0.0.1")  # fmt: skip
    messengers = {
        "sms": Messenger.objects.create(name="SMS", provider="sms", sender="ACME"),
        "telegram": Messenger.objects.create(name="Bot", provider="telegram"),
        "whatsapp": Messenger.objects.create(name="WhatsApp", provider="whatsapp"),
    }
    wanted = int(MESSAGES * scale)
    clients = max(int(CLIENTS * scale), len(employees))
    with transaction.atomic():
        write(Person, (Person(first_name=f"Client {n}", owner=employees[n % len(employees)])
                       for n in range(clients)))  # fmt: skip
    people = list(Person.objects.order_by("pk").values_list("pk", "owner_id"))

    def conversations():
        for n in range(wanted // 9 + 1):  # about ten each; some cut short by now
            person_id, owner_id = people[n % len(people)]
            channel = CHANNEL_MIX[n % len(CHANNEL_MIX)]
            started = year_ago + timedelta(days=rng.uniform(0, 364))
            yield Conversation(
                subject=f"Order {n}" if channel == "email" else "", person_id=person_id,
                channel=channel, messenger=messengers.get(channel),
                address="" if channel == "email" else f"+7999{person_id:07}",
                started_at=started, last_message_at=started, assignee_id=owner_id,
            )  # fmt: skip

    with transaction.atomic():
        write(Conversation, conversations())
    threads = Conversation.objects.order_by("pk").values_list(
        "pk", "person_id", "channel", "messenger_id", "assignee_id", "started_at"
    )
    written = {"messages": 0}

    def messages():
        """Each conversation's messages in turn (the client first in four of five), up to
        `wanted` in all; none after now."""
        for pk, person_id, channel, messenger_id, assignee_id, started in threads.iterator():
            chat = channel != "email"
            ours = "ACME" if chat else mailbox.address
            theirs = f"+7999{person_id:07}" if chat else f"client{person_id}@example.com"
            incoming, at = rng.random() < 0.8, started
            for _n in range(rng.randint(2, 18)):
                if written["messages"] == wanted or at > now:
                    break
                written["messages"] += 1
                yield Message(
                    direction=Message.IN if incoming else Message.OUT,
                    state=Message.RECEIVED if incoming else Message.SENT,
                    message_id=f"<{uuid.uuid4().hex}@bench.example>",
                    conversation_id=pk, person_id=person_id,
                    mailbox=None if chat else mailbox, messenger_id=messenger_id,
                    author_id=None if incoming else assignee_id,
                    from_address=theirs if incoming else ours,
                    to=[ours] if incoming else [theirs],
                    subject="" if chat else "Your order",
                    text="Hello, about the order." if chat else BODY_TEXT,
                    html="" if chat else BODY_HTML, created_at=at,
                )  # fmt: skip
                incoming, at = not incoming, at + gap(rng)
            if written["messages"] == wanted:
                return

    with transaction.atomic():
        write(Message, messages())
    calls = int(CALLS * scale)
    with transaction.atomic():
        write(Call, (call(rng, n, people, year_ago) for n in range(calls)))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return {"admin": admin, "team": teams[0], "messages": written["messages"], "calls": calls,
            "conversations": Conversation.objects.count(), "since": year_ago.date(),
            "until": now.date()}  # fmt: skip


def call(rng: random.Random, n: int, people: list, year_ago):
    """One phone call: in (a sixth of them missed, most of those called back) or out."""
    from accord.comms.models import Call

    person_id, owner_id = people[n % len(people)]
    started = year_ago + timedelta(days=rng.uniform(0, 364))
    incoming = rng.random() < 0.6
    missed = incoming and rng.random() < 1 / 6
    talk = 0 if missed else rng.randint(20, 900)
    ended = started + timedelta(seconds=talk + 15)
    return Call(
        provider_call_id=uuid.uuid4().hex, direction=Call.IN if incoming else Call.OUT,
        state=Call.MISSED if missed else Call.ENDED, number=f"+7999{person_id:07}",
        user_id=owner_id, person_id=person_id, started_at=started,
        answered_at=None if missed else started + timedelta(seconds=15), ended_at=ended,
        duration=talk,
        returned_at=ended + gap(rng) if missed and rng.random() < 0.8 else None,
    )  # fmt: skip


def rebuild(world) -> None:
    """`stats_rebuild()` over everything: its time, rows (messages and calls) a second,
    the rollups it wrote, and how much the process's peak memory grew."""
    from accord.comms.services.stats import stats_rebuild

    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    written = stats_rebuild()
    seconds = time.perf_counter() - started
    peak_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    read = world["messages"] + world["calls"]
    emit("comms_rebuild", seconds=round(seconds, 1), rows_read=read,
         rows_per_s=round(read / seconds), rollups=written,
         peak_mb_before=round(peak_before / 1024), peak_mb_after=round(peak_after / 1024),
         load_average=[round(x, 2) for x in os.getloadavg()])  # fmt: skip


def figures(world, repeat: int) -> None:
    from django.test import Client

    from accord.accounts.services import token_create
    from bench.measure import capture

    admin = client_for(world["admin"])
    _token, key = token_create(user=world["admin"], name="bench")
    api = Client(headers={"Authorization": f"Bearer {key}"})
    since, until, team = world["since"], world["until"], world["team"].pk
    year = f"from={since.isoformat()}&to={until.isoformat()}"
    for figure, client, url in [
        ("comms_report_team", admin, f"/reports/communication/?team={team}&{year}"),
        ("comms_report_all", admin, f"/reports/communication/?{year}"),
        ("comms_api_team", api, f"/api/v1/reports/communication?team={team}&{year}"),
    ]:
        queries, _sent = capture(lambda client=client, url=url: client.get(url))
        result = timed(lambda client=client, url=url: client.get(url), repeat)
        emit(figure, **result, queries=queries, target_ms=TARGET_MS,
             met=result["p95_ms"] <= TARGET_MS)  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
