"""Calls from a PBX at scale: python -m bench.calls [--scale 1.0] [--engines ...] [--keep].

On a database of its own (like `python -m bench.inbox`): 1,000,000 people (× --scale)
with a phone each (E.164, a "phone" contact point and the primary phone), owned by 5
managers, written in bulk; a telephony connection (Accord's JSON format, signed) with
the managers' extensions. Then 10,000 call events (seed 11), in the order they happen:
calls of 2 or 3 events (ringing, answered, ended with its duration; a missed one rings
then is "missed"). 85% are incoming: 80% of those from people picked at random across
the whole table, 20% from new numbers; 15% are outgoing, to people (a quarter of the
incoming missed, a fifth of the outgoing not reached). Numbers come as PBXs send them
("+7…", "7…" or "8 (9xx) …"). Each event is posted as its own request to
/hooks/telephony/<token>/ (Django's test client, in this process; the bodies signed
beforehand), while a worker (`accord worker`, a process of its own, as `accord serve`
starts it) applies what the requests stored. One JSON line per figure:

- calls_generate: the people written, in seconds;
- calls_ingest: the 10,000 events posted one by one with the worker running, target
  ≥ 300 a second on each engine (the issue: "Ingest 10,000 inbound events … at ≥ 300
  per second … each matched to its client by phone among 1,000,000 people"):
  `posted_per_s` (the requests: verified, stored, the worker's pass queued) and
  `events_per_s`, end to end (the events over the time from the first request until the
  worker has applied the last); the worker's jobs (`passes`) and the time they ran
  (`worker_busy_s`, `applied_per_busy_s`); every answer 200 with one event stored, every
  event applied; the calls, the people made for new numbers, the "call back" tasks, and
  each call checked against the person whose number it was;
- calls_repeat: the first 1,000 events posted again: each answered 200 with nothing
  stored, nothing changed (calls, events, people, tasks, timeline entries);
- calls_load_before / calls_load_after: the machine's load average.

The issue's "calls and messages": Accord has no webhook for text messages, so the
events are calls only.
"""

import datetime
import json
import os
import random
import subprocess
import sys
import time

from bench.harness import emit, emit_load, migrated, scaled_main

PEOPLE, EVENTS, REPEATED, MANAGERS = 1_000_000, 10_000, 1_000, 5
TARGET_PER_S = 300
SECRET = "bench-secret"  # noqa: S105 (a throwaway database)
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
    calls = plan(world, random.Random(11))
    deliveries = signed(calls)
    ingest(world, calls, deliveries)
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
    from accord.contacts.models import ContactPoint, Person
    from accord.core.bulk import Table, reset_sequences
    from accord.core.phones import normalize_phone
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
    telephony = telephony_save(actor=admin, data={"name": "Bench PBX", "secret": SECRET})
    extensions = {str(101 + n): manager for n, manager in enumerate(managers)}
    extensions_set(actor=admin, telephony=telephony, extensions=extensions)
    return {"people": count, "admin": admin, "telephony": telephony,
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
    """Calls until EVENTS events: each {"id", "person" (the pk whose number it is, or
    None), "number", "new" (a new number), "direction", "missed", "events": [JSON
    objects]}."""
    people, extensions = world["people"], world["extensions"]
    start = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)
    new_numbers = iter(rng.sample(range(10**7), EVENTS))
    calls, total = [], 0
    while total < EVENTS:
        n = len(calls)
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
        began = start + datetime.timedelta(seconds=n * 7 + rng.uniform(0, 5))
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
        steps = steps[: EVENTS - total]  # the last call may be cut short: still 10,000
        events = [{**base, **event, "at": at.isoformat(timespec="seconds")} for event, at in steps]
        calls.append({"id": base["call_id"], "person": person, "number": number,
                      "new": person is None,
                      "direction": direction, "missed": missed, "events": events})  # fmt: skip
        total += len(events)
    return calls


def signed(calls: list[dict]) -> list[tuple[bytes, str]]:
    """Every event as the PBX posts it, in the order they happened: (body, signature)."""
    from accord.comms.telephony import generic_signature

    events = sorted((e for call in calls for e in call["events"]), key=lambda e: e["at"])
    bodies = [json.dumps(event).encode() for event in events]
    return [(body, generic_signature(SECRET, body)) for body in bodies]


# --- The figures ---------------------------------------------------------------------


