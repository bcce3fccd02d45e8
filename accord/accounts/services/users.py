"""Writes about users, teams, roles, passwords, sessions and API tokens.

Each function checks that the actor may do it, validates, writes in one transaction
and announces what happened after commit.
"""

import secrets
from datetime import date, time, timedelta
from typing import Any
from zoneinfo import available_timezones

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accord.accounts.models import (
    Absence,
    ApiToken,
    Role,
    SecurityPolicy,
    Team,
    User,
    UserSession,
    WorkSchedule,
)
from accord.core.events import emit
from accord.core.visibility import ACTIONS, CAPABILITIES, LEVELS, RECORD_TYPES

TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)
KEEP: Any = object()  # "leave this field as it is", where None is a real value
LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}
THEMES = {"system", "light", "dark"}


def require_capability(actor: User, capability: str) -> None:
    if not actor.can(capability):
        raise PermissionDenied(_("Your role does not allow this."))


# --- Users -----------------------------------------------------------------------


@transaction.atomic
def user_create(
    *,
    email: str,
    password: str,
    role: str,
    full_name: str = "",
    language: str = "",
    team: Team | None = None,
    actor: User | None = None,
    check_password: bool = True,
    must_change_password: bool = False,
) -> User:
    """Create a user who logs in with e-mail and password, in a role given by its slug.

    `actor` is None only for the command line and the demo, which act as the operator.
    """
    if actor is not None:
        require_capability(actor, "manage_users")
    email = email.strip().lower()
    errors: dict[str, list[str]] = {}
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = [_("Enter a valid e-mail address.")]
    else:
        if User.objects.filter(email__iexact=email).exists():
            errors["email"] = [_("A user with this e-mail already exists.")]
    role_obj = Role.objects.filter(slug=role).first()
    if role_obj is None:
        slugs = ", ".join(Role.objects.values_list("slug", flat=True))
        errors["role"] = [_("No role %(role)s; roles: %(slugs)s.") % {"role": role, "slugs": slugs}]
    if language and language not in LANGUAGE_CODES:
        errors["language"] = [_("Choose one of the offered languages.")]
    if check_password:
        try:
            validate_password(password, User(email=email, full_name=full_name))
        except ValidationError as error:
            errors["password"] = list(error.messages)
    if errors:
        raise ValidationError(errors)
    user = User.objects.create_user(
        email,
        password,
        full_name=full_name.strip(),
        role=role_obj,
        team=team,
        language=language,
        password_changed_at=timezone.now(),
        must_change_password=must_change_password,
    )
    emit("user.created", user_id=user.pk, actor_id=actor.pk if actor else None)
    return user


@transaction.atomic
def user_update(
    *,
    user: User,
    actor: User,
    full_name: str | None = None,
    email: str | None = None,
    role: Role | None = None,
    team: Any = KEEP,
    language: str | None = None,
    time_zone: str | None = None,
    theme: str | None = None,
) -> User:
    """Change a user's details. Users change their own profile; admins change anyone's.

    Leaving `team` out keeps the team; `team=None` takes the user out of their team.
    """
    managing = actor.can("manage_users")
    if user.pk != actor.pk and not managing:
        raise PermissionDenied(_("Your role does not allow this."))
    errors: dict[str, list[str]] = {}
    if role is not None and role.pk != user.role_id:
        if user.pk == actor.pk:
            errors["role"] = [_("You cannot change your own role; ask another administrator.")]
        elif not managing:
            errors["role"] = [_("Your role does not allow this.")]
    if team is not KEEP and (team.pk if team else None) != user.team_id and not managing:
        errors["team"] = [_("Only an administrator moves people between teams.")]
    if email is not None:
        email = email.strip().lower()
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = [_("Enter a valid e-mail address.")]
        else:
            if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
                errors["email"] = [_("A user with this e-mail already exists.")]
    if language is not None and language and language not in LANGUAGE_CODES:
        errors["language"] = [_("Choose one of the offered languages.")]
    if time_zone is not None and time_zone and time_zone not in available_timezones():
        errors["time_zone"] = [_("Choose a time zone from the list.")]
    if theme is not None and theme not in THEMES:
        errors["theme"] = [_("Choose light, dark or as the system.")]
    if errors:
        raise ValidationError(errors)
    changes = {
        "full_name": full_name.strip() if full_name is not None else None,
        "email": email,
        "role": role,
        "language": language,
        "time_zone": time_zone,
        "theme": theme,
    }
    changed = [name for name, value in changes.items() if value is not None]
    for name in changed:
        setattr(user, name, changes[name])
    if team is not KEEP:
        user.team = team
        changed.append("team")
    if changed:
        user.save(update_fields=changed)
        emit("user.updated", user_id=user.pk, actor_id=actor.pk, fields=sorted(changed))
    return user


