"""Fill an empty Accord database with a client base: python -m bench.generate --people N.

Run it with DATABASE_URL (and ACCORD_DATA_DIR, ACCORD_PHONE_REGION=RU) pointing at a
database of its own; `python -m bench` does that. Records are built in batches and
written in bulk, so memory stays flat whatever the size.
"""

import argparse
import json
import resource
import sys
import time

import django


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--companies", type=int, default=1_000)
    parser.add_argument("--batch", type=int, default=5_000, help="records per transaction")
    parser.add_argument("--seed", default="accord")
    return parser.parse_args(argv)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def log(message: str) -> None:
    print(f"[generate] {message}", file=sys.stderr, flush=True)


def prepare_database() -> None:
    """Tables, and SQLite pragmas for a fast bulk load."""
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", interactive=False, verbosity=0)
    from accord.contacts.models import Person

    if Person.objects.exists():
        raise SystemExit("bench.generate: the database has people already; give it an empty one.")
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size=-262144")  # 256 MB while loading
            cursor.execute("PRAGMA synchronous=OFF")


def finish_database() -> None:
    """Sequences after the explicit ids; PostgreSQL statistics, as autovacuum would make."""
    from django.db import connection

    from accord.contacts.models import Company, ContactPoint, Person
    from accord.core.bulk import reset_sequences
    from accord.core.models import SearchEntry, TimelineEvent

    reset_sequences(
        [
            Person,
            Company,
            ContactPoint,
            Person.tags.through,
            Company.tags.through,
            SearchEntry,
            TimelineEvent,
        ]
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    django.setup()
    from django.db import connection
    from django.utils import timezone

    from bench.loader import Loader
    from bench.org import make_org
    from bench.phones import self_test

    started = time.perf_counter()
    self_test()
    prepare_database()
    loader = Loader(make_org(), now=timezone.now(), seed=args.seed)
    loader.companies(args.companies, args.batch)
    loader.people(args.people, args.batch)
    loader.card_timeline(args.people)
    finish_database()
    seconds = time.perf_counter() - started
    log(f"done: {loader.rows:,} rows in {seconds:.0f} s, peak RSS {rss_mb():.0f} MB")
    print(
        json.dumps(
            {
                "figure": "generate",
                "db": connection.vendor,
                "people": args.people,
                "companies": args.companies,
                "rows": loader.rows,
                "seconds": round(seconds, 1),
                "rows_per_s": round(loader.rows / seconds),
                "peak_rss_mb": round(rss_mb()),
                "rss_by_progress_mb": loader.rss_trail,
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
