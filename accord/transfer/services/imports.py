"""Every write of imports: upload, set up, start, resume, undo (the worker's run: jobs.py)."""

import logging
from datetime import datetime
from pathlib import Path

import phonenumbers
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.contacts.services import DUPLICATE_KEYS, clients_batch_check, clients_batch_undo
from accord.core.events import emit
from accord.transfer import mapping as fields
from accord.transfer.jobs import STALE
from accord.transfer.models import ImportJob
from accord.transfer.reading import ENCODINGS, FileProblem, Table, sniff
from accord.transfer.tasks import run_import

log = logging.getLogger(__name__)


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
        str(n): t for n, t in fields.guess(table.header, record_type, job.custom_fields()).items()
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
    targets = {t.name: t for t in fields.targets_for(job.record_type, job.custom_fields())}
    errors: dict[str, list[str]] = {}
    chosen: dict[str, str] = {}
    used: dict[str, int] = {}
    for column, target in mapping.items():
        if not target:
            continue
        if not str(column).isdecimal() or int(column) >= len(job.header):
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
    elif match_by and not names & set(DUPLICATE_KEYS):  # any of them finds a duplicate
        errors["match_by"] = [
            _("No column goes to the e-mail, the phone or the external id: duplicates "
              "cannot be found.")
        ]  # fmt: skip
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

    _require_setup(actor, job)
    if not job.mapping:
        raise ValidationError({"mapping": [_("Choose the columns to import.")]})
    with transaction.atomic():
        job.status = ImportJob.QUEUED
        job.save(update_fields=["status"])
        transaction.on_commit(lambda: run_import.enqueue(job.pk))
    emit("import.started", import_id=job.pk, actor_id=actor.pk)
    return job


def imports_resume(now: datetime) -> int:
    """Queue again the imports whose worker died mid-way (no checkpoint for STALE); they
    go on from their last saved batch. A periodic job of the scheduler."""

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
