"""Calls and messages at scale: python -m bench.calls [--scale 1.0] [--engines ...] [--keep].

On a database of its own (like `python -m bench.inbox`): 1,000,000 people (× --scale)
with a phone each (E.164, a "phone" contact point and the primary phone), owned by 5
managers, written in bulk; a telephony connection (Accord's JSON format, signed) with
the managers' extensions, and a WhatsApp Cloud API connection (its app secret). Then
10,000 inbound events (seed 11), mixed as they happen: calls of 2 or 3 events (ringing,
answered, ended with its duration; a missed one rings then is "missed") and WhatsApp
messages (40 % of the events, a delivery each, signed `X-Hub-Signature-256`). 85% of the
calls are incoming: 80% of those from people picked at random across the whole table,
20% from new numbers; 15% are outgoing, to people (a quarter of the incoming missed, a
fifth of the outgoing not reached). Messages: 80% from people's numbers, 20% from new
ones. Numbers come as PBXs send them ("+7…", "7…" or "8 (9xx) …"); WhatsApp's as digits.
Each event is posted as its own request to its webhook (Django's test client, in this
process, the bodies signed beforehand) by SENDERS threads at once — a PBX and WhatsApp
deliver many calls' and chats' events in parallel, each call's or chat's in order —
while a worker (`accord worker`, a process of its own, as `accord serve` starts it)
applies what the requests stored. One JSON line per figure:

- calls_generate: the people written, in seconds;
- calls_ingest: the 10,000 events posted with the worker running, target ≥ 300 a second
  on each engine (the issue: "Ingest 10,000 inbound events (calls and messages, mixed)
  through the webhooks at ≥ 300 per second … each matched to its client by phone among
  1,000,000 people"): `posted_per_s` (the requests: verified, stored, the worker's pass
  queued) and `events_per_s`, end to end (the events over the time from the first
  request until the worker has applied the last); the worker's jobs (`passes`) and the
  time they ran (`worker_busy_s`, `applied_per_busy_s`); every answer 200 with one event
  stored, every event applied; the calls, the messages, the people made for new numbers,
  the "call back" tasks, and each call and message checked against the person whose
  number it was;
- calls_repeat: the first 1,000 events posted again: each answered 200 with nothing
  stored, nothing changed (calls, messages, events, people, tasks, timeline entries);
- calls_load_before / calls_load_after: the machine's load average.
"""

import datetime
import hashlib
import hmac
import json
import os
import random
import subprocess
import sys
import time

from bench.harness import cpu_seconds, emit, emit_load, migrated, process_cpu, scaled_main

PEOPLE, EVENTS, REPEATED, MANAGERS = 1_000_000, 10_000, 1_000, 5
TARGET_PER_S = 300
SECRET = "bench-secret"  # noqa: S105 (a throwaway database)
APP_SECRET = "bench-app-secret"  # noqa: S105 (WhatsApp's app secret, a throwaway one)
PHONE_ID = "100200300"  # the WhatsApp business number's id
MESSAGE_SHARE = 0.6  # of the calls and messages, messages: about a third of the events
NEW_SENDER_AGAIN = 0.3  # a message from a new number: one who wrote before, this often
SENDERS = 2  # requests in flight at once
LINE = "+74955550100"  # the company's number the calls come to
KNOWN_SHARE, OUTGOING_SHARE, MISSED_SHARE, NOT_REACHED_SHARE = 0.8, 0.15, 0.25, 0.2
NEW_PREFIX = "901"  # new callers' numbers; the people's use the other mobile prefixes
STRIDE = 7919  # a prime: n -> (n * STRIDE + OFFSET) mod 10^7 gives every person their own
OFFSET = 1_234_567
BATCH = 10_000
PERSON_COLUMNS = ["id", "first_name", "last_name", "full_name", "kind", "owner_id",
                  "created_by_id", "primary_phone", "source",
                  "created_at", "updated_at"]  # fmt: skip
POINT_COLUMNS = ["id", "person_id", "kind", "value", "label", "position"]


def main(argv=None) -> int:
    return scaled_main("bench.calls", __doc__, argv, measure, "fraction of the 1,000,000 people")


def measure(args) -> int:
    migrated()
    emit_load("calls_load_before")
    started = time.perf_counter()
    world = generate(args.scale)
    emit("calls_generate", people=world["people"], seconds=round(time.perf_counter() - started, 1))
    items = plan(world, random.Random(11))
    deliveries = signed(world, items)
    ingest(world, items, deliveries)
    repeat(world, deliveries[:REPEATED])
    emit_load("calls_load_after")
    return 0


