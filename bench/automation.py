"""Automation under load: python -m bench.automation [--events 10000] [--engines ...].

On a database of its own per engine: 20 enabled rules on deals (conditions on amount,
title, source, stage; actions: notify the owner, add a tag, create a task), 1,000 deals,
then, one JSON line per figure:

- evaluate: events no rule's conditions hold for — what matching an event against the
  20 rules costs (one query for the rules, the deal's view, the conditions), target
  ≤ 2 ms median per event;
- burst: 10,000 `deal.updated` events in a row, each run started and finished at once
  (no waits), one event at a time in one process as a web request dispatches it right
  after its commit (`automation_burst`); then, on the same deals put back as they were,
  the same 10,000 events recorded in the outbox and taken up by `--workers` worker
  processes (2), a batch of events per transaction, claimed with SKIP LOCKED
  (`automation_burst_workers`): target all done within 30 s;
- scheduler: 100,000 runs waiting on delays, none due yet, then 200 due: the
  scheduler's pass, target ≤ 1 s.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from bench import databases

TARGET_EVALUATE_MS, TARGET_BURST_S, TARGET_PASS_S = 2.0, 30.0, 1.0
# BENCH_PROFILE=DIR: each burst worker writes its cProfile statistics there.
PROFILE_DIR = os.environ.get("BENCH_PROFILE")
PROFILE = ["-m", "cProfile", "-o", f"{PROFILE_DIR}/worker-{{n}}.prof"] if PROFILE_DIR else []


def parse(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.automation", description=__doc__)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--waiting", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2, help="worker processes (2)")
    parser.add_argument("--skip-inline", action="store_true", help="no one-process burst")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--drain", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse(argv)
    if args.drain:
        return drain()
    if args.inside:
        return measure(args)
    options = ["--events", str(args.events), "--waiting", str(args.waiting)]
    options += ["--workers", str(args.workers)] + (["--skip-inline"] if args.skip_inline else [])
    return databases.run_inside("bench.automation", options, args.engines, args.keep)


def emit(figure: str, **fields) -> None:
    print(json.dumps({"figure": figure, **fields}), flush=True)


def rules(admin, stage_id: int) -> list:
    from accord.automation.services import rule_save

    notify = {"type": "notify", "params": {"to": {"to": "owner"}, "message": "{{ deal.title }}"}}
    tag = {"type": "add_tag", "params": {"tag": "hot"}}
    task = {
        "type": "create_task",
        "params": {
            "title": "Call about {{ deal.title }}",
            "assignee": {"to": "owner"},
            "due_in": {"amount": 1, "unit": "hours"},
        },
    }
    made = []
    for n in range(20):
        field, op, value = [
            ("deal.amount", "gte", str(1000 * (n + 1))),
            ("deal.title", "contains", f"lot {n}"),
            ("deal.source", "eq", f"source-{n}"),
            ("deal.tags", "contains", f"tag-{n}"),
        ][n % 4]
        made.append(
            rule_save(
                actor=admin,
                data={
                    "name": f"Rule {n}",
                    "subject": "deal",
                    "trigger": "updated",
                    "enabled": True,
                    "conditions": {
                        "match": "all",
                        "items": [{"field": field, "op": op, "value": value}],
                    },
                    "actions": [[notify, tag, task][n % 3]],
                    "flood_limit": 1000,
                },
            )
        )
    return made


def measure(args) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from accord.accounts.services import user_create
    from accord.automation import engine, scheduler
    from accord.automation.models import Run
    from accord.core import events
    from accord.core.events import DomainEvent
    from accord.core.models import OutboxEvent
    from accord.sales.models import Pipeline
    from accord.sales.services import deal_create

    call_command("migrate", interactive=False, verbosity=0)
    vendor = connection.vendor
    admin = user_create(email="bench.rules@example.com", password="x" * 12, role="administrator")
    pipeline = Pipeline.objects.first()
    rules(admin, pipeline.stages.first().pk)
    deals = [
        deal_create(
            actor=admin,
            data={
                "title": f"Windows, lot {n % 40}",
                "amount": str(n * 7 % 30000),
                "source": f"source-{n % 50}",
            },
        ).pk
        for n in range(1000)
    ]
    Run.objects.all().delete()  # the deals' own creation started none (rules are on updates)

    # Matching alone: the deals whose values no rule's conditions hold for.
    quiet = [
        deal_create(actor=admin, data={"title": f"Quiet {n}", "amount": "10", "source": "none"}).pk
        for n in range(200)
    ]
    timings = []
    for deal_id in quiet * 5:
        event = DomainEvent("deal.updated", {"deal_id": deal_id, "fields": ["title"]})
        started = time.perf_counter()
        engine.on_event(event)
        timings.append((time.perf_counter() - started) * 1000)
    assert not Run.objects.exists()
    median = statistics.median(timings)
    emit(
        "automation_evaluate",
        db=vendor,
        rules=20,
        events=len(timings),
        median_ms=round(median, 3),
        p95_ms=round(sorted(timings)[int(len(timings) * 0.95)], 3),
        target_ms=TARGET_EVALUATE_MS,
        met=median <= TARGET_EVALUATE_MS,
    )

    # The burst: every event's matching runs start and finish at once, one event at a
    # time in this process, each dispatched right after it is recorded (a web request's way).
    OutboxEvent.objects.all().delete()  # the deals' creation: done, not counted
    if not args.skip_inline:
        started, counted = time.perf_counter(), Counted()
        with connection.execute_wrapper(counted):
            for n in range(args.events):
                events.emit("deal.updated", deal_id=deals[n % len(deals)], fields=["amount"])
        seconds = time.perf_counter() - started
        burst_figure("automation_burst", args, vendor, seconds, 1, counted.queries)
        put_back(deals)

    # The same burst recorded in the outbox (as the changes' transactions do), then taken
    # up by worker processes side by side, a batch of events per transaction.
    # The workers start first (Django's start-up is not the burst's): each says "ready".
    drain = ["-m", "bench.automation", "--drain"]
    workers = [
        subprocess.Popen(  # noqa: S603 (this interpreter, this module)
            [sys.executable, *[p.format(n=n) for p in PROFILE], *drain],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(args.workers)
    ]
    assert all(worker.stdout.readline().strip() == "ready" for worker in workers)
    with events.held(), transaction.atomic():
        for n in range(args.events):
            events.emit("deal.updated", deal_id=deals[n % len(deals)], fields=["amount"])
    started = time.perf_counter()
    for worker in workers:  # all at once
        worker.stdin.write("go\n")
        worker.stdin.close()
    failed = [worker.wait() for worker in workers]
    seconds = time.perf_counter() - started
    assert not any(failed), failed
    queries = sum(int(worker.stdout.read().split()[-1]) for worker in workers)
    burst_figure("automation_burst_workers", args, vendor, seconds, args.workers, queries)

    # The scheduler's pass with 100,000 runs waiting, 200 of them due.
    from accord.automation.models import Rule, RuleVersion
    from accord.core.bulk import Table

    rule = Rule.objects.get(name="Rule 0")
    rule_save_wait(admin, rule)
    version = RuleVersion.objects.filter(rule=rule).order_by("-number").first()
    now = timezone.now()
    table = Table(Run, with_id=False)
    for start in range(0, args.waiting, 5000):
        table.write(
            {
                "rule_id": rule.pk,
                "version_id": version.pk,
                "event": "deal.updated",
                "subject_type": "deal",
                "subject_id": deals[n % len(deals)],
                "status": "waiting",
                "cursor": [0],
                "context": {},
                "due_at": now + timezone.timedelta(days=1 + n % 30),
                "wait_started_at": now,
                "created_at": now,
            }
            for n in range(start, min(start + 5000, args.waiting))
        )
    Run.objects.filter(pk__in=Run.objects.filter(status="waiting").values("pk")[:200]).update(
        due_at=now - timezone.timedelta(minutes=1)
    )
    finding = []
    for _repeat in range(20):  # finding the due ones among the waiting: the index's part
        started = time.perf_counter()
        due = list(
            Run.objects.filter(status__in=["queued", "waiting", "running"], due_at__lte=now)
            .order_by("due_at")
            .values_list("pk", flat=True)[: scheduler.BATCH]
        )
        finding.append((time.perf_counter() - started) * 1000)
    emit(
        "automation_scheduler_find",
        db=vendor,
        waiting=args.waiting,
        due=len(due),
        median_ms=round(statistics.median(finding), 2),
        target_s=TARGET_PASS_S,
        met=statistics.median(finding) / 1000 <= TARGET_PASS_S,
    )
    started = time.perf_counter()
    taken = scheduler.tick(now)
    seconds = time.perf_counter() - started
    emit(
        "automation_scheduler_pass",
        db=vendor,
        waiting=args.waiting,
        due=200,
        taken=taken,
        seconds=round(seconds, 2),
        target_s=TARGET_PASS_S,
        met=seconds <= TARGET_PASS_S,
    )
    return 0


class Counted:
    """An execute wrapper counting the statements sent (SAVEPOINTs too)."""

    def __init__(self):
        self.queries = 0

    def __call__(self, execute, sql, params, many, context):
        self.queries += 1
        return execute(sql, params, many, context)


def burst_figure(
    figure: str, args, vendor: str, seconds: float, processes: int, queries: int
) -> None:
    import django

    from accord.automation.models import Run
    from accord.core.models import OutboxEvent

    statuses = dict(Run.objects.values_list("status").annotate(n=django.db.models.Count("id")))
    left = OutboxEvent.objects.exclude(state="done").count()
    emit(
        figure,
        db=vendor,
        events=args.events,
        processes=processes,
        rules=20,
        runs=sum(statuses.values()),
        statuses=statuses,
        events_run=OutboxEvent.objects.filter(state="done").count(),
        events_left=left,
        queries_per_event=round(queries / args.events, 2),  # per event of the burst
        seconds=round(seconds, 1),
        events_per_s=round(args.events / seconds),
        target_s=TARGET_BURST_S,
        met=seconds <= TARGET_BURST_S and set(statuses) <= {"done", "skipped"} and not left,
        load=open("/proc/loadavg").read().split()[:3],  # noqa: SIM115
    )


def put_back(deals: list[int]) -> None:
    """The deals as before the burst: no runs, tasks, notifications, tags or events."""
    from accord.automation.models import Run
    from accord.core.models import OutboxEvent, TimelineEvent
    from accord.sales.models import Deal
    from accord.work.models import Notification, Task

    Run.objects.all().delete()
    Task.objects.all().delete()
    Notification.objects.all().delete()
    OutboxEvent.objects.all().delete()
    TimelineEvent.objects.filter(kind="automation").delete()
    Deal.tags.through.objects.filter(deal_id__in=deals).delete()


def drain() -> int:
    """A worker process of the burst: the worker's pass until no event is left pending."""
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from accord.core import events
    from accord.core.models import OutboxEvent

    OutboxEvent.objects.exists()  # connected
    print("ready", flush=True)
    sys.stdin.readline()  # the burst is recorded
    idle, counted = 0, Counted()
    with connection.execute_wrapper(counted):
        while idle < 3:
            if events.catch_up():
                idle = 0
                continue
            due = OutboxEvent.objects.filter(state="pending", due_at__lte=timezone.now())
            if not due.exists():
                idle += 1  # the other worker's last batch may still emit events
            time.sleep(0.05)
    print("queries", counted.queries, flush=True)  # the statements it sent, for the figure
    return 0


def rule_save_wait(admin, rule) -> None:
    """Rule 0 as: wait a day, then notify (the waiting runs' version)."""
    from accord.automation.services import rule_save

    rule_save(
        actor=admin,
        rule=rule,
        data={
            "name": rule.name,
            "actions": [
                {"type": "wait", "params": {"amount": 1, "unit": "days"}},
                {
                    "type": "notify",
                    "params": {"to": {"to": "owner"}, "message": "{{ deal.title }}"},
                },
            ],
        },
    )


if __name__ == "__main__":
    sys.exit(main())
