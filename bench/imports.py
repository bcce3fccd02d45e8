"""Importing a big file: python -m bench.imports [--rows 1000000] [--engines ...] [--keep].

Writes a CSV of people once (15 columns; phones in the ways people type them; one row in
five repeats an earlier row's e-mail or phone) under var/bench/, then on a database of
its own per engine (like `python -m bench`) measures, one JSON line per figure:

- raw: the same rows' people inserted straight (executemany on SQLite, COPY on
  PostgreSQL), the floor an import is compared with;
- import: the rows through Accord's import (checks, duplicates by e-mail, contact
  points, tags, search, timeline, the undo log), target ≥ 10,000 rows a second on SQLite
  and ≥ 8,000 on PostgreSQL (issue #15, at 1,000,000 rows); the resident memory (with
  the import's cleaning process) sampled each second, peak ≤ 300 MB and flat as the
  file is read.
"""

import argparse
import csv
import json
import os
import random
import sys
import threading
import time
from pathlib import Path

from bench import databases

COLUMNS = ["First name", "Last name", "Middle name", "Phone", "Mobile", "E-mail",
           "Company", "City", "Country", "Address", "Source", "Tags", "Birthday", "Gender",
           "Note"]  # fmt: skip
FIRST = ["Anna", "Maria", "Olga", "Ivan", "Dmitry", "Sergey", "David", "Noa", "Tigran",
         "Lena", "Анна", "Мария", "Ольга", "Иван", "Дмитрий", "Сергей", "Давид", "Ноа",
         "Тигран"]  # fmt: skip
LAST = ["Petrova", "Ivanov", "Cohen", "Levi", "Hakobyan", "Smirnova", "Brandt", "Weber",
        "Петрова", "Иванов", "Коэн", "Леви", "Акопян", "Смирнова"]  # fmt: skip
CITIES = [("Moscow", "RU"), ("Haifa", "IL"), ("Yerevan", "AM"), ("Berlin", "DE"), ("Riga", "LV")]
TARGET_RATES, TARGET_RSS_MB = {"sqlite": 10_000, "postgresql": 8_000}, 300