# --- The people and the connection ---------------------------------------------------


def person_phone(n: int) -> str:
    """The n-th person's number (n from 0): E.164, a mobile prefix, none given twice."""
    from bench.phones import PLANS

    prefixes = [p for p in PLANS["RU"].prefixes if p != NEW_PREFIX]
    block, prefix = divmod(n, len(prefixes))
    return f"+7{prefixes[prefix]}{(block * STRIDE + OFFSET) % 10**7:07d}"


def generate(scale: float) -> dict:
    """People and their phone contact points in bulk (explicit ids, COPY on PostgreSQL,
    executemany on SQLite, as bench.generate writes them); the users, the connection and
    its extensions through the services."""
    from django.db import connection, transaction
    from django.utils import timezone

    from accord.accounts.services import user_create
    from accord.comms.services.calls import extensions_set, telephony_save
    from accord.comms.services.messengers import messenger_save
    from accord.contacts.models import ContactPoint, Person
    from accord.core.bulk import Table, reset_sequences
    from accord.core.phones import normalize_phone
    from accord.transfer.models import BackupSchedule
    from bench.phones import typed_as_ru_national

    count = int(PEOPLE * scale)
    admin = user_create(email="bench.admin@example.com", password="x" * 12, role="administrator")
    managers = [
        user_create(email=f"bench.m{n}@example.com", password="x" * 12, role="manager",
                    full_name=f"Manager {n:02}")
        for n in range(MANAGERS)
    ]  # fmt: skip
    for n in range(0, count, max(1, count // 50)):  # the numbers are what the services store
        number = person_phone(n)
        assert normalize_phone(typed_as_ru_national(number)) == number, number
    now = timezone.now()
    people, points = Table(Person), Table(ContactPoint)
    for start in range(0, count, BATCH):
        ids = range(start + 1, min(count, start + BATCH) + 1)
        with transaction.atomic():
            rows = []
            for pk in ids:
                owner = managers[pk % MANAGERS].pk
                rows.append((pk, "Client", str(pk), f"Client {pk}", "client", owner, owner,
                             person_phone(pk - 1), "bench", now, now))  # fmt: skip
            people.write_columns(PERSON_COLUMNS, rows)
            points.write_columns(
                POINT_COLUMNS, [(pk, pk, "phone", person_phone(pk - 1), "mobile", 0) for pk in ids]
            )
    reset_sequences([Person, ContactPoint])
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    # The day's backup taken already: a new instance's first one is due at once, and its
    # figures (a SHA-256 of every row) would run in the worker beside the events.
    BackupSchedule.objects.filter(pk=BackupSchedule.current().pk).update(last_run_at=now)
    telephony = telephony_save(actor=admin, data={"name": "Bench PBX", "secret": SECRET})
    extensions = {str(101 + n): manager for n, manager in enumerate(managers)}
    extensions_set(actor=admin, telephony=telephony, extensions=extensions)
    whatsapp = messenger_save(actor=admin, data={
        "name": "Bench WhatsApp", "provider": "whatsapp", "token": "bench-token",
        "secret": APP_SECRET, "account": PHONE_ID,
    })  # fmt: skip
    return {"people": count, "admin": admin, "telephony": telephony, "whatsapp": whatsapp,
            "extensions": list(extensions)}  # fmt: skip


# --- The events ----------------------------------------------------------------------


def as_sent(rng: random.Random, number: str) -> str:
    """A number as a PBX sends it: "+7…", "7…" (no plus) or "8 (916) 123-45-67"."""
    from bench.phones import typed_as_ru_national

    form = rng.random()
    if form < 0.7:
        return number
    if form < 0.9:
        return number.removeprefix("+")
    return typed_as_ru_national(number)


def plan(world: dict, rng: random.Random) -> list[dict]:
    """Calls and messages until EVENTS events: each {"id", "kind" ("call" or "message"),
    "person" (the pk whose number it is, or None), "number", "new" (a new number),
    "direction", "missed", "events": [(moment, JSON object)]}."""
    people, extensions = world["people"], world["extensions"]
    start = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)
    new_numbers = iter(rng.sample(range(10**7), EVENTS))
    items, written, total = [], [], 0
    while total < EVENTS:
        n = len(items)
        began = start + datetime.timedelta(seconds=n * 7 + rng.uniform(0, 5))
        if rng.random() < MESSAGE_SHARE:
            item = a_message(rng, n, began, people, new_numbers, written)
        else:
            item = a_call(rng, n, began, people, extensions, new_numbers)
        item["events"] = item["events"][: EVENTS - total]  # the last may be cut: 10,000
        items.append(item)
        total += len(item["events"])
    return items


def a_message(rng, n: int, at, people: int, new_numbers, written: list) -> dict:
    """A WhatsApp text from a person's number, or from a new one (now and then one who
    wrote before)."""
    if rng.random() < KNOWN_SHARE:
        person = rng.randrange(people) + 1
        number = person_phone(person - 1)
    elif written and rng.random() < NEW_SENDER_AGAIN:
        person, number = None, rng.choice(written)
    else:
        person, number = None, f"+7{NEW_PREFIX}{next(new_numbers):07d}"
        written.append(number)
    sender, wamid = number.removeprefix("+"), f"wamid.bench-{n}"
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": LINE.removeprefix("+"), "phone_number_id": PHONE_ID},
        "contacts": [{"profile": {"name": f"Sender {n}"}, "wa_id": sender}],
        "messages": [{"from": sender, "id": wamid, "timestamp": str(int(at.timestamp())),
                      "type": "text", "text": {"body": f"Hello, is order {n} ready?"}}],
    }  # fmt: skip
    change = {"field": "messages", "value": value}
    payload = {"object": "whatsapp_business_account",
               "entry": [{"id": "WABA", "changes": [change]}]}  # fmt: skip
    return {"id": wamid, "kind": "message", "person": person, "number": number,
            "new": person is None, "direction": "in", "missed": False,
            "events": [(at, payload)]}  # fmt: skip


