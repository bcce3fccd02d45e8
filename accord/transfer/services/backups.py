"""Scheduled backups: the schedule, a backup asked for now, the worker's periodic pass."""

import logging
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.core.events import emit
from accord.transfer import backup
from accord.transfer.backup import archives
from accord.transfer.models import BackupSchedule

log = logging.getLogger(__name__)


def require_admin(actor: User) -> None:
    if not actor.can("manage_users"):
        raise PermissionDenied(_("Only administrators manage backups."))


def backup_schedule_save(*, actor: User, every_hours: int, keep: int):

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

    require_admin(actor)
    BackupSchedule.objects.filter(pk=BackupSchedule.current().pk).update(
        requested_at=timezone.now()
    )


def backups_due(now: datetime) -> int:
    """A periodic job: back up when asked to or when the schedule says so, then keep only
    the newest archives. One worker does it: the row is claimed by an update."""

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
        _back_up()
    except Exception as error:  # logged, shown in Settings, tried again next time
        log.exception("scheduled backup failed")
        BackupSchedule.objects.filter(pk=schedule.pk).update(last_error=str(error)[:2000])
        return 0
    BackupSchedule.objects.filter(pk=schedule.pk).update(last_error="")
    prune_backups(schedule.keep)
    return 1


BACKUP_SECONDS = 6 * 3600  # a backup still running after this is stopped, and failed


def _back_up() -> None:
    """Make the archive: as `accord backup`, in a process of its own, unless
    ACCORD_BACKUP_APART is off. A large database's backup is a minute or more of Python
    (its manifest is a SHA-256 of every row); in the worker's process it would share the
    interpreter with the jobs beside it, and calls and messages would wait."""
    if not settings.ACCORD_BACKUP_APART:
        backup.make_backup()
        return
    command = [sys.executable, "-m", "accord.cli", "backup"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=BACKUP_SECONDS)  # noqa: S603 (our own command)
    except subprocess.TimeoutExpired:
        raise backup.BackupError(
            _("The backup ran longer than %(hours)s hours and was stopped.")
            % {"hours": BACKUP_SECONDS // 3600}
        ) from None
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        raise backup.BackupError(
            said[-1]
            if said
            else _("The backup stopped with code %(code)s.") % {"code": done.returncode}
        )


def prune_backups(keep: int) -> list[Path]:

    removed = []
    for old in archives()[keep:]:
        old.unlink(missing_ok=True)
        removed.append(old)
    return removed
