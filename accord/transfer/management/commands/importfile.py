"""`accord import FILE --type people`: import a CSV or XLSX file from the command line,
the same way the screen does (the same checks, duplicates, report and undo)."""

import json
import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accord.accounts.models import User
from accord.core.errors import one_line
from accord.transfer import services
from accord.transfer.models import ImportJob


class Command(BaseCommand):
    help = "Import people or companies from a CSV or XLSX file."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--type", dest="record_type", default="people")
        parser.add_argument("--map", dest="map_file", default="")
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--user", default="")
        parser.add_argument("--match-by", default=None)
        parser.add_argument("--on-duplicate", default="skip")
        parser.add_argument("--encoding", default="")
        parser.add_argument("--delimiter", default="")
        parser.add_argument("--no-automation", action="store_true")
        parser.add_argument("--region", default="")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        actor = self._actor(options["user"])
        try:
            with path.open("rb") as stream:
                job = services.import_upload(
                    actor=actor,
                    upload=File(stream, name=path.name),
                    record_type=options["record_type"],
                    encoding=options["encoding"],
                    delimiter=options["delimiter"],
                )
            mapping = self._mapping(job, options["map_file"])
            services.import_configure(
                actor=actor,
                job=job,
                mapping=mapping,
                match_by=job.match_by if options["match_by"] is None else options["match_by"],
                on_duplicate=options["on_duplicate"],
                run_automation=not options["no_automation"],
                region=options["region"],
            )
        except ValidationError as error:
            raise CommandError(one_line(error)) from None
        columns = ", ".join(f"{job.header[int(c)]} -> {t}" for c, t in job.mapping.items())
        self.stderr.write(f"{job.file_name}: {job.kind}, {job.encoding or '-'}; {columns}")
        job.status = ImportJob.QUEUED
        job.save(update_fields=["status"])
        if options["dry_run"]:
            with transaction.atomic():
                services.import_run(job.pk)
                job.refresh_from_db()
                self._report(job, dry=True)
                transaction.set_rollback(True)
            ImportJob.objects.filter(pk=job.pk).delete()
            return
        services.import_run(job.pk)
        job.refresh_from_db()
        self._report(job, dry=False)
        if job.status == ImportJob.FAILED:
            raise CommandError(job.error)

    def _actor(self, email: str) -> User:
        users = User.objects.filter(is_active=True)
        actor = (
            users.filter(email__iexact=email).first()
            if email
            else users.filter(role__can_import=True, role__slug="administrator").first()
        )
        if actor is None:
            raise CommandError(
                f"no active user {email}" if email else "no administrator: pass --user EMAIL"
            )
        return actor

    def _mapping(self, job: ImportJob, map_file: str) -> dict:
        if not map_file:
            return job.mapping  # guessed from the header
        try:
            given = json.loads(Path(map_file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CommandError(f"cannot read {map_file}: {error}") from None
        by_name = {title: str(n) for n, title in enumerate(job.header)}
        return {by_name.get(str(column), str(column)): target for column, target in given.items()}

    def _report(self, job: ImportJob, *, dry: bool) -> None:
        label = "would be" if dry else ""
        sys.stdout.write(
            f"{job.rows_done} rows: {job.created} {label} created, {job.updated} {label} "
            f"updated, {job.skipped} skipped, {job.failed} failed\n".replace("  ", " ")
        )
        for failure in job.failures.all()[:20]:
            sys.stdout.write(f"  row {failure.row}: {failure.reason}\n")
        warnings = job.warnings.all()
        if warnings:
            sys.stdout.write(f"{warnings.count()} warnings (imported, kept as typed):\n")
        for warning in warnings[:20]:
            sys.stdout.write(
                f"  row {warning.row}, {warning.column} {warning.value!r}: {warning.message}\n"
            )
