"""The funnel and the daily work at scale: python -m bench.work [--engines ...] [--keep].

On a database of its own (like `python -m bench`): one pipeline of 8 open stages with
10,000 open deals and 500,000 closed ones, 1,000,000 stage moves over a year; a team of
50 with 20,000 open tasks among 100,000, 5,000 of them due in the same minute. Measures,
median / p95 of 20 after a warm-up, one JSON line per figure:

- board: the board's first render (every column's count and sum, 50 cards each), ≤ 150 ms;
- move: a drag between two stages (POST /deals/<id>/move/), ≤ 50 ms;
- funnel: the funnel report over the year's 1,000,000 moves, ≤ 500 ms;
- today_head: the Today screen of the team's head, ≤ 100 ms;
- scheduler: one pass that finds the 5,000 tasks just overdue and notifies their assignees
  and the head, ≤ 5 s, each exactly once (a second pass adds nothing);
- win_probability: learning the win probability from the 500,000 closed deals and scoring
  the 10,000 open ones (the worker's nightly run), ≤ 60 s;
- dashboard_head: the head of sales' dashboard (Reports) over those deals and tasks.
"""

import random
import sys
import time
from datetime import timedelta

from bench.harness import client_for, emit, emit_load, migrated, scaled_main, timed, write

OPEN_DEALS, CLOSED_DEALS, MOVES = 10_000, 500_000, 1_000_000
TASKS, TEAM_TASKS, DUE_NOW, TEAM_SIZE = 100_000, 20_000, 5_000, 50
TARGETS_MS = {"board": 150, "move": 50, "funnel": 500, "today_head": 100, "scheduler": 5000,
              "win_probability": 60_000, "dashboard_head": 500}  # fmt: skip


def main(argv=None) -> int:
    return scaled_main("bench.work", __doc__, argv, measure, "fraction of the sizes")


def measure(args) -> int:
    migrated()
    sizes = {
        name: int(value * args.scale)
        for name, value in [
            ("open", OPEN_DEALS),
            ("closed", CLOSED_DEALS),
            ("moves", MOVES),
            ("tasks", TASKS),
            ("team_tasks", TEAM_TASKS),
            ("due_now", DUE_NOW),
        ]
    }
    started = time.perf_counter()
    world = generate(sizes)
    emit("work_generate", seconds=round(time.perf_counter() - started, 1), **sizes)
    board_and_move(world, args.repeat)
    funnel(world, args.repeat)
    today_head(world, args.repeat)
    scheduler(world, sizes)
    win_probability(world)
    dashboard_head(world, args.repeat)
    emit_load("work_load_after")
    return 0


def generate(sizes: dict) -> dict:
    """The rows, written in bulk as the services would write them."""
    from django.db import transaction
    from django.utils import timezone

    from accord.accounts.models import User
    from accord.accounts.services import team_save, user_create
    from accord.sales.models import Deal, Pipeline, StageMove
    from accord.sales.services import pipeline_create
    from accord.work.models import Task

    rng = random.Random(5)
    now = timezone.now()
    admin = user_create(email="bench.admin@example.com", password="x" * 12, role="administrator")
    head = user_create(
        email="bench.head@example.com",
        password="x" * 12,
        role="head-of-sales",
        full_name="Bench Head",
    )
    members = [
        user_create(
            email=f"bench.m{n}@example.com",
            password="x" * 12,
            role="manager",
            full_name=f"Member {n:02}",
        )
        for n in range(TEAM_SIZE - 1)
    ]
    team = team_save(actor=admin, name="Bench team", head=head, members=[head, *members])
    team.escalation_minutes = 0
    team.save()
    outsiders = [
        user_create(email=f"bench.o{n}@example.com", password="x" * 12, role="manager")
        for n in range(20)
    ]
    Pipeline.objects.all().delete()
    names = ["New", "Qualified", "Call", "Measure", "Offer", "Negotiation", "Contract", "Install"]
    pipeline = pipeline_create(
        actor=admin,
        name="Bench",
        stages=[
            *({"name": n, "rotting_days": 14} for n in names),
            {"name": "Won", "kind": "won"},
            {"name": "Lost", "kind": "lost"},
        ],
    )
    stages = list(pipeline.stages.order_by("position"))
    open_stages, won, lost = stages[:8], stages[8], stages[9]
    owners = [head, *members]

    def deals(count, closed):
        for n in range(count):
            stage = rng.choice([won, lost]) if closed else open_stages[n % 8]
            entered = now - timedelta(days=rng.uniform(0, 365))
            yield Deal(
                title=f"Deal {n}",
                pipeline=pipeline,
                stage=stage,
                status=stage.kind,
                amount=rng.randrange(100, 20000),
                currency="EUR",
                owner=rng.choice(owners),
                stage_entered_at=entered,
                board_rank=float(n),
                closed_at=entered if closed else None,
            )

    with transaction.atomic():
        write(Deal, deals(sizes["open"], False))
        write(Deal, deals(sizes["closed"], True))
    first_id = Deal.objects.order_by("pk").values_list("pk", flat=True).first()
    total = sizes["open"] + sizes["closed"]

    def moves():
        for _n in range(sizes["moves"]):
            source = rng.randrange(len(open_stages) + 1)
            target = stages[min(source + 1, 9)] if rng.random() < 0.8 else lost
            yield StageMove(
                deal_id=first_id + rng.randrange(total),
                pipeline=pipeline,
                from_stage=open_stages[source - 1] if source else None,
                to_stage=target,
                moved_at=now - timedelta(days=rng.uniform(0, 365)),
                seconds_in_from=rng.randrange(3600, 30 * 86400) if source else None,
            )

    with transaction.atomic():
        write(StageMove, moves())

    def tasks():
        for n in range(sizes["tasks"]):
            in_team = n < sizes["team_tasks"]
            due_now = n < sizes["due_now"]
            assignee = rng.choice(members if in_team else outsiders)
            due = (
                now - timedelta(seconds=30)
                if due_now
                else now + timedelta(hours=rng.uniform(1, 24 * 30))
            )
            yield Task(
                title=f"Task {n}", kind="call", due_at=due, assignee=assignee, created_by=assignee
            )

    with transaction.atomic():
        write(Task, tasks())
    from django.db import connection

    with connection.cursor() as cursor:  # what autovacuum would do soon after a bulk load
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    User.objects.filter(pk__in=[u.pk for u in owners]).update(is_active=True)
    return {"pipeline": pipeline, "stages": open_stages, "head": head, "admin": admin, "now": now}


