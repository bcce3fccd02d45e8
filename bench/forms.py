"""Web-form requests at scale: python -m bench.forms [--scale 1.0] [--engines ...] [--keep].

On a database of its own: 200,000 people (× --scale) with a phone and an e-mail each,
owned by 5 managers, written in bulk; then, on this new company, the window-shop blueprint
installed and switched on through the services as an administrator does it (its
"Windows" pipeline, its "Window sales" team whose round robin gives requests out, its web
form "Window request", rule 1's call task within 15 minutes), the managers at work round
the clock. Then 6,000 requests (× --scale, seed 5) as visitors send them: a name, a phone
typed as people type it, an e-mail, a message; half with UTM tags; 10% from people already
in the base (by their e-mail or by their phone), each from an address of its own. Each is
posted to the form's public address (the plain HTML form's POST; Django's test client in
this process) by SENDERS processes at once — `accord serve --workers 2` answers in two.
The issue: "A web form takes 200 submissions per second on this machine without losing
one (each is a client, a deal, a task)". One JSON line per figure:

- forms_generate: the people written, in seconds;
- forms_submit: the requests posted with the worker running, `per_s` (the requests over
  the time from the first until the last was answered: checked, kept, thanked), target
  ≥ 200 a second on each engine; `filed_per_s`, end to end (the requests over the time
  from the first until the worker has filed the last: its client, deal, call task and the
  events' handlers written); every answer the thank-you page (200), and checked after
  the clock: a request kept for each, a deal
  and a call task for each, a new client for each new visitor and the known person for
  each known one, every new client given to a manager, every deal their owner's and in
  the request stage, no request left with a problem, no event left pending;
- forms_load_before / forms_load_after: the machine's load average.
"""

import random
import sys
import time
from urllib.parse import urlencode

from bench.harness import emit, emit_load, migrated, scaled_main

PEOPLE, REQUESTS, MANAGERS = 200_000, 6_000, 5
TARGET_PER_S = 200
SENDERS = 2  # requests in flight at once
KNOWN_SHARE = 0.1  # requests from people already in the base
BATCH = 10_000
PERSON_COLUMNS = ["id", "first_name", "last_name", "full_name", "kind", "owner_id",
                  "created_by_id", "primary_phone", "primary_email", "source",
                  "created_at", "updated_at"]  # fmt: skip
POINT_COLUMNS = ["id", "person_id", "kind", "value", "label", "position"]
NAMES = ["Anna", "Boris", "Vera", "Grigory", "Daria", "Yegor", "Zoya", "Ilya", "Kira", "Lev"]
SURNAMES = ["Orlova", "Petrov", "Sokolova", "Titov", "Ulanova", "Frolov", "Khanova", "Tsoy"]


def main(argv=None) -> int:
    return scaled_main("bench.forms", __doc__, argv, measure, "fraction of the people and requests")


def measure(args) -> int:
    migrated()
    emit_load("forms_load_before")
    started = time.perf_counter()
    world = generate(args.scale)
    emit("forms_generate", people=world["people"], seconds=round(time.perf_counter() - started, 1))
    requests = plan(world, random.Random(5), int(REQUESTS * args.scale))
    submit(world, requests)
    emit_load("forms_load_after")
    return 0


def phone(n: int) -> str:
    """The n-th number (E.164, Russian mobile), none given twice: people's below 10^7."""
    return f"+7916{n:07d}"


