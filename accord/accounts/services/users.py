"""Writes about users: create, change, (de)activate, passwords and their policy, preferences."""

from datetime import timedelta
from typing import Any
from zoneinfo import available_timezones

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.accounts.models import Role, SecurityPolicy, Team, User
from accord.accounts.services.common import require_capability
from accord.accounts.services.sessions import sessions_end
from accord.core.events import emit

KEEP: Any = object()  # "leave this field as it is", where None is a real value
LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}
THEMES = {"system", "light", "dark"}


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


@transaction.atomic
def preference_set(*, user: User, key: str, value: Any) -> User:
    """Remember a screen choice of the user (list columns and the like)."""
    user.preferences = {**user.preferences, key: value}
    user.save(update_fields=["preferences"])
    return user
