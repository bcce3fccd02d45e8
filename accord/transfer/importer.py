"""Writing an import's cleaned rows (`cleaning.py` makes them) through the contacts batch
service (`accord.contacts.services.batch`), which finds duplicates on every key and writes the
records with their contact points, tags, search entries, timeline, lead distribution
and events; here each batch goes in one transaction with the job's undo log, its failed
rows and its checkpoint, so a batch is either wholly saved and counted or not at all."""

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.contacts.services import (
    ClientBatches,
    clients_batch_duplicates,
    clients_batch_save,
)
from accord.core.bulk import Table
from accord.core.custom_fields import active_fields
from accord.core.events import emit
from accord.transfer.cleaning import Cleaner, Row
from accord.transfer.mapping import targets_for
from accord.transfer.models import ImportChange, ImportFailure, ImportJob, ImportWarning


class Importer:
    """Writes one job's cleaned rows, a batch at a time (its `cleaner` cleans them)."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.kind = "person" if job.record_type == "people" else "company"
        self.cleaner = Cleaner.for_job(job)
        self.clean = self.cleaner.clean
        self.batches = ClientBatches(
            actor=job.created_by,
            kind=self.kind,
            on_duplicate=job.on_duplicate,
            match=bool(job.match_by),
            team=job.assign_team,
            cause=job.cause,
            origin={"import_id": job.pk, "file": job.file_name},
        )
        self.changes = Table(ImportChange, with_id=False)
        self.failures = Table(ImportFailure, with_id=False)
        self.warnings = Table(ImportWarning, with_id=False)
        self.labels = {
            t.name: str(t.label) for t in targets_for(job.record_type, active_fields(self.kind))
        }
        self.labels.update({"record": str(_("Client"))})

    def duplicates(self, rows: list[Row]) -> set[int]:
        """The numbers of the rows that repeat a client in Accord or a row above."""
        return clients_batch_duplicates(batches=self.batches, items=rows)

    def write(self, rows: list[Row], checkpoint: int) -> None:
        """Save a batch of cleaned rows and move the job's checkpoint past them, at once."""
        now = timezone.now()
        failures = [r for r in rows if r.problems]
        good = [r for r in rows if not r.problems]
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # A batch lost in a crash goes with its checkpoint, so the resumed import
                # writes it again: its commit need not wait for the disk.
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
            outcome = clients_batch_save(batches=self.batches, items=good)
            for row in good:
                if row.number in outcome.refused:
                    row.problems["record"] = outcome.refused[row.number]
                    failures.append(row)
            self.changes.write_columns(
                ["job_id", "action", "record_id", "row", "version", "before"],
                [(self.job.pk, c["action"], c["record_id"], c["row"], c["version"],
                  c.get("before")) for c in outcome.changes],
            )  # fmt: skip
            self.failures.write_columns(
                ["job_id", "row", "values", "reason"],
                [(self.job.pk, r.number, r.raw, describe(r.problems, self.labels))
                 for r in failures],
            )  # fmt: skip
            counts = {**outcome.counts, "failed": len(failures)}
            self._warn([r for r in rows if r.warnings and not r.problems])
            ImportJob.objects.filter(pk=self.job.pk).update(
                rows_done=checkpoint,
                beat_at=now,
                **{name: F(name) + n for name, n in counts.items()},
            )
            # After the batch's records' events: what they started may now go to the worker.
            emit("import.batch_saved", import_id=self.job.pk, rows_done=checkpoint)

    def _warn(self, rows: list[Row]) -> None:
        """The report's warnings: what a row kept as typed (a phone not valid in its country)."""
        header = self.job.header
        self.warnings.write_columns(
            ["job_id", "row", "column", "value", "message"],
            [(self.job.pk, row.number,
              header[column][:255] if column < len(header) else str(column + 1),
              value[:255], message)
             for row in rows for column, value, message in row.warnings],
        )  # fmt: skip


def describe(problems: dict[str, str], labels: dict[str, str] | None = None) -> str:
    """ "Phone: … E-mail: …", each problem after the name of its field."""
    labels = labels or {}
    return " ".join(
        f"{labels.get(target, target)}: {message}" for target, message in problems.items()
    )
