"""The standard dashboards at scale: python -m bench.reports [--engines ...] [--keep].

On a database of its own (like `python -m bench.work`): bench.work's pipeline, team, 10,000
open and 500,000 closed deals, 1,000,000 stage moves and 100,000 tasks, and besides them
1,000,000 clients added over two years and 10,000,000 activities (calls, meetings, e-mails,
notes) logged over the year by the team. Then each role's starting dashboard (Reports),
as its first page view opens it:

- dashboard_<kind>_cold: the first view after the database connection is closed and the
  cache emptied (a fresh worker process), ≤ 3 s;
- dashboard_<kind>: median / p95 of 20 views after it, ≤ 500 ms;

for an administrator, the head of the team, one of its managers and a marketer; and each
widget of the head's dashboard on its own (widget_<report>_<chart>), to see what weighs.
"""

import random
import sys
import time
from datetime import timedelta

from bench.harness import client_for, emit, emit_load, migrated, scaled_main, timed, write

CLIENTS, ACTIVITIES = 1_000_000, 10_000_000
TARGET_WARM_MS, TARGET_COLD_MS = 500, 3000


def main(argv=None) -> int:
    return scaled_main("bench.reports", __doc__, argv, measure, "fraction of the sizes")


def measure(args) -> int:
    from bench import work

    migrated()
    sizes = {name: int(value * args.scale) for name, value in [
        ("open", work.OPEN_DEALS), ("closed", work.CLOSED_DEALS), ("moves", work.MOVES),
        ("tasks", work.TASKS), ("team_tasks", work.TEAM_TASKS), ("due_now", work.DUE_NOW),
        ("clients", CLIENTS), ("activities", ACTIVITIES),
    ]}  # fmt: skip
    started = time.perf_counter()
    world = work.generate(sizes)
    more(world, sizes)
    emit("reports_generate", seconds=round(time.perf_counter() - started, 1), **sizes)
    dashboards(world, args.repeat)
    widgets(world, args.repeat)
    emit_load("reports_load_after")
    return 0


def more(world: dict, sizes: dict) -> None:
    """The clients and the activities, in bulk as the services would write them."""
    from django.db import connection, transaction

    from accord.accounts.models import Team, User
    from accord.accounts.services import user_create
    from accord.contacts.models import Person
    from accord.sales.services.deal_days import deal_days_rebuild
    from accord.work.models import Activity
    from accord.work.services.activity_days import activity_days_rebuild

    rng, now = random.Random(9), world["now"]
    team = Team.objects.get(name="Bench team")
    owners = list(team.members.all())
    world["manager"] = next(u for u in owners if u.pk != world["head"].pk)
    world["marketer"] = user_create(email="bench.marketing@example.com", password="x" * 12,
                                    role="marketing", full_name="Bench Marketing")  # fmt: skip

    def people():
        for n in range(sizes["clients"]):
            created = now - timedelta(days=rng.uniform(0, 730))
            yield Person(first_name=f"Client {n}", full_name=f"Client {n}",
                         owner=rng.choice(owners), created_at=created, updated_at=created,
                         kind="client" if n % 3 else "lead")  # fmt: skip

    stamps = [Person._meta.get_field(name) for name in ("created_at", "updated_at")]
    for stamp in stamps:  # the clients came over two years, not at this moment
        stamp.auto_now = stamp.auto_now_add = False
    try:
        with transaction.atomic():
            write(Person, people())
    finally:
        stamps[0].auto_now_add, stamps[1].auto_now = True, True
    first = Person.objects.order_by("pk").values_list("pk", flat=True).first()
    kinds = ["call", "call", "call", "meeting", "email", "note", "visit"]

    def activities():
        for _n in range(sizes["activities"]):
            yield Activity(kind=rng.choice(kinds), actor_id=rng.choice(owners).pk,
                           person_id=first + rng.randrange(sizes["clients"]),
                           occurred_at=now - timedelta(days=rng.uniform(0, 365)))  # fmt: skip

    with transaction.atomic():
        write(Activity, activities())
    for rebuild in (activity_days_rebuild, deal_days_rebuild):  # as after an upgrade
        started = time.perf_counter()
        made = rebuild()
        emit(rebuild.__name__, seconds=round(time.perf_counter() - started, 1), rows=made)
    with connection.cursor() as cursor:  # what autovacuum would do soon after a bulk load
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    User.objects.filter(pk=world["marketer"].pk).update(is_active=True)


def _cold(client) -> float:
    from django.core.cache import cache
    from django.db import connection

    connection.close()
    cache.clear()
    started = time.perf_counter()
    answer = client.get("/reports/")
    if answer.status_code != 200:
        raise RuntimeError(f"the dashboard answered {answer.status_code}")
    return round((time.perf_counter() - started) * 1000, 1)


def dashboards(world, repeat: int) -> None:
    readers = [("admin", world["admin"]), ("head", world["head"]),
               ("manager", world["manager"]), ("marketing", world["marketer"])]  # fmt: skip
    for kind, user in readers:
        client = client_for(user)
        cold_ms = _cold(client)
        emit(f"dashboard_{kind}_cold", ms=cold_ms, target_ms=TARGET_COLD_MS,
             met=cold_ms <= TARGET_COLD_MS)  # fmt: skip
        result = timed(lambda c=client: c.get("/reports/"), repeat)
        emit(f"dashboard_{kind}", **result, target_ms=TARGET_WARM_MS,
             met=result["p95_ms"] <= TARGET_WARM_MS)  # fmt: skip


def widgets(world, repeat: int) -> None:
    """Each widget of each role's dashboard computed alone: where the time goes."""
    from accord.reports.queries import shown, starter

    readers = [("admin", world["admin"]), ("head", world["head"]),
               ("marketing", world["marketer"])]  # fmt: skip
    for kind, user in readers:
        _name, found = starter(user)
        for widget in found:
            result = timed(lambda w=widget, u=user: shown(u, w), max(3, repeat // 4),
                           check=lambda _s: True)  # fmt: skip
            emit(f"widget_{kind}_{widget.report}_{widget.chart}_{widget.period}", **result)


def again(argv=None) -> int:
    """The dashboards measured again on a kept database (`--keep`), without making it anew:
    python -c 'import bench.reports as r; r.again()' with DATABASE_URL naming it."""
    migrated()
    from accord.accounts.models import User

    world = {"admin": User.objects.get(email="bench.admin@example.com"),
             "head": User.objects.get(email="bench.head@example.com"),
             "manager": User.objects.get(email="bench.m0@example.com"),
             "marketer": User.objects.get(email="bench.marketing@example.com")}  # fmt: skip
    dashboards(world, 10)
    widgets(world, 10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
