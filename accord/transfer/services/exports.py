"""Exports of the client lists: made at once when small, else queued for the worker."""

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.core.events import emit
from accord.transfer.jobs import export_run
from accord.transfer.models import ExportJob, ImportJob
from accord.transfer.queries import export_queryset
from accord.transfer.tasks import run_export

log = logging.getLogger(__name__)

EXPORT_INLINE = 2000  # up to this many rows an export is written at once, not queued


def require_export(actor: User) -> None:
    if not actor.can("export"):
        raise PermissionDenied(_("Your role does not allow exporting."))


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