def a_call(rng, n: int, began, people: int, extensions: list, new_numbers) -> dict:
    outgoing = rng.random() < OUTGOING_SHARE
    if outgoing or rng.random() < KNOWN_SHARE:
        person = rng.randrange(people) + 1
        number = person_phone(person - 1)
    else:
        person, number = None, f"+7{NEW_PREFIX}{next(new_numbers):07d}"
    missed = rng.random() < (NOT_REACHED_SHARE if outgoing else MISSED_SHARE)
    extension = rng.choice(extensions)
    direction = "out" if outgoing else "in"
    sent = as_sent(rng, number)
    ends = {"from": sent, "to": LINE} if direction == "in" else {"from": LINE, "to": sent}
    base = {"call_id": f"bench-{n}", "direction": direction, **ends, "extension": extension}
    ring = datetime.timedelta(seconds=rng.uniform(3, 25))
    if missed:
        last = {"event": "missed"} if direction == "in" else {"event": "ended", "duration": 0}
        steps = [({"event": "ringing"}, began), (last, began + ring)]
    else:
        talk = rng.randrange(10, 900)
        steps = [
            ({"event": "ringing"}, began),
            ({"event": "answered"}, began + ring),
            ({"event": "ended", "duration": talk},
             began + ring + datetime.timedelta(seconds=talk)),
        ]  # fmt: skip
    events = [(at, {**base, **event, "at": at.isoformat(timespec="seconds")})
              for event, at in steps]  # fmt: skip
    return {"id": base["call_id"], "kind": "call", "person": person, "number": number,
            "new": person is None, "direction": direction, "missed": missed,
            "events": events}  # fmt: skip


def signed(world: dict, items: list[dict]) -> list[dict]:
    """Every event as its provider posts it, in the order they happened: {"path", "body",
    "headers", "sender"} — the sender by the number, so one number's events keep their
    order."""
    from accord.comms.telephony import generic_signature

    paths = {"call": hook_path("telephony_hook", world["telephony"]),
             "message": hook_path("messenger_hook", world["whatsapp"])}  # fmt: skip
    events = sorted(
        ((at, item, event) for item in items for at, event in item["events"]),
        key=lambda found: found[0],
    )
    deliveries = []
    for _at, item, event in events:
        body = json.dumps(event).encode()
        if item["kind"] == "call":
            headers = {"X-Accord-Signature": generic_signature(SECRET, body)}
        else:
            digest = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
            headers = {"X-Hub-Signature-256": f"sha256={digest}"}
        sender = int(hashlib.sha256(item["number"].encode()).hexdigest(), 16) % SENDERS
        deliveries.append({"path": paths[item["kind"]], "body": body, "headers": headers,
                           "sender": sender})  # fmt: skip
    return deliveries


# --- The figures ---------------------------------------------------------------------


