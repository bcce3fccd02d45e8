"""What every figure shares: the logged-in clients, the targets, cursors, the JSON output;
and the command line, timing and bulk rows of the benches that make their own rows at a
--scale (bench.work, bench.inbox)."""

import argparse
import base64
import json
import os
import pathlib
import re
import time

from bench import databases

PAGE = 50
DEEP_PAGE = 10_000
LIST_TARGET_MS, SEARCH_TARGET_MS, CARD_TARGET_MS = 50, 100, 50
MAX_QUERIES, MAX_RATIO = 6, 3.0
MODEL_BACKEND = "accord.accounts.backends.AccountBackend"


def make_cursor(sort: str, values: list) -> str:
    """A cursor as accord.core.pagination writes it: base64url JSON of sort and values."""
    raw = json.dumps({"s": sort, "v": values}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def deep_position(count: int) -> int:
    """Rows before the deep page: page 10,000 when the list is that long, else its last page."""
    last_full = max(0, (count - PAGE) // PAGE * PAGE)
    return min(PAGE * (DEEP_PAGE - 1), last_full)


def short_sql(sql: str) -> str:
    """The SQL without its long column list: SELECT … FROM ..."""
    return re.sub(r"^SELECT .*? FROM ", "SELECT … FROM ", sql, count=1, flags=re.DOTALL)


def is_list_query(sql: str) -> bool:
    """The page's own SELECT: people, limited to a page (the others are session, user...)."""
    return 'FROM "contacts_person"' in sql and "LIMIT" in sql


class Bench:
    """The users, clients and helpers every figure shares."""

    def __init__(self, repeat: int):
        from django.db import connection
        from django.test import Client

        from accord.accounts.models import User
        from accord.accounts.services import token_create
        from accord.contacts.models import Company, Person
        from bench.org import MANAGER_EMAIL, OWN_ONLY_EMAIL

        self.repeat = repeat
        self.base = {
            "db": connection.vendor,
            "people": Person.objects.count(),
            "companies": Company.objects.count(),
        }
        self.manager = User.objects.get(email=MANAGER_EMAIL)
        self.own = User.objects.get(email=OWN_ONLY_EMAIL)
        self.web = Client()
        self.web.force_login(self.manager, backend=MODEL_BACKEND)
        self.own_web = Client()
        self.own_web.force_login(self.own, backend=MODEL_BACKEND)
        _token, key = token_create(user=self.manager, name="bench")
        self.api = Client(headers={"Authorization": f"Bearer {key}"})

    def emit(self, figure: str, **fields) -> dict:
        line = {"figure": figure, **self.base, **fields}
        print(json.dumps(line, ensure_ascii=False), flush=True)
        return line

    def figure(self, name, request, *, target_ms, raw=False, before=None, **extra) -> dict:
        """Time a request, count its queries, optionally compare it with its raw SQL."""
        from bench.measure import capture, time_requests

        timing = time_requests(request, self.repeat, before)
        queries, sent = capture(request)
        fields = {
            "median_ms": timing.median_ms,
            "p95_ms": timing.p95_ms,
            "min_ms": timing.min_ms,
            "queries": queries,
            "target_ms": target_ms,
            "met": timing.p95_ms <= target_ms,
            **extra,
        }
        if raw:  # a list: its query count and raw SQL count too
            fields["queries_met"] = queries <= MAX_QUERIES
            fields.update(self.raw_ratio(timing.median_ms, sent))
        return self.emit(name, **fields)

    def raw_ratio(self, median_ms: float, sent: list) -> dict:
        """The request against its list query (and all its SELECTs) run raw on a cursor."""
        from bench.measure import query_plan, raw_ms

        selects = [s for s in sent if s.sql.lstrip().upper().startswith("SELECT")]
        times = [raw_ms(statement, self.repeat) for statement in selects]
        main = next(i for i, s in enumerate(selects) if is_list_query(s.sql))
        ratio = median_ms / max(times[main], 0.001)
        return {
            "raw_sql_ms": times[main],
            "raw_all_sql_ms": round(sum(times), 3),
            "ratio": round(ratio, 1),
            "ratio_all_sql": round(median_ms / max(sum(times), 0.001), 1),
            "ratio_met": ratio <= MAX_RATIO,
            "list_sql": short_sql(selects[main].sql),
            "list_params": [str(value) for value in selects[main].params or []],
            "plan": query_plan(selects[main]),
        }


# --- Benches that make their own rows (bench.work, bench.inbox) ----------------------------

BATCH = 5_000


def scaled_main(module: str, description: str, argv, measure, scale_help: str) -> int:
    """Its command line: on a database of its own per engine (--engines, dropped after
    unless --keep), --repeat timed requests a figure, its rows at --scale; `measure(args)`
    runs inside, once per engine."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=description)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--scale", type=float, default=1.0, help=scale_help)
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inside:
        return measure(args)
    from bench.__main__ import collect_static

    collect_static(args.engines.split(",")[0].strip())
    options = ["--repeat", str(args.repeat), "--scale", str(args.scale)]
    return databases.run_inside(module, options, args.engines, args.keep)


def migrated() -> None:
    """Django set up on the bench's database, migrated (a kept one may lag behind); its
    administrator skips the company's first step (its pages would answer a redirect)."""
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    settings.ACCORD_COMPANY_FIRST_STEP = False


def emit(figure: str, **fields) -> None:
    from django.db import connection

    print(json.dumps({"figure": figure, "db": connection.vendor, **fields}), flush=True)


def emit_load(figure: str) -> None:
    emit(figure, load_average=[round(x, 2) for x in os.getloadavg()])


def cpu_seconds() -> dict:
    """CPU seconds so far: this process's waited-for children (`children`), and the
    PostgreSQL server's processes on this machine with the backends that ended (`server`,
    from /proc; 0 where none runs here). Two readings' difference is what a run cost."""
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    server = 0.0
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            name, times = _proc_times(stat)
        except (OSError, ValueError):  # ended meanwhile
            continue
        if name == "postgres":
            server += sum(times)  # its own and its ended backends'
    return {"children": children.ru_utime + children.ru_stime, "server": server}


def process_cpu(pid: int) -> float:
    """A running process's CPU seconds so far (all its threads), from /proc."""
    return sum(_proc_times(pathlib.Path(f"/proc/{pid}/stat"))[1][:2])


def _proc_times(stat: pathlib.Path) -> tuple[str, list[float]]:
    """A process's name and its utime, stime, cutime, cstime in seconds."""
    text = stat.read_text()
    name, fields = text[text.index("(") + 1 : text.rindex(")")], text.rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return name, [int(f) / ticks for f in fields[11:15]]


def write(model, rows) -> None:
    """Rows made as the services would make them, in bulk, BATCH at a time."""
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            model.objects.bulk_create(batch)
            batch = []
    if batch:
        model.objects.bulk_create(batch)


def timed(request, repeat: int, check=None) -> dict:
    """Median and p95 (nearest rank) of `repeat` calls after a warm-up, in ms."""
    from bench.measure import summarise

    check = check or (lambda r: getattr(r, "status_code", 200) == 200)
    if not check(request()):
        raise RuntimeError("the request failed")
    samples = []
    for _n in range(repeat):
        started = time.perf_counter()
        answer = request()
        samples.append((time.perf_counter() - started) * 1000)
        if not check(answer):
            raise RuntimeError("the request failed")
    timing = summarise(samples)
    return {"median_ms": timing.median_ms, "p95_ms": timing.p95_ms}


def client_for(user):
    from django.test import Client

    client = Client()
    client.force_login(user, backend=MODEL_BACKEND)
    return client