def generate(scale: float) -> dict:
    """The people in bulk (explicit ids, as bench.generate writes them); the users, the
    blueprint and its switch through the services."""
    from datetime import time as clock

    from django.db import connection, transaction
    from django.utils import timezone

    from accord.accounts.services import user_create
    from accord.accounts.services.schedules import schedule_save
    from accord.automation.blueprints import install
    from accord.automation.services import rule_enable
    from accord.contacts.models import ContactPoint, Person
    from accord.core.bulk import Table, reset_sequences
    from accord.marketing.models import WebForm
    from accord.transfer.models import BackupSchedule

    count = int(PEOPLE * scale)
    admin = user_create(email="bench.admin@example.com", password="x" * 12, role="administrator",
                        full_name="Bench Admin")  # fmt: skip
    managers = [
        user_create(email=f"bench.m{n}@example.com", password="x" * 12, role="manager",
                    full_name=f"Manager {n:02}")
        for n in range(MANAGERS)
    ]  # fmt: skip
    for manager in managers:  # at work whenever the bench runs
        schedule_save(actor=admin, user=manager, weekdays=list(range(7)), starts=clock(0),
                      ends=clock(23, 59, 59))  # fmt: skip
    now = timezone.now()
    people, points = Table(Person), Table(ContactPoint)
    for start in range(0, count, BATCH):
        ids = range(start + 1, min(count, start + BATCH) + 1)
        with transaction.atomic():
            rows, contacts = [], []
            for pk in ids:
                owner = managers[pk % MANAGERS].pk
                first, last = NAMES[pk % len(NAMES)], SURNAMES[pk % len(SURNAMES)]
                rows.append((pk, first, last, f"{first} {last}", "client", owner, owner,
                             phone(pk), f"client{pk}@example.com", "bench", now, now))  # fmt: skip
                email = f"client{pk}@example.com"
                contacts += [(2 * pk - 1, pk, "phone", phone(pk), "mobile", 0),
                             (2 * pk, pk, "email", email, "work", 0)]  # fmt: skip
            people.write_columns(PERSON_COLUMNS, rows)
            points.write_columns(POINT_COLUMNS, contacts)
    reset_sequences([Person, ContactPoint])
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    # The day's backup taken already (a new instance's first is due at once).
    BackupSchedule.objects.filter(pk=BackupSchedule.current().pk).update(last_run_at=now)
    for rule in install(actor=admin, name="window-shop"):
        rule_enable(actor=admin, rule=rule, enabled=True)
    form = WebForm.objects.get(name="Window request")
    return {"people": count, "admin": admin, "form": form, "managers": [m.pk for m in managers]}


def plan(world: dict, rng: random.Random, count: int) -> list[dict]:
    """Each request: {"values" (the POST), "address", "known" (the person's pk, or None),
    "email", "phone"} — new visitors' numbers and addresses above the people's."""
    from datetime import timedelta

    from django.utils import timezone

    from accord.marketing.services.forms import STARTED, started_mark

    shown = started_mark(timezone.now() - timedelta(minutes=2))  # the page opened before
    requests = []
    for n in range(count):
        known = rng.randrange(world["people"]) + 1 if rng.random() < KNOWN_SHARE else None
        if known:
            number, email = phone(known), f"client{known}@example.com"
            if rng.random() < 0.5:
                email = ""  # found by the phone alone
        else:
            number, email = phone(10**6 * 5 + n), f"visitor{n}@example.org"
        typed = rng.choice([number, f"8 ({number[2:5]}) {number[5:8]}-{number[8:10]}-{number[10:]}",
                            number.removeprefix("+")])  # fmt: skip
        values = {"name": f"{rng.choice(NAMES)} {rng.choice(SURNAMES)}", "phone": typed,
                  "email": email, "message": f"Three windows for a flat, request {n}",
                  STARTED: shown}  # fmt: skip
        if rng.random() < 0.5:
            values |= {"utm_source": "yandex", "utm_medium": "cpc", "utm_campaign": "balconies",
                       "landing_page": "https://windows.example.com/balconies"}  # fmt: skip
        address = f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"  # a visitor's own
        requests.append({"values": values, "address": address, "known": known,
                         "phone": number, "email": email})  # fmt: skip
    return requests


def post_all(path: str, requests: list[dict]) -> dict:
    """SENDERS processes, each with a test client posting its share one after another;
    timed as a whole; the answers' statuses and whether each was the thank-you page."""
    import multiprocessing

    from django.db import connections

    connections.close_all()  # each process opens its own
    context = multiprocessing.get_context("fork")
    answers = context.Queue()
    lines = [requests[n::SENDERS] for n in range(SENDERS)]
    senders = [context.Process(target=send, args=(path, line, answers)) for line in lines]
    started = time.perf_counter()
    for sender in senders:
        sender.start()
    got = [answers.get() for _sender in senders]
    seconds = time.perf_counter() - started
    for sender in senders:
        sender.join()
    statuses = [status for line in got for status, _thanked in line]
    return {"seconds": round(seconds, 2), "per_s": round(len(requests) / seconds, 1),
            "failures": sum(1 for status in statuses if status != 200),
            "thanked": sum(1 for line in got for _status, thanked in line if thanked)}  # fmt: skip


