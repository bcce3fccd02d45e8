"""What the worker runs for the transfer jobs: an import read from its checkpoint to its
end, a batch at a time, and a big export's file. Only tasks.py and the commands that run a
job at once call these; the services queue them."""

import logging
from contextlib import closing
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accord.contacts.models import Company, Person
from accord.core.bulk import build_indexes, drop_indexes, fewer_collections, list_indexes
from accord.core.custom_fields import active_fields
from accord.core.events import emit
from accord.transfer import exporting
from accord.transfer.cleaning import batches
from accord.transfer.importer import Importer
from accord.transfer.models import ExportJob, ImportJob
from accord.transfer.queries import export_queryset
from accord.transfer.reading import FileProblem, read_rows

log = logging.getLogger(__name__)

# Rows a batch: each is one transaction with its checkpoint. On SQLite it holds the one
# write lock while it writes, so a thousand (a fifth of a second) lets the people using
# Accord meanwhile save in between; PostgreSQL has no such lock, and each batch costs it
# round trips, a commit with its foreign keys checked and the events' dispatch: five
# thousand made a realistic file a fifth to a third faster (docs/performance.md).
BATCHES = {"sqlite": 1000, "postgresql": 5000}


STALE = timedelta(minutes=2)  # a running import without a checkpoint for this long died


# An import of this many rows or more, into a table it at least doubles, loads without
# the table's list indexes (one per sortable column) and builds them at its end: a
# million people go in several times faster, and lists sort slower only meanwhile.
BULK_ROWS = 50_000


KEPT_INDEXES = {"person_external_id", "company_external_id"}  # the import's own lookups


def count_rows(job: ImportJob) -> int:
    """Rows in the file below the header (read once, in bounded memory)."""
    return sum(1 for _row in read_rows(Path(job.file.path), job.table())) - 1


def import_run(job_id: int) -> None:
    """The worker's part: read the file from the checkpoint on, a batch at a time, each
    batch saved with the checkpoint in one transaction. Run again after a crash, it goes
    on from the last saved batch: no row is saved twice."""

    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status not in (ImportJob.QUEUED, ImportJob.RUNNING):
            return
        if job.status == ImportJob.RUNNING and job.beat_at and timezone.now() - job.beat_at < STALE:
            return  # another worker has it
        job.status, job.beat_at = ImportJob.RUNNING, timezone.now()
        job.started_at = job.started_at or job.beat_at
        job.save(update_fields=["status", "beat_at", "started_at"])
    try:
        if job.rows_total is None:
            job.rows_total = count_rows(job)
            ImportJob.objects.filter(pk=job.pk).update(rows_total=job.rows_total)
        _set_indexes_aside(job)
        importer = Importer(job)
        # closing: a failed batch stops the thread cleaning the next ones at once
        size = BATCHES[connection.vendor]
        with fewer_collections(), closing(batches(job, importer.cleaner, size)) as cleaned:
            for batch, checkpoint in cleaned:
                importer.write(batch, checkpoint)
    except FileProblem as problem:
        _stop(job, _("Stopped after row %(row)s: %(reason)s") % {
            "row": ImportJob.objects.get(pk=job.pk).rows_done + 1, "reason": problem,
        })  # fmt: skip
        return
    except Exception as error:
        log.exception("import %s failed", job.pk)
        _stop(job, _("Stopped by an error: %(error)s") % {"error": error})
        raise
    finally:
        _build_indexes(job)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.DONE, finished_at=timezone.now(), beat_at=timezone.now()
    )
    emit("import.finished", import_id=job.pk, actor_id=job.created_by_id)


def _model(job: ImportJob):

    return Person if job.record_type == "people" else Company


def _set_indexes_aside(job: ImportJob) -> None:

    if job.indexes_aside or job.rows_done or (job.rows_total or 0) < BULK_ROWS:
        return
    model = _model(job)
    if model.objects.count() > job.rows_total:
        return  # a big table: its lists stay fast while the import runs
    ImportJob.objects.filter(pk=job.pk).update(indexes_aside=True)  # first: never forgotten
    job.indexes_aside = True
    drop_indexes(model, list_indexes(model, keep=KEPT_INDEXES))
    log.info("import %s: list indexes set aside for the load", job.pk)


def _build_indexes(job: ImportJob) -> None:
    """Build the list indexes an import set aside; again after a crash in the middle."""

    if not job.indexes_aside:
        return
    model = _model(job)
    built = build_indexes(model, list_indexes(model, keep=KEPT_INDEXES))
    ImportJob.objects.filter(pk=job.pk).update(indexes_aside=False)
    job.indexes_aside = False
    log.info("import %s: list indexes built again: %s", job.pk, ", ".join(built))


def _stop(job: ImportJob, reason: str) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.FAILED, error=reason, finished_at=timezone.now()
    )


def export_run(job_id: int) -> None:
    """Write the export's file; the worker's part for a big one."""

    job = ExportJob.objects.filter(pk=job_id, status=ExportJob.QUEUED).first()
    if job is None:
        return
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.RUNNING, started_at=timezone.now())
    user = job.created_by
    # The worker writes on the clock and in the language of the one exporting, as the
    # list they exported shows them.
    with (
        timezone.override(user.time_zone or settings.TIME_ZONE),
        translation.override(user.language or translation.get_language()),
    ):
        _export_write(job)


def _export_write(job: ExportJob) -> None:
    kind = "person" if job.record_type == "people" else "company"
    custom_fields = active_fields(kind)
    columns = exporting.columns_for(kind, job.columns, custom_fields)
    job.file.save(job.file_name, ContentFile(b""), save=False)  # its place in storage
    path = Path(job.file.path)
    try:
        queryset = export_queryset(job.created_by, job.record_type, job.filters)
        if not job.rows_total:  # a big one: the total for its progress bar
            ExportJob.objects.filter(pk=job.pk).update(rows_total=queryset.count())
        done = exporting.write(
            path,
            job.format,
            [label for _key, label in columns],
            exporting.chunks(queryset, kind, columns, fmt=job.format, custom_fields=custom_fields),
            progress=lambda n: ExportJob.objects.filter(pk=job.pk).update(rows_done=n),
        )
    except Exception as error:
        log.exception("export %s failed", job.pk)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.FAILED, error=str(error), finished_at=timezone.now()
        )
        raise
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.DONE,
        rows_done=done,
        rows_total=done,  # what was written, should the list have changed meanwhile
        file=job.file.name,
        finished_at=timezone.now(),
    )