@transaction.atomic
def user_set_active(*, user: User, actor: User, active: bool) -> User:
    """Deactivate (or reactivate) a user; deactivation ends their sessions at once."""
    require_capability(actor, "manage_users")
    if user.pk == actor.pk and not active:
        raise ValidationError({"is_active": [_("You cannot deactivate yourself.")]})
    if user.is_active == active:
        return user
    user.is_active = active
    user.save(update_fields=["is_active"])
    if not active:
        sessions_end(user=user)
        # Tokens are refused for an inactive user; revoking them keeps it so on reactivation.
        user.tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    emit("user.activated" if active else "user.deactivated", user_id=user.pk, actor_id=actor.pk)
    return user


@transaction.atomic
def password_change(*, user: User, old_password: str | None, new_password: str) -> User:
    """Set a new password (checking the old one when given) and note when it changed."""
    errors: dict[str, list[str]] = {}
    if old_password is not None and not user.check_password(old_password):
        errors["old_password"] = [_("The current password is not right.")]
    if old_password is not None and old_password == new_password:
        errors["new_password"] = [_("Choose a password different from the current one.")]
    try:
        validate_password(new_password, user)
    except ValidationError as error:
        errors.setdefault("new_password", []).extend(error.messages)
    if errors:
        raise ValidationError(errors)
    user.set_password(new_password)
    user.password_changed_at = timezone.now()
    user.must_change_password = False
    user.save(update_fields=["password", "password_changed_at", "must_change_password"])
    emit("user.password_changed", user_id=user.pk)
    return user


def password_expired(user: User) -> bool:
    if user.must_change_password:
        return True
    days = SecurityPolicy.current().password_max_age_days
    if not days or user.password_changed_at is None:
        return False
    return timezone.now() - user.password_changed_at > timedelta(days=days)


@transaction.atomic
def security_policy_update(*, actor: User, password_max_age_days: int) -> SecurityPolicy:
    require_capability(actor, "manage_users")
    if not 0 <= password_max_age_days <= 3650:
        raise ValidationError(
            {"password_max_age_days": [_("Enter a number of days from 0 (off) to 3650.")]}
        )
    policy = SecurityPolicy.objects.get_or_create(pk=1)[0]
    policy.password_max_age_days = password_max_age_days
    policy.save()
    cache.delete(SecurityPolicy.CACHE_KEY)
    transaction.on_commit(lambda: cache.delete(SecurityPolicy.CACHE_KEY))  # and any re-read
    emit("security_policy.updated", actor_id=actor.pk)
    return policy


# --- Sessions ----------------------------------------------------------------------


@transaction.atomic
def session_started(*, user: User, session_key: str, ip_address: str | None, user_agent: str):
    UserSession.objects.update_or_create(
        session_key=session_key,
        defaults={"user": user, "ip_address": ip_address, "user_agent": user_agent[:300]},
    )


@transaction.atomic
def session_ended(*, session_key: str) -> None:
    UserSession.objects.filter(session_key=session_key).delete()


