"""Writes about roles: the access table per record type and the capabilities."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accord.accounts.models import Role, User
from accord.accounts.services.common import require_capability
from accord.core.events import emit
from accord.core.visibility import ACTIONS, CAPABILITIES, LEVELS, RECORD_TYPES


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
    takes_leads: bool = True,
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
    role.require_two_factor, role.takes_leads = require_two_factor, takes_leads
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
