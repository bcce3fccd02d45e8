"""Taking everything out: python -m bench.transfer [--people 1000000] [--engines ...].

On a database of its own per engine, filled by the generator (`bench.generate`: people,
companies, their phones, e-mails and tags), measures, one JSON line per figure:

- export: every person to CSV through Accord's export (the worker's path), with the
  people list's columns and with every field, target ≥ 50,000 rows a second, resident
  memory sampled each second and flat; the Export button's part (the job made and
  queued) ≤ 200 ms;
- backup: `accord backup` of the whole instance, target ≤ 2 minutes;
- restore: `accord restore` of that archive into a new, empty database, target ≤ 2
  minutes, with every table's count and checksum equal to the backup's manifest (the
  restore checks them and fails otherwise).
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench import databases
from bench.imports import Sampler, emit, quarters, rss_mb

TARGET_EXPORT_RATE, TARGET_SECONDS, TARGET_REQUEST_MS = 50_000, 120, 200
RESTORE_DB = f"{databases.PG_NAME}_restore"  # beside BENCH_PG_NAME: checkouts do not collide


def parse(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.transfer", description=__doc__)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="measure a kept database again")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--export-only", action="store_true", help="no backup and restore")
    parser.add_argument("--inside", choices=["export-backup", "restore"], help=argparse.SUPPRESS)
    parser.add_argument("--archive", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse(argv)
    if args.inside == "export-backup":
        return export_and_backup()
    if args.inside == "restore":
        return restore(Path(args.archive))
    failed = False
    for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
        env = databases.environment(engine)
        python = [sys.executable, "-m"]
        try:
            if not args.reuse:
                databases.create(engine)
                sizes = ["--people", str(args.people), "--companies", str(args.people // 10)]
                subprocess.run([*python, "bench.generate", *sizes], env=env, check=True)  # noqa: S603
            archive = databases.DATA_DIR / f"backup-{engine}.tar.gz"
            archive.unlink(missing_ok=True)
            env_out = {**env, "ACCORD_BENCH_ARCHIVE": str(archive)}
            if args.export_only:
                env_out["ACCORD_BENCH_EXPORT_ONLY"] = "1"
            inside = [*python, "bench.transfer", "--inside", "export-backup"]
            run = subprocess.run(inside, env=env_out)  # noqa: S603
            failed |= run.returncode != 0
            if run.returncode == 0 and not args.export_only:
                failed |= restore_elsewhere(engine, archive) != 0
        finally:
            if not args.keep:
                databases.drop(engine)
    return 1 if failed else 0


def restore_elsewhere(engine: str, archive: Path) -> int:
    """Restore into a new, empty database and data directory beside the bench's own."""
    env = databases.environment(engine)
    target = databases.DATA_DIR / "restored"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    if engine == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{target / 'accord.sqlite3'}"
    else:
        with databases._pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{RESTORE_DB}"')
            admin.execute(f'CREATE DATABASE "{RESTORE_DB}"')
        env["DATABASE_URL"] = env["DATABASE_URL"].rsplit("/", 1)[0] + f"/{RESTORE_DB}"
    env["ACCORD_DATA_DIR"] = str(target)
    command = [sys.executable, "-m", "bench.transfer", "--inside", "restore", "--archive"]
    try:
        return subprocess.run([*command, str(archive)], env=env).returncode  # noqa: S603
    finally:
        if engine == "postgresql":
            with databases._pg_admin() as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{RESTORE_DB}"')
        shutil.rmtree(target, ignore_errors=True)


def export_and_backup() -> int:
    import django

    django.setup()
    from django.db import connection

    from accord.accounts.models import User
    from accord.accounts.services import user_create
    from accord.contacts.columns import DEFAULT
    from accord.contacts.models import Person
    from accord.transfer import exporting, services
    from accord.transfer.backup import make_backup

    vendor = connection.vendor
    admin = User.objects.filter(role__slug="administrator", is_active=True).first()
    if admin is None:  # the generator's company has no administrator; exports see all
        admin = user_create(email="bench.export@example.com", password="x" * 12,
                            role="administrator")  # fmt: skip
    people = Person.objects.count()
    for figure, columns in (("export_csv_shown", DEFAULT["person"]), ("export_csv_all", None)):
        started = time.perf_counter()  # the Export button's part: the job, queued
        job = services.export_create(actor=admin, record_type="people", fmt="csv", columns=columns)
        request_ms = round((time.perf_counter() - started) * 1000, 1)
        sampler, start_rss = Sampler(), rss_mb()
        sampler.start()
        started = time.perf_counter()
        services.export_run(job.pk)  # the worker's part
        seconds = time.perf_counter() - started
        sampler.stop.set()
        job.refresh_from_db()
        samples = sampler.samples or [rss_mb()]
        rate = round(job.rows_done / seconds)
        emit(
            figure,
            db=vendor,
            columns=len(exporting.columns_for("person", columns, [])),
            status=job.status,
            rows=job.rows_done,
            people=people,
            mb=round(Path(job.file.path).stat().st_size / 2**20, 1),
            seconds=round(seconds, 1),
            rows_per_s=rate,
            rss_start_mb=round(start_rss, 1),
            peak_rss_mb=max(samples),
            rss_by_quarter_mb=quarters(samples),
            target_rows_per_s=TARGET_EXPORT_RATE,
            request_ms=request_ms,
            target_request_ms=TARGET_REQUEST_MS,
            met=rate >= TARGET_EXPORT_RATE
            and job.rows_done == people
            and request_ms <= TARGET_REQUEST_MS,
        )
        Path(job.file.path).unlink()
    if os.environ.get("ACCORD_BENCH_EXPORT_ONLY"):
        return 0
    archive = Path(os.environ["ACCORD_BENCH_ARCHIVE"])
    archive.unlink(missing_ok=True)
    started = time.perf_counter()
    path, manifest = make_backup(archive)
    seconds = time.perf_counter() - started
    emit(
        "backup",
        db=vendor,
        people=manifest["tables"]["contacts_person"]["rows"],
        rows=sum(table["rows"] for table in manifest["tables"].values()),
        mb=round(path.stat().st_size / 2**20, 1),
        seconds=round(seconds, 1),
        target_seconds=TARGET_SECONDS,
        met=seconds <= TARGET_SECONDS,
    )
    return 0


def restore(archive: Path) -> int:
    import django

    django.setup()
    from django.db import connection

    from accord.transfer.backup import BackupError
    from accord.transfer.backup import restore as restore_archive

    vendor = connection.vendor
    started = time.perf_counter()
    try:
        manifest = restore_archive(archive)
    except BackupError as error:
        emit("restore", db=vendor, error=str(error), met=False)
        return 1
    seconds = time.perf_counter() - started
    emit(
        "restore",
        db=vendor,
        people=manifest["tables"]["contacts_person"]["rows"],
        tables=len(manifest["tables"]),
        rows=sum(table["rows"] for table in manifest["tables"].values()),
        counts_and_checksums_equal=True,  # restore refuses to finish otherwise
        seconds=round(seconds, 1),
        target_seconds=TARGET_SECONDS,
        met=seconds <= TARGET_SECONDS,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