def post_all(path: str, deliveries: list[tuple[bytes, str]]) -> dict:
    """Each delivery its own request, in order, timed as a whole; the answers counted."""
    from django.test import Client

    client = Client()
    failures = stored = 0
    started = time.perf_counter()
    for body, signature in deliveries:
        answer = client.post(path, body, content_type="application/json",
                             headers={"X-Accord-Signature": signature})  # fmt: skip
        if answer.status_code != 200:
            failures += 1
            continue
        stored += answer.json()["stored"]
    seconds = time.perf_counter() - started
    return {"events": len(deliveries), "seconds": round(seconds, 2),
            "events_per_s": round(len(deliveries) / seconds, 1), "failures": failures,
            "stored": stored}  # fmt: skip


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


def wait_applied(stored: int) -> float:
    """perf_counter() once none of the events is pending (a NotYet would be an error)."""
    from accord.comms.models import CallEvent

    began = time.monotonic()
    while CallEvent.objects.filter(state=CallEvent.PENDING).exists():
        if time.monotonic() - began > APPLIED_WITHIN_S:
            raise RuntimeError("the worker did not apply the events")
        time.sleep(0.02)
    return time.perf_counter()


def passes() -> dict:
    """The worker's jobs that applied call events: how many, how long they ran."""
    from django_tasks_db.models import DBTaskResult

    jobs = DBTaskResult.objects.filter(task_path="accord.comms.tasks.apply_call_events")
    runs = list(jobs.values_list("status", "started_at", "finished_at", "return_value"))
    busy = sum((f - s).total_seconds() for _st, s, f, _v in runs if s and f)
    applied = sum(v or 0 for _st, _s, _f, v in runs)
    return {"passes": len(runs), "passes_failed": sum(1 for st, *_r in runs if st == "FAILED"),
            "applied": applied, "worker_busy_s": round(busy, 2),
            "applied_per_busy_s": round(applied / busy, 1) if busy else None}  # fmt: skip


def counts() -> dict:
    from accord.comms.models import Call, CallEvent
    from accord.contacts.models import Person
    from accord.core.models import TimelineEvent
    from accord.work.models import Task

    return {"calls": Call.objects.count(), "call_events": CallEvent.objects.count(),
            "people": Person.objects.count(), "tasks": Task.objects.count(),
            "timeline": TimelineEvent.objects.count()}  # fmt: skip


def hook_path(world: dict) -> str:
    from django.urls import reverse

    return reverse("telephony_hook", args=[world["telephony"].hook_token])


def ingest(world: dict, calls: list[dict], deliveries: list[tuple[bytes, str]]) -> None:
    from accord.comms.models import CallEvent

    before = counts()
    worker = start_worker()
    try:
        started = time.perf_counter()
        result = post_all(hook_path(world), deliveries)
        applied_at = wait_applied(result["stored"])
    finally:
        stop_worker(worker)
    after = counts()
    seconds = applied_at - started
    rate = round(len(deliveries) / seconds, 1)
    done = CallEvent.objects.filter(state=CallEvent.DONE).count()
    emit(
        "calls_ingest", events=len(deliveries), posted_s=result["seconds"],
        posted_per_s=result["events_per_s"], seconds=round(seconds, 2), events_per_s=rate,
        target_per_s=TARGET_PER_S, met=rate >= TARGET_PER_S, **passes(),
        failures=result["failures"], stored=result["stored"], done=done,
        all_ok=result["failures"] == 0 and result["stored"] == done == len(deliveries),
        planned_calls=len(calls), calls=after["calls"] - before["calls"],
        people_created=after["people"] - before["people"],
        new_numbers=len({c["number"] for c in calls if c["new"]}),
        tasks_created=after["tasks"] - before["tasks"],
        missed_in=sum(1 for c in calls if c["missed"] and c["direction"] == "in"),
        timeline_entries=after["timeline"] - before["timeline"],
        **matched(calls), people=world["people"],
    )  # fmt: skip


def matched(calls: list[dict]) -> dict:
    """Each call with a person's number must be that person's (checked after the clock)."""
    from accord.comms.models import Call

    found = dict(Call.objects.values_list("provider_call_id", "person_id"))
    known = [c for c in calls if c["person"] is not None]
    right = sum(1 for c in known if found.get(c["id"]) == c["person"])
    new_linked = sum(1 for c in calls if c["new"] and found.get(c["id"]) is not None)
    return {"known_calls": len(known), "matched": right, "mismatched": len(known) - right,
            "new_calls_linked": new_linked}  # fmt: skip


def repeat(world: dict, deliveries: list[tuple[bytes, str]]) -> None:
    before = counts()
    result = post_all(hook_path(world), deliveries)
    after = counts()
    changed = {name: after[name] - before[name] for name in after if after[name] != before[name]}
    emit("calls_repeat", **result, target_per_s=TARGET_PER_S,
         met=result["events_per_s"] >= TARGET_PER_S,
         unchanged=result["failures"] == 0 and result["stored"] == 0 and not changed,
         changed=changed, people=world["people"])  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