def post_all(deliveries: list[dict]) -> dict:
    """Each delivery its own request, SENDERS at once — each sender a process of its own
    (as `accord serve --workers N` answers in N processes) with a test client, posting its
    share in order — timed as a whole; the answers counted."""
    import multiprocessing

    from django.db import connections

    lines = [[d for d in deliveries if d["sender"] == n] for n in range(SENDERS)]
    connections.close_all()  # each process opens its own
    context = multiprocessing.get_context("fork")
    answers = context.Queue()
    senders = [context.Process(target=send, args=(line, answers)) for line in lines]
    started = time.perf_counter()
    for sender in senders:
        sender.start()
    reports = [answers.get() for _sender in senders]
    seconds = time.perf_counter() - started
    for sender in senders:
        sender.join()
    got = [line for line, _cpu in reports]
    statuses = [status for line in got for status, _n in line]
    return {"events": len(deliveries), "senders": SENDERS, "seconds": round(seconds, 2),
            "events_per_s": round(len(deliveries) / seconds, 1),
            "failures": sum(1 for status in statuses if status != 200),
            "stored": sum(n for line in got for _s, n in line),
            "cpu_s": round(sum(cpu for _line, cpu in reports), 2)}  # fmt: skip


def send(line: list[dict], answers) -> None:
    """A sender's deliveries, one request after another; its answers (status, stored) and
    the CPU seconds it took."""
    import resource

    from django.test import Client

    client, got = Client(), []
    for delivery in line:
        answer = client.post(delivery["path"], delivery["body"], content_type="application/json",
                             headers=delivery["headers"])  # fmt: skip
        stored = answer.json().get("stored", 0) if answer.status_code == 200 else 0
        got.append((answer.status_code, stored))
    used = resource.getrusage(resource.RUSAGE_SELF)
    answers.put((got, used.ru_utime + used.ru_stime))


WORKER_READY_S, APPLIED_WITHIN_S = 30, 600


def start_worker() -> subprocess.Popen:
    """`accord worker` on the bench's database (this process's settings), once it beats."""
    from accord.core.models import WorkerHeartbeat
    from bench.databases import DATA_DIR

    command = [sys.executable, "-m", "accord.cli", "worker"]
    with open(DATA_DIR / "worker.log", "ab") as log:  # its job lines: not the figures
        worker = subprocess.Popen(command, env=os.environ, stdout=log, stderr=log)  # noqa: S603
    began = time.monotonic()
    while not WorkerHeartbeat.objects.filter(pid=worker.pid).exists():
        if worker.poll() is not None or time.monotonic() - began > WORKER_READY_S:
            raise RuntimeError("the worker did not start")
        time.sleep(0.1)
    time.sleep(1.0)  # its start-up pause (up to a second) over: it polls the queue
    return worker


def stop_worker(worker: subprocess.Popen) -> None:
    worker.terminate()
    try:
        worker.wait(timeout=60)
    except subprocess.TimeoutExpired:
        worker.kill()


def wait_applied() -> float:
    """perf_counter() once none of the events is pending (a NotYet would be an error)."""
    from accord.comms.models import CallEvent, ChatEvent

    began = time.monotonic()
    while (
        CallEvent.objects.filter(state=CallEvent.PENDING).exists()
        or ChatEvent.objects.filter(state=ChatEvent.PENDING).exists()
    ):
        if time.monotonic() - began > APPLIED_WITHIN_S:
            raise RuntimeError("the worker did not apply the events")
        time.sleep(0.02)
    return time.perf_counter()


PASSES = ["accord.comms.tasks.apply_call_events", "accord.comms.tasks.drain_chat_events"]


def passes() -> dict:
    """The worker's jobs that applied events: how many, how long they ran."""
    from django_tasks_db.models import DBTaskResult

    jobs = DBTaskResult.objects.filter(task_path__in=PASSES)
    runs = list(jobs.values_list("status", "started_at", "finished_at", "return_value"))
    busy = sum((f - s).total_seconds() for _st, s, f, _v in runs if s and f)
    applied = sum(v or 0 for _st, _s, _f, v in runs)
    return {"passes": len(runs), "passes_failed": sum(1 for st, *_r in runs if st == "FAILED"),
            "applied": applied, "worker_busy_s": round(busy, 2),
            "applied_per_busy_s": round(applied / busy, 1) if busy else None}  # fmt: skip


def counts() -> dict:
    from accord.comms.models import Call, CallEvent, ChatEvent, Message
    from accord.contacts.models import Person
    from accord.core.models import TimelineEvent
    from accord.work.models import Task

    return {"calls": Call.objects.count(), "call_events": CallEvent.objects.count(),
            "messages": Message.objects.count(), "chat_events": ChatEvent.objects.count(),
            "people": Person.objects.count(), "tasks": Task.objects.count(),
            "timeline": TimelineEvent.objects.count()}  # fmt: skip