@transaction.atomic
def sessions_end(*, user: User) -> int:
    """End every browser session of a user on the server."""
    keys = list(user.browser_sessions.values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    UserSession.objects.filter(session_key__in=keys).delete()
    return len(keys)


# --- Teams ---------------------------------------------------------------------------


@transaction.atomic
def team_save(
    *,
    actor: User,
    name: str,
    head: User | None,
    members: list[User],
    team: Team | None = None,
    escalation_minutes: object = ...,
    lead_rule: object = ...,
    lead_user: object = ...,
) -> Team:
    """Create a team, or rename it and set its head, members, the grace period after
    which a member's overdue task goes to the head (None: never) and how new leads given
    to the team find an owner ("" none, round robin, least loaded, or one person, who
    must be active). ... leaves a setting as it is."""
    require_capability(actor, "manage_users")
    name = name.strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("Give the team a name.")]
    elif Team.objects.filter(name__iexact=name).exclude(pk=team.pk if team else None).exists():
        errors["name"] = [_("A team with this name already exists.")]
    if head is not None and not head.is_active:
        errors["head"] = [_("The head must be an active user.")]
    grace = escalation_minutes
    if (
        grace is not ...
        and grace is not None
        and (not isinstance(grace, int) or not 0 <= grace <= 7 * 24 * 60)
    ):
        errors["escalation_minutes"] = [_("Give the minutes, up to a week, or leave it empty.")]
    if lead_rule is not ... and lead_rule not in ["", *dict(Team.LEAD_RULES)]:
        errors["lead_rule"] = [_("Choose a rule from the list.")]
    elif lead_rule == Team.FIXED and not (isinstance(lead_user, User) and lead_user.is_active):
        errors["lead_user"] = [_("Choose the active user who takes every new lead.")]
    if errors:
        raise ValidationError(errors)
    if team is None:
        team = Team.objects.create(name=name, head=head)
        event = "team.created"
    else:
        team.name, team.head = name, head
        event = "team.updated"
    if grace is not ...:
        team.escalation_minutes = grace
    if lead_rule is not ...:
        team.lead_rule = lead_rule
        team.lead_user = lead_user if lead_rule == Team.FIXED else None
    team.save()
    member_ids = {member.pk for member in members}
    if head is not None:
        member_ids.add(head.pk)
    User.objects.filter(team=team).exclude(pk__in=member_ids).update(team=None)
    User.objects.filter(pk__in=member_ids).update(team=team)
    emit(event, team_id=team.pk, actor_id=actor.pk)
    return team


@transaction.atomic
def team_delete(*, actor: User, team: Team) -> None:
    require_capability(actor, "manage_users")
    team_id = team.pk
    team.delete()  # members stay, without a team
    emit("team.deleted", team_id=team_id, actor_id=actor.pk)


# --- Roles ---------------------------------------------------------------------------


def validate_access(access: dict) -> dict:
    """A complete access table: every record type with a known read and write level."""
    errors = []
    clean = {}
    for kind in RECORD_TYPES:
        entry = access.get(kind, {}) if isinstance(access, dict) else {}
        clean[kind] = {}
        for action in ACTIONS:
            level = entry.get(action, "none") if isinstance(entry, dict) else None
            if level not in LEVELS:
                errors.append(
                    _("%(kind)s %(action)s: choose all, team, own or none.")
                    % {"kind": kind, "action": action}
                )
            clean[kind][action] = level
    for kind in clean:
        read, write = clean[kind]["read"], clean[kind]["write"]
        if read in LEVELS and write in LEVELS and LEVELS.index(write) < LEVELS.index(read):
            errors.append(_("%(kind)s: one cannot change more than one can see.") % {"kind": kind})
    if errors:
        raise ValidationError({"access": errors})
    return clean


