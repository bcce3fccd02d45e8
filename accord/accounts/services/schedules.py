"""When people work: work schedules and absences, set by themselves, their head or an admin."""

from datetime import date, time

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accord.accounts.models import Absence, User, WorkSchedule
from accord.core.events import emit

MAX_ABSENCE_DAYS = 366


def can_manage_time(actor: User, user: User) -> bool:
    """Whether `actor` may set `user`'s schedule and absences: their own, a member's as the
    head of the member's team, anyone's with the "manage users" capability."""
    if actor.pk == user.pk or actor.can("manage_users"):
        return True
    return User.objects.filter(pk=user.pk, team__head=actor).exists()


def require_time(actor: User, user: User) -> None:
    if not can_manage_time(actor, user):
        raise PermissionDenied(
            _("Only %(user)s, their head or an administrator may do this.") % {"user": user}
        )


@transaction.atomic
def schedule_save(*, actor: User, user: User, weekdays, starts, ends):
    """Set when `user` works: the weekdays (0 is Monday) and the hours of a working day."""

    require_time(actor, user)
    errors: dict[str, list[str]] = {}
    if (
        not isinstance(weekdays, list | tuple)
        or not weekdays
        or any(not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 6 for d in weekdays)
    ):
        errors["weekdays"] = [_("Choose at least one working day.")]
    if not isinstance(starts, time):
        errors["starts"] = [_("Give the time as HH:MM.")]
    if not isinstance(ends, time):
        errors["ends"] = [_("Give the time as HH:MM.")]
    elif isinstance(starts, time) and ends <= starts:
        errors["ends"] = [_("The working day must end after it starts.")]
    if errors:
        raise ValidationError(errors)
    schedule, _created = WorkSchedule.objects.update_or_create(
        user=user, defaults={"weekdays": sorted(set(weekdays)), "starts": starts, "ends": ends}
    )
    emit("schedule.changed", user_id=user.pk, actor_id=actor.pk)
    return schedule


@transaction.atomic
def absence_add(*, actor: User, user: User, kind: str, starts, ends, note: str = ""):
    """Record that `user` is away from `starts` to `ends` (whole days, both included)."""

    require_time(actor, user)
    # One absence at a time per person (no join: PostgreSQL locks no outer join's side).
    User.objects.select_related(None).select_for_update().filter(pk=user.pk).first()
    errors: dict[str, list[str]] = {}
    if kind not in dict(Absence.KINDS):
        errors["kind"] = [_("Choose a kind from the list.")]
    if not isinstance(starts, date):
        errors["starts"] = [_("Give the first day away.")]
    if not isinstance(ends, date):
        errors["ends"] = [_("Give the last day away.")]
    elif isinstance(starts, date):
        if ends < starts:
            errors["ends"] = [_("The last day cannot come before the first.")]
        elif (ends - starts).days >= MAX_ABSENCE_DAYS:
            errors["ends"] = [_("An absence lasts at most a year: enter longer ones in parts.")]
        else:
            clash = Absence.objects.filter(user=user, starts__lte=ends, ends__gte=starts).first()
            if clash:
                errors["starts"] = [
                    _("%(user)s is already away from %(starts)s to %(ends)s.")
                    % {
                        "user": user,
                        "starts": date_format(clash.starts),
                        "ends": date_format(clash.ends),
                    }
                ]
    note = str(note or "").strip()
    if len(note) > 200:
        errors["note"] = [_("At most %(limit)s characters.") % {"limit": 200}]
    if errors:
        raise ValidationError(errors)
    absence = Absence.objects.create(
        user=user, kind=kind, starts=starts, ends=ends, note=note, created_by=actor
    )
    emit("absence.added", absence_id=absence.pk, user_id=user.pk, actor_id=actor.pk)
    return absence


@transaction.atomic
def absence_delete(*, actor: User, absence) -> None:
    require_time(actor, absence.user)
    user_id, absence_id = absence.user_id, absence.pk
    absence.delete()
    emit("absence.removed", absence_id=absence_id, user_id=user_id, actor_id=actor.pk)
