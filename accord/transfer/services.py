"""Every write of imports: upload, set up, start, run (in the worker), resume, undo."""

import logging
from datetime import datetime, timedelta
from pathlib import Path

import phonenumbers
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.contacts.batch import clients_batch_check, clients_batch_undo
from accord.core.events import emit
from accord.transfer import mapping as fields
from accord.transfer.cleaning import batches
from accord.transfer.models import ImportJob
from accord.transfer.reading import ENCODINGS, FileProblem, Table, read_rows, sniff

log = logging.getLogger(__name__)
BATCH = 1000
STALE = timedelta(minutes=2)  # a running import without a checkpoint for this long died
# An import of this many rows or more, into a table it at least doubles, loads without
# the table's list indexes (one per sortable column) and builds them at its end: a
# million people go in several times faster, and lists sort slower only meanwhile.
BULK_ROWS = 50_000
KEPT_INDEXES = {"person_external_id", "company_external_id"}  # the import's own lookups


def require_import(actor: User) -> None:
    if not actor.can("import"):
        raise PermissionDenied(_("Your role does not allow importing."))


def max_upload_bytes() -> int:
    return getattr(settings, "ACCORD_IMPORT_MAX_MB", 500) * 1024 * 1024


@transaction.atomic
def import_upload(
    *, actor: User, upload: UploadedFile, record_type: str, encoding: str = "", delimiter: str = ""
) -> ImportJob:
    """Keep an uploaded file and look at it: its kind, encoding, delimiter and header,
    and a first guess of which column goes where. A file that is not a table is refused
    with the reason, and not kept."""
    require_import(actor)
    if record_type not in dict(ImportJob.RECORD_TYPES):
        raise ValidationError({"record_type": [_("Choose what the file holds.")]})
    if upload.size > max_upload_bytes():
        raise ValidationError(
            {
                "file": [
                    _("The file is larger than %(limit)s MB.")
                    % {"limit": max_upload_bytes() // 2**20}
                ]
            }
        )
    if not upload.size:
        raise ValidationError({"file": [_("The file is empty.")]})
    job = ImportJob(
        record_type=record_type,
        file_name=Path(upload.name or "import").name[:255],
        file_size=upload.size,
        created_by=actor,
    )
    job.file.save(f"{timezone.now():%Y%m%d%H%M%S}-{job.file_name}", upload, save=False)
    try:
        table = sniff(Path(job.file.path), encoding=encoding, delimiter=delimiter)
    except FileProblem as problem:
        job.file.delete(save=False)
        raise ValidationError({"file": [str(problem)]}) from None
    _apply_table(job, table)
    job.mapping = {
        str(n): t for n, t in fields.guess(table.header, record_type, _custom(job)).items()
    }
    job.match_by = (
        "email"
        if "email" in job.mapping.values()
        else ("phone" if "phone" in job.mapping.values() else "")
    )
    job.save()
    return job


def _apply_table(job: ImportJob, table: Table) -> None:
    job.kind, job.encoding, job.delimiter = table.kind, table.encoding, table.delimiter
    job.header = table.header


def _custom(job: ImportJob):
    from accord.core.custom_fields import active_fields

    kind = "person" if job.record_type == "people" else "company"
    return [f for f in active_fields(kind) if f.type != "record"]


def import_reread(*, actor: User, job: ImportJob, encoding: str, delimiter: str) -> ImportJob:
    """Read the file again with another encoding or delimiter the user chose."""
    _require_setup(actor, job)
    if encoding and encoding not in ENCODINGS:
        raise ValidationError({"encoding": [_("Choose an encoding from the list.")]})
    try:
        table = sniff(Path(job.file.path), encoding=encoding, delimiter=delimiter)
    except FileProblem as problem:
        raise ValidationError({"file": [str(problem)]}) from None
    _apply_table(job, table)
    job.save()
    return job


def _require_setup(actor: User, job: ImportJob) -> None:
    require_import(actor)
    if job.created_by_id != actor.pk:
        raise PermissionDenied(_("This import is someone else's."))
    if job.status != ImportJob.NEW:
        raise ValidationError({"": [_("This import has started: it cannot be changed.")]})


@transaction.atomic
def import_configure(
    *,
    actor: User,
    job: ImportJob,
    mapping: dict,
    match_by: str,
    on_duplicate: str,
    region: str | None = None,
    run_automation: bool = True,
    team=None,
) -> ImportJob:
    """Set which column goes to which field, what a duplicate is and gets, the country
    phone numbers are read in (`region`; "" for the company's, None to leave it), whether
    the imported records start automation rules, and a team whose lead rule gives new
    people without an owner their owner."""
    _require_setup(actor, job)
    targets = {t.name: t for t in fields.targets_for(job.record_type, _custom(job))}
    errors: dict[str, list[str]] = {}
    chosen: dict[str, str] = {}
    used: dict[str, int] = {}
    for column, target in mapping.items():
        if not target:
            continue
        if not str(column).isdigit() or int(column) >= len(job.header):
            errors["mapping"] = [_("There is no such column.")]
            continue
        if target not in targets:
            errors[f"column_{column}"] = [_("Choose a field from the list.")]
            continue
        used[target] = used.get(target, 0) + 1
        if used[target] > 1 and not targets[target].many:
            errors[f"column_{column}"] = [
                _("%(field)s comes from another column already.") % {"field": targets[target].label}
            ]
        chosen[str(int(column))] = target
    names = set(chosen.values())
    needed = {"full_name", "first_name", "last_name"} if job.record_type == "people" else {"name"}
    if not names & needed:
        errors.setdefault("mapping", []).append(_("Choose the column that holds the name."))
    if match_by not in dict(ImportJob.MATCH_BY):
        errors["match_by"] = [_("Choose from the list.")]
    elif match_by and match_by not in names:
        errors["match_by"] = [
            _("No column goes to %(field)s: duplicates cannot be found by it.")
            % {"field": dict(ImportJob.MATCH_BY)[match_by]}
        ]
    if on_duplicate not in dict(ImportJob.ON_DUPLICATE):
        errors["on_duplicate"] = [_("Choose from the list.")]
    if team is not None and job.record_type != "people":
        errors["team"] = [_("A team's lead rule hands out people only.")]
    elif team is not None:
        try:
            clients_batch_check(actor=actor, team=team)
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    job.mapping, job.match_by, job.on_duplicate = chosen, match_by, on_duplicate
    job.run_automation, job.assign_team = bool(run_automation), team
    if region is not None:
        region = region.strip().upper()
        if region and region not in phonenumbers.SUPPORTED_REGIONS:
            errors["region"] = [_("Choose a country from the list.")]
    if errors:
        raise ValidationError(errors)
    job.mapping, job.match_by, job.on_duplicate = chosen, match_by, on_duplicate
    if region is not None:
        job.region = region
    job.save()
    return job


def import_start(*, actor: User, job: ImportJob) -> ImportJob:
    """Queue the import for the worker; it runs while the page is closed."""
    from accord.transfer.tasks import run_import

    _require_setup(actor, job)
    if not job.mapping:
        raise ValidationError({"mapping": [_("Choose the columns to import.")]})
    with transaction.atomic():
        job.status = ImportJob.QUEUED
        job.save(update_fields=["status"])
        transaction.on_commit(lambda: run_import.enqueue(job.pk))
    emit("import.started", import_id=job.pk, actor_id=actor.pk)
    return job


def count_rows(job: ImportJob) -> int:
    """Rows in the file below the header (read once, in bounded memory)."""
    return sum(1 for _row in read_rows(Path(job.file.path), _table(job))) - 1


def _table(job: ImportJob) -> Table:
    return Table(kind=job.kind, encoding=job.encoding, delimiter=job.delimiter)


def import_run(job_id: int) -> None:
    """The worker's part: read the file from the checkpoint on, a batch at a time, each
    batch saved with the checkpoint in one transaction. Run again after a crash, it goes
    on from the last saved batch: no row is saved twice."""
    from accord.transfer.importer import Importer

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
        for batch, checkpoint in batches(job, importer.cleaner, BATCH):
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
    from accord.contacts.models import Company, Person

    return Person if job.record_type == "people" else Company


def _set_indexes_aside(job: ImportJob) -> None:
    from accord.core.bulk import drop_indexes, list_indexes

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
    from accord.core.bulk import build_indexes, list_indexes

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


def imports_resume(now: datetime) -> int:
    """Queue again the imports whose worker died mid-way (no checkpoint for STALE); they
    go on from their last saved batch. A periodic job of the scheduler."""
    from accord.transfer.tasks import run_import

    stale = list(
        ImportJob.objects.filter(status=ImportJob.RUNNING, beat_at__lt=now - STALE).values_list(
            "pk", flat=True
        )
    )
    for job_id in stale:
        run_import.enqueue(job_id)
    return len(stale)


@transaction.atomic
def import_undo(*, actor: User, job: ImportJob) -> dict[str, int]:
    """Remove the records the import created and restore those it updated, unless they
    have been changed since (those are kept and counted): through the contacts batch
    service, so each is on the timeline and announced like any other change."""
    require_import(actor)
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.created_by_id != actor.pk and not actor.can("manage_users"):
        raise PermissionDenied(_("This import is someone else's."))
    if job.status != ImportJob.DONE and job.status != ImportJob.FAILED:
        raise ValidationError({"": [_("Only a finished import can be undone.")]})
    result = clients_batch_undo(
        actor=actor,
        kind="person" if job.record_type == "people" else "company",
        changes=(
            {"action": c.action, "record_id": c.record_id, "version": c.version,
             "before": c.before}
            for c in job.changes.order_by("-id").iterator()
        ),
        cause={**job.cause, "undo": True},
    )  # fmt: skip
    job.status, job.undone_at = ImportJob.UNDONE, timezone.now()
    job.save(update_fields=["status", "undone_at"])
    emit("import.undone", import_id=job.pk, actor_id=actor.pk)
    return result


# --- Export -----------------------------------------------------------------------------

EXPORT_INLINE = 2000  # up to this many rows an export is written at once, not queued


def require_export(actor: User) -> None:
    if not actor.can("export"):
        raise PermissionDenied(_("Your role does not allow exporting."))


def export_queryset(user: User, record_type: str, filters: dict):
    """The records the list shows `user` with these filters (ValidationError on a bad one)."""
    from accord.contacts.queries import companies_visible_to, filter_clients, people_visible_to

    kind = "person" if record_type == "people" else "company"
    visible = people_visible_to(user) if kind == "person" else companies_visible_to(user)
    return filter_clients(visible, kind, filters, user=user)


def export_create(
    *,
    actor: User,
    record_type: str,
    fmt: str,
    filters: dict | None = None,
    columns: list[str] | None = None,
    now: bool = False,
):
    """An export of the list as the actor sees it: written at once when small (or `now`,
    as the command line asks), else by the worker (the page shows its progress, then the
    file)."""
    from accord.transfer.models import ExportJob
    from accord.transfer.tasks import run_export

    require_export(actor)
    errors: dict[str, list[str]] = {}
    if record_type not in dict(ImportJob.RECORD_TYPES):
        errors["record_type"] = [_("Choose what to export.")]
    if fmt not in dict(ExportJob.FORMATS):
        errors["format"] = [_("Choose CSV or Excel.")]
    if errors:
        raise ValidationError(errors)
    filters = {k: str(v) for k, v in (filters or {}).items() if str(v).strip()}
    # Checks the filters too. Counted only as far as tells a small export from a big one:
    # a million rows' count took the button 2 s; the worker counts them.
    total = export_queryset(actor, record_type, filters)[: EXPORT_INLINE + 1].count()
    small = total <= EXPORT_INLINE
    job = ExportJob.objects.create(
        record_type=record_type,
        format=fmt,
        filters=filters,
        columns=columns,
        rows_total=total if small else 0,
        created_by=actor,
    )
    emit("export.created", export_id=job.pk, actor_id=actor.pk)
    if now or small:
        export_run(job.pk)
        job.refresh_from_db()
    else:
        transaction.on_commit(lambda: run_export.enqueue(job.pk))
    return job


def export_run(job_id: int) -> None:
    """Write the export's file; the worker's part for a big one."""
    from django.core.files.base import ContentFile

    from accord.core.custom_fields import active_fields
    from accord.transfer import exporting
    from accord.transfer.models import ExportJob

    job = ExportJob.objects.filter(pk=job_id, status=ExportJob.QUEUED).first()
    if job is None:
        return
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.RUNNING, started_at=timezone.now())
    kind = "person" if job.record_type == "people" else "company"
    columns = exporting.columns_for(kind, job.columns, active_fields(kind))
    job.file.save(job.file_name, ContentFile(b""), save=False)  # its place in storage
    path = Path(job.file.path)
    try:
        queryset = export_queryset(job.created_by, job.record_type, job.filters)
        if not job.rows_total:  # a big one: the total for its progress bar
            ExportJob.objects.filter(pk=job.pk).update(rows_total=queryset.count())
        done = exporting.write(
            path,
            job.format,
            exporting.rows(queryset, kind, columns),
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


# --- Scheduled backups ------------------------------------------------------------------


def require_admin(actor: User) -> None:
    if not actor.can("manage_users"):
        raise PermissionDenied(_("Only administrators manage backups."))


def backup_schedule_save(*, actor: User, every_hours: int, keep: int):
    from accord.transfer.models import BackupSchedule

    require_admin(actor)
    errors: dict[str, list[str]] = {}
    if not isinstance(every_hours, int) or not 0 <= every_hours <= 24 * 31:
        errors["every_hours"] = [_("Give the hours, up to a month, or 0 for never.")]
    if not isinstance(keep, int) or not 1 <= keep <= 365:
        errors["keep"] = [_("Keep from 1 to 365 backups.")]
    if errors:
        raise ValidationError(errors)
    schedule = BackupSchedule.current()
    schedule.every_hours, schedule.keep = every_hours, keep
    schedule.save()
    emit("backup.schedule_changed", actor_id=actor.pk)
    return schedule


def backup_request(*, actor: User) -> None:
    """Ask the worker for a backup now (it takes a while on a big database)."""
    from accord.transfer.models import BackupSchedule

    require_admin(actor)
    BackupSchedule.objects.filter(pk=BackupSchedule.current().pk).update(
        requested_at=timezone.now()
    )


def backups_due(now: datetime) -> int:
    """A periodic job: back up when asked to or when the schedule says so, then keep only
    the newest archives. One worker does it: the row is claimed by an update."""
    from accord.transfer import backup
    from accord.transfer.models import BackupSchedule

    schedule = BackupSchedule.current()
    asked = schedule.requested_at is not None
    due = schedule.every_hours and (
        schedule.last_run_at is None
        or now - schedule.last_run_at >= timedelta(hours=schedule.every_hours)
    )
    if not (asked or due):
        return 0
    claimed = BackupSchedule.objects.filter(
        pk=schedule.pk, last_run_at=schedule.last_run_at, requested_at=schedule.requested_at
    ).update(last_run_at=now, requested_at=None)
    if not claimed:
        return 0  # another worker took it
    try:
        backup.make_backup()
    except Exception as error:  # logged, shown in Settings, tried again next time
        log.exception("scheduled backup failed")
        BackupSchedule.objects.filter(pk=schedule.pk).update(last_error=str(error)[:2000])
        return 0
    BackupSchedule.objects.filter(pk=schedule.pk).update(last_error="")
    prune_backups(schedule.keep)
    return 1


def prune_backups(keep: int) -> list[Path]:
    from accord.transfer.backup import archives

    removed = []
    for old in archives()[keep:]:
        old.unlink(missing_ok=True)
        removed.append(old)
    return removed