@transaction.atomic
def role_save(
    *,
    actor: User,
    name: str,
    access: dict,
    capabilities: list[str],
    description: str = "",
    require_two_factor: bool = False,
    role: Role | None = None,
) -> Role:
    require_capability(actor, "manage_users")
    name = name.strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("Give the role a name.")]
    elif Role.objects.filter(name__iexact=name).exclude(pk=role.pk if role else None).exists():
        errors["name"] = [_("A role with this name already exists.")]
    unknown = sorted(set(capabilities) - set(CAPABILITIES))
    if unknown:
        errors["capabilities"] = [_("Unknown capabilities: %s.") % ", ".join(unknown)]
    try:
        access = validate_access(access)
    except ValidationError as error:
        errors.update(error.message_dict)
    if role is not None and role.pk == actor.role_id and "manage_users" not in capabilities:
        errors["capabilities"] = [
            _("You would lose the right to manage users; ask another administrator.")
        ]
    if errors:
        raise ValidationError(errors)
    if role is None:
        role = Role(slug=_unique_slug(name), position=Role.objects.count())
    role.name, role.description, role.access = name, description.strip(), access
    role.require_two_factor = require_two_factor
    for capability in CAPABILITIES:
        setattr(role, f"can_{capability}", capability in capabilities)
    role.save()
    emit("role.saved", role_id=role.pk, actor_id=actor.pk)
    return role


@transaction.atomic
def role_delete(*, actor: User, role: Role) -> None:
    require_capability(actor, "manage_users")
    if role.user_set.exists():
        raise ValidationError(
            {"role": [_("People still have this role; give them another role first.")]}
        )
    role_id = role.pk
    role.delete()
    emit("role.deleted", role_id=role_id, actor_id=actor.pk)


def _unique_slug(name: str) -> str:
    base = slugify(name)[:40] or "role"
    slug, n = base, 2
    while Role.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


# --- API tokens ------------------------------------------------------------------------


@transaction.atomic
def token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Make a personal API token; returns it with the secret, which is never stored."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": [_("Give the token a name.")]})
    if len(name) > 100:
        raise ValidationError({"name": [_("The name is longer than 100 characters.")]})
    if not user.is_active:
        raise ValidationError({"user": [_("The user is deactivated.")]})
    key = ApiToken.PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, key_hash=ApiToken.hash_key(key), hint=key[:10]
    )
    emit("token.created", token_id=token.pk, user_id=user.pk)
    return token, key


@transaction.atomic
def token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        emit("token.revoked", token_id=token.pk, user_id=token.user_id)
    return token


def token_authenticate(key: str) -> User | None:
    """The active user a bearer token belongs to, or None; notes when it was last used."""
    if not key.startswith(ApiToken.PREFIX) or len(key) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user__role")
        .filter(key_hash=ApiToken.hash_key(key), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_INTERVAL:
        # Written at most once a minute, so busy API clients do not write on every call.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


# --- Second factor -------------------------------------------------------------------

RECOVERY_CODES = 10


@transaction.atomic
def two_factor_pending_device(*, user: User):
    """The authenticator being enrolled (not confirmed yet), made on first ask."""

    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=False)


@transaction.atomic
def two_factor_enrol(*, user: User, device, code: str) -> list[str]:
    """Confirm the authenticator with a code from it; answers fresh recovery codes."""

    if not device.verify_token(code.replace(" ", "")):
        raise ValidationError(
            {"code": [_("That code is not right. Check the time on your phone and try again.")]}
        )
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    StaticDevice.objects.filter(user=user).delete()
    recovery = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _n in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=recovery, token=c) for c in codes)
    emit("user.two_factor_enabled", user_id=user.pk)
    return codes


@transaction.atomic
def two_factor_disable(*, user: User, code: str) -> None:
    """Turn the second factor off, proven by a current code; not when the role requires it."""

    if user.role and user.role.require_two_factor:
        raise ValidationError(
            {"code": [_("Your role requires two-factor login; it cannot be turned off.")]}
        )
    if match_token(user, code.replace(" ", "")) is None:
        raise ValidationError({"code": [_("That code is not right; two-factor login stays on.")]})
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    emit("user.two_factor_disabled", user_id=user.pk)


@transaction.atomic
def preference_set(*, user: User, key: str, value: Any) -> User:
    """Remember a screen choice of the user (list columns and the like)."""
    user.preferences = {**user.preferences, key: value}
    user.save(update_fields=["preferences"])
    return user


# --- Schedules and absences -------------------------------------------------------------

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