def send(path: str, line: list[dict], answers) -> None:
    from django.test import Client

    client, got = Client(), []
    for request in line:  # as a browser sends a plain HTML form
        answer = client.post(path, urlencode(request["values"]), REMOTE_ADDR=request["address"],
                             content_type="application/x-www-form-urlencoded",
                             HTTP_ORIGIN="https://windows.example.com")  # fmt: skip
        got.append((answer.status_code, b'role="status"' in answer.content))
    answers.put(got)


def submit(world: dict, requests: list[dict]) -> None:
    """The requests posted while a worker (`accord worker`, as `accord serve` starts it)
    files them; then the time until the last is filed."""
    from django.urls import reverse

    from bench.calls import start_worker, stop_worker

    form = world["form"]
    worker = start_worker()
    try:
        started = time.perf_counter()
        result = post_all(reverse("web_form_public", args=[form.token]), requests)
        filed_at = wait_filed()
    finally:
        stop_worker(worker)
    seconds = filed_at - started
    figures = checked(world, requests)
    figures["all_ok"] = figures["all_ok"] and result["thanked"] == len(requests)
    emit("forms_submit", requests=len(requests), senders=SENDERS, **result,
         target_per_s=TARGET_PER_S, met=result["per_s"] >= TARGET_PER_S,
         filed_s=round(seconds, 2), filed_per_s=round(len(requests) / seconds, 1),
         **figures, people=world["people"])  # fmt: skip


FILED_WITHIN_S = 3600


def wait_filed() -> float:
    """perf_counter() once no request waits to be filed."""
    from accord.marketing.models import Submission

    began = time.monotonic()
    while Submission.objects.filter(state=Submission.PENDING).exists():
        if time.monotonic() - began > FILED_WITHIN_S:
            raise RuntimeError("the worker did not file the requests")
        time.sleep(0.1)
    return time.perf_counter()


def checked(world: dict, requests: list[dict]) -> dict:
    """What the requests left, compared with what was sent."""
    from accord.contacts.models import Person
    from accord.core.models import OutboxEvent
    from accord.marketing.models import Submission
    from accord.sales.models import Deal
    from accord.work.models import Task

    kept = list(Submission.objects.values_list("person_id", "deal_id", "problem"))
    deals = {pk: (owner, position) for pk, owner, position in
             Deal.objects.values_list("pk", "owner_id", "stage__position")}  # fmt: skip
    owners = dict(
        Person.objects.filter(pk__in={p for p, _d, _x in kept}).values_list("pk", "owner_id")
    )
    called = set(Task.objects.filter(kind="call").values_list("deal_id", flat=True))
    new = [r for r in requests if r["known"] is None]
    known = [r for r in requests if r["known"]]
    found = {p for p, _d, _x in kept}
    figures = {
        "kept": len(kept), "with_problem": sum(1 for *_ids, problem in kept if problem),
        "deals": sum(1 for _p, deal, _x in kept if deal in deals),
        "deals_in_request_stage": sum(1 for _p, d, _x in kept if deals.get(d, (0, 1))[1] == 0),
        "deals_of_client_owner": sum(
            1 for p, d, _x in kept if d in deals and deals[d][0] == owners.get(p)
        ),
        "call_tasks": sum(1 for _p, deal, _x in kept if deal in called),
        "new_visitors": len(new),
        "clients_made": Person.objects.filter(pk__gt=world["people"]).count(),
        "new_with_manager": Person.objects.filter(
            pk__gt=world["people"], owner_id__in=world["managers"]
        ).count(),
        "known": len(known), "known_found": sum(1 for r in known if r["known"] in found),
        "events_pending": OutboxEvent.objects.filter(state=OutboxEvent.PENDING).count(),
    }  # fmt: skip
    sent = len(requests)
    figures["all_ok"] = (
        figures["kept"] == figures["deals"] == figures["call_tasks"] == sent
        and figures["deals_in_request_stage"] == figures["deals_of_client_owner"] == sent
        and figures["clients_made"] == figures["new_with_manager"] == len(new)
        and figures["known_found"] == len(known)
        and not figures["with_problem"]
        and not figures["events_pending"]
    )
    return figures


if __name__ == "__main__":
    sys.exit(main())
