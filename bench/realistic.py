"""A realistic import: python -m bench.realistic [--rows 20000] [--engines ...] [--keep].

Writes, under var/bench/, the kind of file people bring from their old CRM or a
spreadsheet: one row in five repeats a person of an earlier row — some with the e-mail in
another case (ANNA@Mail.ru for anna@mail.ru), some only with the phone typed another way
("8 915 1234567" for "+7 (915) 123-45-67") — in three encodings and delimiters: UTF-8
with commas, Windows-1251 with semicolons, UTF-16 with tabs. Then on a database of its
own per engine (like `python -m bench`), one JSON line per figure:

- realistic_import: each file through Accord's import with "update" (duplicates on every
  key, events, the undo log), the rows a second (target ≥ 5,000), and the people made
  against the file's distinct people (they must be equal);
- realistic_reimport: the first file imported again with "update": nothing may change
  (no record created or updated, no event, no timeline entry);
- realistic_events: the import with a rule "a client is created → a task for the owner"
  against one without automation (the same rows, new people both times): the events and
  the queued runs must cost at most 1.5× (target ratio ≤ 1.5), and the queued runs are
  one per new person.
"""

import argparse
import csv
import json
import random
import sys
import time
from pathlib import Path

from bench import databases

TARGET_RATE, TARGET_EVENTS_RATIO = 5_000, 1.5
REPEATS = 0.2  # the share of rows that repeat an earlier row's person
FORMATS = {
    "utf8-comma": ("utf-8", ","),
    "cp1251-semicolon": ("cp1251", ";"),
    "utf16-tab": ("utf-16", "\t"),
}
HEADERS = {
    "utf-8": ["Name", "Phone", "E-mail", "Company", "City", "Tags", "Source"],
    "cp1251": ["ФИО", "Телефон", "E-mail", "Компания", "Город", "Теги", "Источник"],
    "utf-16": ["Full name", "Phone", "Email", "Company", "City", "Tags", "Source"],
}
FIRST = [("Анна", "anna"), ("Мария", "maria"), ("Ольга", "olga"), ("Елена", "elena"),
         ("Иван", "ivan"), ("Дмитрий", "dmitry"), ("Сергей", "sergey"), ("Павел", "pavel"),
         ("Anna", "anna"), ("Ivan", "ivan")]  # fmt: skip
LAST = [("Петрова", "petrova"), ("Иванов", "ivanov"), ("Смирнова", "smirnova"),
        ("Кузнецов", "kuznetsov"), ("Попова", "popova"), ("Соколов", "sokolov"),
        ("Petrova", "petrova"), ("Ivanov", "ivanov")]  # fmt: skip
CITIES = ["Москва", "Санкт-Петербург", "Казань", "Moscow", "Kazan", ""]
DOMAINS = ["mail.ru", "yandex.ru", "gmail.com", "example.com"]
PREFIXES = ["903", "905", "915", "916", "925", "926", "977", "985"]  # Russian mobiles
TAGS = ["", "", "vip", "опт", "vip, опт", "newsletter"]
SOURCES = ["сайт", "звонок", "выставка", "web", ""]


def phone_forms(digits: str) -> list[str]:
    """The ways one Russian mobile number is typed: +7 (915) 123-45-67, 8 915 1234567…"""
    a, b, c, d = digits[:3], digits[3:6], digits[6:8], digits[8:]
    return [f"+7 ({a}) {b}-{c}-{d}", f"8 {a} {b}{c}{d}", f"8 ({a}) {b}-{c}-{d}",
            f"+7{digits}", f"7 {a} {b} {c} {d}", f"8-{a}-{b}-{c}-{d}"]  # fmt: skip


def people_rows(rows: int, seed: int) -> tuple[list[list[str]], int]:
    """The file's rows and how many distinct people they hold."""
    rng = random.Random(seed)
    # A number each: no two people of a file share one, nor two files of other seeds.
    numbers = rng.sample(range(10**6), k=rows)
    people: list[dict] = []
    out = []
    for n in range(rows):
        if people and rng.random() < REPEATS:
            person = rng.choice(people)
            if person["email"] and (not person["phone"] or rng.random() < 0.5):
                email = rng.choice([person["email"].upper(), person["email"].title()])
                phone = ""
            else:
                email, phone = "", rng.choice(phone_forms(person["phone"]))
            out.append([person["name"], phone, email, *person["rest"]])
            continue
        (first, first_latin), (last, last_latin) = rng.choice(FIRST), rng.choice(LAST)
        digits = f"{rng.choice(PREFIXES)}{seed % 10}{numbers[n]:06d}"
        kind = rng.random()
        email = f"{first_latin}.{last_latin}.{seed}.{n}@{rng.choice(DOMAINS)}"
        person = {
            "name": f"{first} {last}",
            "phone": "" if kind < 0.1 else digits,  # some have no phone, some no e-mail
            "email": "" if 0.1 <= kind < 0.25 else email,
            "rest": [
                f"ООО Компания {rng.randrange(500)}" if rng.random() < 0.4 else "",
                rng.choice(CITIES),
                rng.choice(TAGS),
                rng.choice(SOURCES),
            ],
        }
        people.append(person)
        phone = rng.choice(phone_forms(person["phone"])) if person["phone"] else ""
        out.append([person["name"], phone, person["email"], *person["rest"]])
    return out, len(people)