def done_count() -> int:
    from accord.comms.models import CallEvent, ChatEvent

    return (
        CallEvent.objects.filter(state=CallEvent.DONE).count()
        + ChatEvent.objects.filter(state=ChatEvent.DONE).count()
    )


def hook_path(name: str, connection) -> str:
    from django.urls import reverse

    return reverse(name, args=[connection.hook_token])


def ingest(world: dict, items: list[dict], deliveries: list[dict]) -> None:
    before = counts()
    worker = start_worker()
    try:
        worker_before, server_before = process_cpu(worker.pid), cpu_seconds()["server"]
        started = time.perf_counter()
        result = post_all(deliveries)
        applied_at = wait_applied()
        cpu = {"worker": process_cpu(worker.pid) - worker_before,
               "server": cpu_seconds()["server"] - server_before}  # fmt: skip
    finally:
        stop_worker(worker)
    after = counts()
    seconds = applied_at - started
    rate = round(len(deliveries) / seconds, 1)
    done = done_count()
    calls = [item for item in items if item["kind"] == "call"]
    messages = [item for item in items if item["kind"] == "message"]
    emit(
        "calls_ingest", events=len(deliveries), senders=SENDERS, posted_s=result["seconds"],
        posted_per_s=result["events_per_s"], seconds=round(seconds, 2), events_per_s=rate,
        target_per_s=TARGET_PER_S, met=rate >= TARGET_PER_S, **passes(),
        **cpu_per_event(len(deliveries), result["cpu_s"], cpu),
        failures=result["failures"], stored=result["stored"], done=done,
        all_ok=result["failures"] == 0 and result["stored"] == done == len(deliveries),
        call_events=sum(len(c["events"]) for c in calls), message_events=len(messages),
        planned_calls=len(calls), calls=after["calls"] - before["calls"],
        planned_messages=len(messages), messages=after["messages"] - before["messages"],
        people_created=after["people"] - before["people"],
        new_numbers=len({i["number"] for i in items if i["new"]}),
        tasks_created=after["tasks"] - before["tasks"],
        missed_in=sum(1 for c in calls if c["missed"] and c["direction"] == "in"),
        timeline_entries=after["timeline"] - before["timeline"],
        **matched(calls, messages), people=world["people"],
    )  # fmt: skip


def cpu_per_event(events: int, senders_s: float, cpu: dict) -> dict:
    """Where the CPU went, in milliseconds an event: the requests (the senders'
    processes), the worker (its process, from its start-up over), PostgreSQL's server;
    on 2 cores, 300 events a second leave 6.7 ms an event for all three."""
    return {"cpu_ms_posting": round(senders_s * 1000 / events, 2),
            "cpu_ms_worker": round(cpu["worker"] * 1000 / events, 2),
            "cpu_ms_server": round(cpu["server"] * 1000 / events, 2)}  # fmt: skip


def matched(calls: list[dict], messages: list[dict]) -> dict:
    """Each call and message with a person's number must be that person's, and the calls
    and messages of one new number one new person's (checked after the clock)."""
    from accord.comms.models import Call, Message

    found = dict(Call.objects.values_list("provider_call_id", "person_id"))
    found |= dict(
        Message.objects.filter(messenger__isnull=False).values_list("provider_id", "person_id")
    )
    items = calls + messages
    known = [i for i in items if i["person"] is not None]
    right = sum(1 for i in known if found.get(i["id"]) == i["person"])
    people_of_new: dict[str, set] = {}
    for item in items:
        if item["new"]:
            people_of_new.setdefault(item["number"], set()).add(found.get(item["id"]))
    one_each = sum(1 for found in people_of_new.values() if len(found) == 1 and None not in found)
    return {"known": len(known), "matched": right, "mismatched": len(known) - right,
            "new_numbers_one_person": one_each}  # fmt: skip


def repeat(world: dict, deliveries: list[dict]) -> None:
    before = counts()
    result = post_all(deliveries)
    after = counts()
    changed = {name: after[name] - before[name] for name in after if after[name] != before[name]}
    emit("calls_repeat", **result, target_per_s=TARGET_PER_S,
         met=result["events_per_s"] >= TARGET_PER_S,
         unchanged=result["failures"] == 0 and result["stored"] == 0 and not changed,
         changed=changed, people=world["people"])  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