def board_and_move(world, repeat: int) -> None:
    from accord.sales.models import Deal
    from bench.measure import capture

    client = client_for(world["admin"])
    url = f"/deals/board/{world['pipeline'].pk}/"
    cards = client.get(url).content.decode().count("data-deal=")
    queries, _sent = capture(lambda: client.get(url))
    result = timed(lambda: client.get(url), repeat)
    emit(
        "board",
        **result,
        queries=queries,
        cards=cards,
        target_ms=TARGETS_MS["board"],
        met=result["p95_ms"] <= TARGETS_MS["board"],
    )
    deal = Deal.objects.filter(status="open", stage=world["stages"][0]).first()
    a, b = world["stages"][0], world["stages"][1]
    state = {"to": b}

    def move():
        deal.refresh_from_db(fields=["version"])
        target = state["to"]
        state["to"] = a if target == b else b
        return client.post(f"/deals/{deal.pk}/move/", {"stage": target.pk, "version": deal.version})

    result = timed(move, repeat)
    emit("move", **result, target_ms=TARGETS_MS["move"], met=result["p95_ms"] <= TARGETS_MS["move"])


def funnel(world, repeat: int) -> None:
    from accord.sales.queries import funnel as funnel_rows

    now = world["now"]
    result = timed(
        lambda: funnel_rows(world["admin"], world["pipeline"], now - timedelta(days=366), now),
        repeat,
        check=lambda rows: len(rows) == 10,
    )
    emit(
        "funnel",
        **result,
        target_ms=TARGETS_MS["funnel"],
        met=result["p95_ms"] <= TARGETS_MS["funnel"],
    )


def today_head(world, repeat: int) -> None:
    client = client_for(world["head"])
    result = timed(lambda: client.get("/"), repeat)
    emit(
        "today_head",
        **result,
        target_ms=TARGETS_MS["today_head"],
        met=result["p95_ms"] <= TARGETS_MS["today_head"],
    )


def scheduler(world, sizes: dict) -> None:
    from django.utils import timezone

    from accord.work.models import Notification
    from accord.work.scheduler import tick

    started = time.perf_counter()
    made = tick(timezone.now())
    took_ms = round((time.perf_counter() - started) * 1000, 1)
    again = tick(timezone.now())
    counts = dict(
        (kind, Notification.objects.filter(kind=kind).count()) for kind in ("overdue", "escalation")
    )
    once = counts == {"overdue": sizes["due_now"], "escalation": sizes["due_now"]}
    emit(
        "scheduler",
        ms=took_ms,
        made=made,
        second_pass=again,
        counts=counts,
        exactly_once=once and not any(again.values()),
        target_ms=TARGETS_MS["scheduler"],
        met=took_ms <= TARGETS_MS["scheduler"] and once,
    )


def win_probability(world) -> None:
    from accord.reports import learning
    from accord.sales.models import DealScore

    started = time.perf_counter()
    model = learning.train(world["now"])
    milliseconds = (time.perf_counter() - started) * 1000
    emit(
        "win_probability",
        ms=round(milliseconds),
        won=model.won,
        lost=model.lost,
        scored=DealScore.objects.count(),
        target_ms=TARGETS_MS["win_probability"],
        met=milliseconds <= TARGETS_MS["win_probability"],
    )


def dashboard_head(world, repeat: int) -> None:
    client = client_for(world["head"])
    result = timed(lambda: client.get("/reports/"), repeat)
    emit(
        "dashboard_head",
        **result,
        target_ms=TARGETS_MS["dashboard_head"],
        met=result["p95_ms"] <= TARGETS_MS["dashboard_head"],
    )


if __name__ == "__main__":
    sys.exit(main())
