"""Mailings: python -m bench.mailings [--people 100000] [--send 10000] [--engines ...].

On a database of its own per engine, filled by the generator (`bench.generate`), every
person agreeing to offers and news, measures, one JSON line per figure:

- queue: starting a mailing to a segment of every person with an e-mail — the audience
  worked out and a row per person inserted in batches — target ≤ 10 s at 100,000, with
  `--left-out` unsubscribed addresses and as many bouncing ones in the database (a tenth
  of each are the segment's people), resident memory sampled each second;
- send: one worker (`accord.comms.mailings.send`, the mailbox with no pace limit) sending
  `--send` of them to a local SMTP sink (aiosmtpd's Sink in a process of its own) over
  one connection per batch, target ≥ 200 messages a second, resident memory sampled each
  second and flat; the machine's load average beside each figure.
"""

import argparse
import os
import socket
import subprocess
import sys
import time

from bench import databases
from bench.imports import Sampler, emit, rss_mb

TARGET_QUEUE_SECONDS, TARGET_RATE = 10.0, 200


def parse(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.mailings", description=__doc__)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--send", type=int, default=10_000)
    parser.add_argument(
        "--left-out",
        type=int,
        default=50_000,
        help="unsubscribed and bouncing addresses in the database, each",
    )
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse(argv)
    if args.inside:
        return inside(args)
    failed = False
    for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
        env = databases.environment(engine)
        try:
            if not args.reuse:
                databases.create(engine)
                sizes = ["--people", str(args.people), "--companies", str(args.people // 10)]
                generate = [sys.executable, "-m", "bench.generate", *sizes]
                subprocess.run(generate, env=env, check=True)  # noqa: S603
            command = [sys.executable, "-m", "bench.mailings", "--inside",
                       "--send", str(args.send), "--left-out", str(args.left_out)]  # fmt: skip
            failed |= subprocess.run(command, env=env).returncode != 0  # noqa: S603
        finally:
            if not args.keep:
                databases.drop(engine)
    return 1 if failed else 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def load() -> float:
    return round(os.getloadavg()[0], 2)


def inside(args) -> int:
    import django

    django.setup()
    from django.db import connection

    from accord.accounts.models import User
    from accord.accounts.services import user_create
    from accord.comms import mailings
    from accord.comms.models import Mailbox, Mailing, Message, Recipient
    from accord.comms.services import mailbox_save, mailing_save, mailing_start, template_save
    from accord.contacts.models import Person
    from accord.contacts.services import segment_save

    port = free_port()
    sink = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
         "-c", "aiosmtpd.handlers.Sink"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(1.0)
        admin = User.objects.filter(email="mailings.bench@example.com").first() or user_create(
            email="mailings.bench@example.com", password="bench-Admin-2026!",  # noqa: S106
            role="administrator", full_name="Bench Admin",
        )  # fmt: skip
        # A database measured again (--reuse): the earlier mailings stop.
        Mailing.objects.exclude(state=Mailing.DONE).update(state=Mailing.CANCELLED)
        Person.objects.update(marketing_consent=True)  # the bench's clients all agree
        mailbox = mailbox_save(actor=admin, mailbox=Mailbox.objects.first(), data={
            "name": "Bench", "address": "bench@example.com", "smtp_host": "127.0.0.1",
            "smtp_port": port, "smtp_security": "none", "per_minute": 0,
        })  # fmt: skip
        template = template_save(
            actor=admin, name=f"Bench offer {time.time_ns()}", marketing=True,
            subject="An offer for {{ client.first_name }}",
            html="<p>Dear {{ client.first_name }},</p><p>our offer, from {{ user.name }}.</p>",
        )  # fmt: skip
        segment = segment_save(actor=admin, name="Everyone", record_type="person",
                               filters={"created_after": "2000-01-01"})  # fmt: skip
        mailing = mailing_save(actor=admin, name="Bench", template=template, segment=segment,
                               mailbox=mailbox)  # fmt: skip
        left_out(args.left_out)
        sampler = Sampler()
        sampler.start()
        before = load()
        started, cpu = time.perf_counter(), time.process_time()
        mailing = mailing_start(actor=admin, mailing=mailing)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        sampler.stop.set()
        samples = sampler.samples or [round(rss_mb(), 1)]
        rows = Recipient.objects.filter(mailing=mailing).count()
        emit("mailing queue", db=connection.vendor, people=Person.objects.count(),
             recipients=rows, receive=mailing.audience["receive"],
             left_out=mailing.audience["left_out"], seconds=round(seconds, 2),
             cpu_seconds=round(cpu, 2),
             rss_mb_first_last_max=[samples[0], samples[-1], max(samples)],
             target_s=TARGET_QUEUE_SECONDS, ok=seconds <= TARGET_QUEUE_SECONDS,
             load=[before, load()])  # fmt: skip

        sampler = Sampler()
        sampler.start()
        before = load()
        started, cpu, taken = time.perf_counter(), time.process_time(), 0
        while taken < args.send:
            done = mailings.send(mailing.pk, limit=args.send - taken)
            if not done:
                break
            taken += done
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
        sampler.stop.set()
        sent = Message.objects.filter(mailing=mailing, state=Message.SENT).count()
        rate = sent / seconds if seconds else 0
        samples = sampler.samples or [round(rss_mb(), 1)]
        emit("mailing send", db=connection.vendor, sent=sent, seconds=round(seconds, 1),
             per_s=round(rate), target_per_s=TARGET_RATE, ok=rate >= TARGET_RATE,
             worker_cpu_ms_per_message=round(1000 * cpu / max(sent, 1), 2),
             rss_mb_first_last_max=[samples[0], samples[-1], max(samples)],
             still_sending=Mailing.objects.get(pk=mailing.pk).state == Mailing.SENDING,
             load=[before, load()])  # fmt: skip
    finally:
        sink.terminate()
        sink.wait(timeout=10)
    return 0


def left_out(count: int) -> None:
    """`count` unsubscribed addresses and `count` bouncing ones, a tenth of each the
    address of a person of the segment (the same rows again on a --reuse)."""
    from django.utils import timezone

    from accord.comms.models import BouncingAddress, Unsubscribe
    from accord.contacts.models import Person

    now = timezone.now()
    people = list(Person.objects.exclude(primary_email="").order_by("pk")
                  .values_list("primary_email", flat=True)[: count // 5])  # fmt: skip
    ours, theirs = people[::2], people[1::2]  # unsubscribed / bouncing, apart
    strangers = [f"left{i}@elsewhere.example" for i in range(count)]
    Unsubscribe.objects.filter(source="bench").delete()
    Unsubscribe.objects.bulk_create(
        (Unsubscribe(address=a, source="bench", at=now) for a in [*ours, *strangers][:count]),
        batch_size=5000,
    )
    BouncingAddress.objects.bulk_create(
        (BouncingAddress(address=a, status="5.1.1", bounced_at=now)
         for a in [*theirs, *(s.replace("left", "gone") for s in strangers)][:count]),
        batch_size=5000, ignore_conflicts=True,
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