def write_file(path: Path, rows: int, *, encoding: str, delimiter: str, seed: int = 15) -> int:
    """Write the file; answers how many distinct people it holds."""
    lines, distinct = people_rows(rows, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding=encoding) as stream:
        writer = csv.writer(stream, delimiter=delimiter)
        writer.writerow(HEADERS[encoding])
        writer.writerows(lines)
    return distinct


def parse(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.realistic", description=__doc__)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--rows", type=int, default=20_000)  # at most 1,000,000
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse(argv)
    if args.inside:
        return measure(args.rows)
    return databases.run_inside(
        "bench.realistic", ["--rows", str(args.rows)], args.engines, args.keep
    )


def emit(figure: str, **fields) -> None:
    print(json.dumps({"figure": figure, **fields}, ensure_ascii=False), flush=True)


def measure(rows: int) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from accord.accounts.services import user_create

    call_command("migrate", interactive=False, verbosity=0)
    admin = user_create(email="bench.real@example.com", password="x" * 12, role="administrator")
    vendor = connection.vendor
    seed = 100
    for name, (encoding, delimiter) in FORMATS.items():
        seed += 1
        path = databases.DATA_DIR / f"realistic-{rows}-{name}.csv"
        distinct = write_file(path, rows, encoding=encoding, delimiter=delimiter, seed=seed)
        result = import_file(admin, path)
        met = result["rows_per_s"] >= TARGET_RATE and result["people_made"] == distinct
        emit("realistic_import", db=vendor, format=name, distinct_people=distinct, **result,
             target_rows_per_s=TARGET_RATE, met=met)  # fmt: skip
        if name == "utf8-comma":
            again = import_file(admin, path)
            emit("realistic_reimport", db=vendor, format=name, **again,
                 met=again["created"] == again["updated"] == again["events"] == 0
                 and again["timeline_entries"] == 0)  # fmt: skip
    measure_events(admin, rows, vendor)
    return 0


def measure_events(admin, rows: int, vendor: str) -> None:
    """The same kind of file with automation off, then with a rule on new clients."""
    from accord.automation.models import Run
    from accord.automation.services import rule_save

    off_path = databases.DATA_DIR / f"realistic-{rows}-off.csv"
    on_path = databases.DATA_DIR / f"realistic-{rows}-on.csv"
    write_file(off_path, rows, encoding="utf-8", delimiter=",", seed=104)
    distinct = write_file(on_path, rows, encoding="utf-8", delimiter=",", seed=105)
    off = import_file(admin, off_path, automation=False)
    rule_save(actor=admin, data={
        "name": "Call new clients", "subject": "person", "trigger": "created", "enabled": True,
        "actions": [{"type": "create_task", "params": {
            "title": "Call {{ person.first_name }}", "assignee": {"to": "owner"},
            "due_in": {"amount": 1, "unit": "days"}}}],
    })  # fmt: skip
    before = Run.objects.count()
    on = import_file(admin, on_path)
    queued = Run.objects.count() - before
    ratio = round(on["seconds"] / off["seconds"], 2) if off["seconds"] else None
    emit("realistic_events", db=vendor, rows=rows, seconds_without=off["seconds"],
         seconds_with=on["seconds"], ratio=ratio, runs_queued=queued, new_people=distinct,
         target_ratio=TARGET_EVENTS_RATIO,
         met=ratio is not None and ratio <= TARGET_EVENTS_RATIO and queued == distinct)  # fmt: skip


def import_file(admin, path: Path, *, automation: bool = True) -> dict:
    from django.core.files import File

    from accord.contacts.models import Person
    from accord.core.events import subscribe, unsubscribe
    from accord.core.models import TimelineEvent
    from accord.transfer import services
    from accord.transfer.models import ImportJob

    with path.open("rb") as stream:
        job = services.import_upload(
            actor=admin, upload=File(stream, name=path.name), record_type="people"
        )
    services.import_configure(actor=admin, job=job, mapping=job.mapping, match_by="email",
                              on_duplicate="update", run_automation=automation)  # fmt: skip
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.QUEUED)
    people, entries = Person.objects.count(), TimelineEvent.objects.count()
    events = []

    def count(event):
        if event.name.startswith(("person.", "company.")):
            events.append(event.name)

    subscribe("*")(count)
    started = time.perf_counter()
    try:
        services.import_run(job.pk)
    finally:
        seconds = time.perf_counter() - started
        unsubscribe(count)
    job.refresh_from_db()
    return {
        "status": job.status,
        "encoding": job.encoding,
        "rows": job.rows_done,
        "created": job.created,
        "updated": job.updated,
        "skipped": job.skipped,
        "failed": job.failed,
        "people_made": Person.objects.count() - people,
        "events": len(events),
        "timeline_entries": TimelineEvent.objects.count() - entries,
        "seconds": round(seconds, 2),
        "rows_per_s": round(job.rows_done / seconds) if seconds else 0,
    }


if __name__ == "__main__":
    sys.exit(main())