def parse(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.imports", description=__doc__)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse(argv)
    path = csv_path(args.rows)
    if args.inside:
        return measure(args, path)
    if not path.exists():
        started = time.perf_counter()
        write_csv(path, args.rows)
        size = round(path.stat().st_size / 2**20, 1)
        emit(
            "import_file", rows=args.rows, mb=size, seconds=round(time.perf_counter() - started, 1)
        )
    return databases.run_inside(
        "bench.imports", ["--rows", str(args.rows)], args.engines, args.keep
    )


def csv_path(rows: int) -> Path:
    return databases.DATA_DIR / f"import-{rows}.csv"


MOBILE_CODES = ["901", "903", "905", "915", "916", "917", "925", "926", "963", "977", "985", "999"]


def phone(rng: random.Random) -> str:
    """A number as people type it: with or without +7 or 8, brackets, dashes, spaces."""
    digits = f"{rng.choice(MOBILE_CODES)}{rng.randrange(10**7):07d}"  # valid numbers only
    a, b, c, d = digits[:3], digits[3:6], digits[6:8], digits[8:]
    forms = [f"+7 {a} {b}-{c}-{d}", f"8 ({a}) {b}-{c}-{d}", f"+7{digits}", f"8{digits}",
             f"7-{a}-{b}-{c}-{d}", f"+7 ({a}) {b} {c} {d}"]  # fmt: skip
    return rng.choice(forms)


def write_csv(path: Path, rows: int) -> None:
    rng = random.Random(7)
    path.parent.mkdir(parents=True, exist_ok=True)
    earlier: list[tuple[str, str]] = []
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(COLUMNS)
        for n in range(rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            number, email = phone(rng), f"p{n}@example.com"
            if n % 5 == 4 and earlier:  # a duplicate of an earlier row
                old_phone, old_email = rng.choice(earlier)
                if rng.random() < 0.5:
                    email = old_email
                else:
                    number = old_phone
            elif len(earlier) < 10_000:
                earlier.append((number, email))
            else:
                earlier[rng.randrange(10_000)] = (number, email)
            city, country = rng.choice(CITIES)
            birthday = (
                f"{rng.randrange(1, 29):02d}.{rng.randrange(1, 13):02d}.{rng.randrange(1950, 2005)}"
            )
            writer.writerow(
                [
                    first,
                    last,
                    "",
                    number,
                    phone(rng) if n % 3 == 0 else "",
                    email,
                    f"Company {rng.randrange(2000)}" if n % 2 else "",
                    city,
                    country,
                    f"{rng.randrange(1, 200)} Main street",
                    rng.choice(["web", "fair", "referral"]),
                    rng.choice(["", "vip", "b2b, vip", "newsletter"]),
                    birthday,
                    rng.choice(["female", "male", ""]),
                    "",
                ]
            )


def emit(figure: str, **fields) -> None:
    print(json.dumps({"figure": figure, **fields}), flush=True)


def rss_mb() -> float:
    """This process's resident memory and its children's (the import's cleaning process)."""
    pids = [str(os.getpid())]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        if fields[1] == pids[0]:  # its parent is this process
            pids.append(stat.parent.name)
    pages = 0
    for pid in pids:
        try:
            pages += int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except OSError:
            continue
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def quarters(samples: list[float]) -> list[float]:
    """The largest sample of each quarter of the run: flat memory shows as equal ones."""
    quarter = max(len(samples) // 4, 1)
    return [max(samples[i : i + quarter]) for i in range(0, len(samples), quarter)]


class Sampler(threading.Thread):
    """The process's resident memory once a second, and the job's rows done then."""

    def __init__(self, job_id=None):
        super().__init__(daemon=True)
        self.job_id, self.samples, self.stop = job_id, [], threading.Event()

    def run(self):
        while not self.stop.wait(1.0):
            self.samples.append(round(rss_mb(), 1))


def measure(args, path: Path) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", interactive=False, verbosity=0)
    vendor = connection.vendor
    raw = raw_insert(path)
    emit("import_raw", db=vendor, rows=raw["rows"], seconds=raw["seconds"], rows_per_s=raw["rate"])
    result = run_import(path)
    emit(
        "import",
        db=vendor,
        **result,
        raw_ratio=round(raw["rate"] / result["rows_per_s"], 1) if result["rows_per_s"] else None,
        target_rows_per_s=TARGET_RATES[vendor],
        met=result["rows_per_s"] >= TARGET_RATES[vendor] and result["peak_rss_mb"] <= TARGET_RSS_MB,
    )
    return 0


def raw_insert(path: Path) -> dict:
    """The file's people written straight into the table, 5,000 rows a statement."""
    from django.db import transaction
    from django.utils import timezone

    from accord.accounts.services import user_create
    from accord.contacts.models import Person
    from accord.core.bulk import Table

    admin = user_create(email="bench.import@example.com", password="x" * 12, role="administrator")
    table, now, rows, batch = Table(Person), timezone.now(), 0, []
    started = time.perf_counter()
    with path.open(newline="", encoding="utf-8") as stream, transaction.atomic():
        reader = csv.reader(stream)
        next(reader)
        for first, last, _m, phone_, _mobile, email, *_rest in reader:
            batch.append(
                {
                    "id": None,
                    "first_name": first,
                    "last_name": last,
                    "full_name": f"{first} {last}",
                    "primary_phone": phone_,
                    "primary_email": email,
                    "owner_id": admin.pk,
                    "created_by_id": admin.pk,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            if len(batch) == 5000:
                rows += write_raw(table, batch)
                batch = []
        rows += write_raw(table, batch)
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)  # the import then starts from an empty table
    return {"rows": rows, "seconds": round(seconds, 1), "rate": round(rows / seconds)}


def write_raw(table, batch: list[dict]) -> int:
    from accord.core.bulk import insert

    columns = [c for c, a in zip(table.columns, table.attnames, strict=True) if a != "id"]
    values = [v[1:] for v in (table.values(row) for row in batch)]  # without the id
    return insert(table.name, columns, values)


def run_import(path: Path) -> dict:
    from django.core.files import File

    from accord.accounts.models import User
    from accord.transfer import services
    from accord.transfer.models import ImportJob

    admin = User.objects.get(email="bench.import@example.com")
    with path.open("rb") as stream:
        job = services.import_upload(
            actor=admin, upload=File(stream, name=path.name), record_type="people"
        )
    services.import_configure(
        actor=admin, job=job, mapping=job.mapping, match_by="email", on_duplicate="skip"
    )
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.QUEUED)
    sampler = Sampler()
    start_rss = rss_mb()
    sampler.start()
    started = time.perf_counter()
    services.import_run(job.pk)
    seconds = time.perf_counter() - started
    sampler.stop.set()
    job.refresh_from_db()
    samples = sampler.samples or [rss_mb()]
    return {
        "status": job.status,
        "rows": job.rows_done,
        "created": job.created,
        "skipped": job.skipped,
        "failed": job.failed,
        "seconds": round(seconds, 1),
        "rows_per_s": round(job.rows_done / seconds) if seconds else 0,
        "rss_start_mb": round(start_rss, 1),
        "peak_rss_mb": max(samples),
        "rss_by_quarter_mb": quarters(samples),
    }


if __name__ == "__main__":
    sys.exit(main())
