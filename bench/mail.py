"""Receiving e-mail at scale: python -m bench.mail [--messages 10000] [--engines ...].

On a database of its own per engine: 1,000 clients with an e-mail address each, a real
IMAP server (Debian's dovecot, tests/imap_server.py) holding --messages messages from them
(each a client's, a few with a reply's headers), then, one JSON line per figure:

- mail_first_sync: a mailbox's first fetch of the whole folder, every message stored,
  matched to its client, threaded and put on the timeline (the worker's own code:
  accord.comms.fetching.fetch), --repeat times on an emptied database; target ≥ 300
  messages/s (median);
- mail_idle_sync: a fetch with nothing new, target ≤ 1 s (median of 10).

Each line carries the machine's load average when it was measured.
"""

import argparse
import json
import os
import statistics
import time

from bench import databases

TARGET_RATE, TARGET_IDLE_S = 300.0, 1.0
PROFILE = os.environ.get("BENCH_PROFILE")  # a file: the first sync's cProfile statistics
USER, PASSWORD = "sales@bench.example", "bench-imap-pass"


def parse(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.mail", description=__doc__)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse(argv)
    if args.inside:
        return measure(args)
    options = ["--messages", str(args.messages), "--clients", str(args.clients),
               "--repeat", str(args.repeat)]  # fmt: skip
    return databases.run_inside("bench.mail", options, args.engines, args.keep)


def emit(figure: str, **fields) -> None:
    print(json.dumps({"figure": figure, **fields, "load": os.getloadavg()[0]}), flush=True)


def message(n: int, clients: int) -> bytes:
    client = n % clients
    reply = f"In-Reply-To: <bench-{n - clients}@bench.example>\r\n" if n >= clients else ""
    return (
        f"From: Client {client} <client{client}@example.com>\r\n"
        f"To: {USER}\r\n"
        f"Subject: {'Re: ' if reply else ''}Windows for house {client}\r\n"
        f"Date: Sat, 05 Dec 2026 10:{n % 60:02d}:00 +0000\r\n"
        f"Message-ID: <bench-{n}@bench.example>\r\n{reply}"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Hello, this is message {n}. When can you come to measure the windows?\r\n"
    ).encode()


def measure(args) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Sum

    from accord.accounts.services import user_create
    from accord.comms import fetching
    from accord.comms.models import Conversation, Mailbox, Message, MessageCopy
    from accord.comms.services import mailbox_save
    from accord.contacts.services import person_create
    from accord.core.models import OutboxEvent, TimelineEvent
    from tests.imap_server import Dovecot

    call_command("migrate", interactive=False, verbosity=0)
    vendor = connection.vendor
    admin = user_create(email="bench.mail@example.com", password="x" * 12, role="administrator")
    for n in range(args.clients):
        person_create(actor=admin, data={"first_name": "Client", "last_name": str(n),
                                         "emails": [f"client{n}@example.com"]})  # fmt: skip
    server = Dovecot()
    try:
        server.add_user(USER, PASSWORD)
        client = server.connect(USER)
        for n in range(args.messages):
            client.append("INBOX", None, None, message(n, args.clients))
        client.logout()
        mailbox = mailbox_save(actor=admin, data={
            "name": "Sales", "address": USER, "smtp_host": "127.0.0.1", "smtp_port": 25,
            "smtp_security": "none", "imap_host": "127.0.0.1", "imap_port": server.port,
            "imap_security": "none", "imap_username": USER, "imap_password": PASSWORD,
        })  # fmt: skip
        rates = []
        for _n in range(args.repeat):
            Message.objects.all().delete()
            Conversation.objects.all().delete()
            TimelineEvent.objects.filter(kind="email").delete()
            OutboxEvent.objects.all().delete()
            Mailbox.objects.filter(pk=mailbox.pk).update(
                sync_uidvalidity=None, sync_last_uid=0, sync_fetched_total=0, sync_due_at=None
            )
            mailbox.refresh_from_db()
            started = time.perf_counter()
            if PROFILE:
                import cProfile

                profile = cProfile.Profile()
                fetched = profile.runcall(fetching.fetch, mailbox, seconds=3600)
                profile.dump_stats(PROFILE)
            else:
                fetched = fetching.fetch(mailbox, seconds=3600)
            seconds = time.perf_counter() - started
            matched = Message.objects.filter(person__isnull=False).count()
            assert fetched == matched == args.messages, (fetched, matched)
            assert MessageCopy.objects.count() == args.messages
            counted = Conversation.objects.aggregate(n=Sum("message_count"))["n"]
            assert counted == args.messages, counted  # each counted once in its conversation
            rates.append(fetched / seconds)
        rate = statistics.median(rates)
        emit("mail_first_sync", db=vendor, messages=args.messages, clients=args.clients,
             runs=[round(r, 1) for r in rates], median_per_s=round(rate, 1),
             target_per_s=TARGET_RATE, met=rate >= TARGET_RATE)  # fmt: skip
        idle = []
        for _n in range(10):
            mailbox.refresh_from_db()
            started = time.perf_counter()
            assert fetching.fetch(mailbox) == 0
            idle.append(time.perf_counter() - started)
        median = statistics.median(idle)
        met = median <= TARGET_IDLE_S
        emit("mail_idle_sync", db=vendor, messages=args.messages, median_s=round(median, 4),
             max_s=round(max(idle), 4), target_s=TARGET_IDLE_S, met=met)  # fmt: skip
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
