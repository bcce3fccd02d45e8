"""Who may see and change which records: the one permission path of Accord.

Each role has, per record type, a level for reading and one for writing (EspoCRM's
model): all, team, own or none. A feature app declares how its records are owned
(`owner_field`), and its queries.py scopes every read through `scope()`, so lists,
cards, search, exports, reports, the API and htmx partials cannot forget the check.
A record outside the scope is simply not found (404).
"""

from typing import Protocol

from django.db.models import Q, QuerySet

ALL, TEAM, OWN, NONE = "all", "team", "own", "none"
LEVELS = (ALL, TEAM, OWN, NONE)
READ, WRITE = "read", "write"
ACTIONS = (READ, WRITE)

RECORD_TYPES = (
    "clients",
    "deals",
    "tasks",
    "activities",
    "documents",
    "invoices",
    "campaigns",
    "reports",
    "settings",
)
CAPABILITIES = ("export", "import", "delete", "manage_users", "manage_automation")


class Viewer(Protocol):
    """What the kernel needs to know of the acting user (accounts.User provides it)."""

    pk: int

    def access_level(self, record_type: str, action: str) -> str: ...

    def team_scope_ids(self) -> set[int]: ...


def effective_level(user: Viewer, record_type: str, action: str) -> str:
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return NONE
    return user.access_level(record_type, action)


def scope(
    queryset: QuerySet,
    *,
    user: Viewer,
    record_type: str,
    action: str = READ,
    owner_field: str = "owner",
) -> QuerySet:
    """The rows of `queryset` that `user` may read (or write)."""
    level = effective_level(user, record_type, action)
    if level == ALL:
        return queryset
    if level == NONE:
        return queryset.none()
    mine = Q(**{owner_field: user.pk})
    if level == OWN:
        return queryset.filter(mine)
    return queryset.filter(mine | Q(**{f"{owner_field}__team_id__in": user.team_scope_ids()}))


def allows(
    user: Viewer, *, record_type: str, action: str, owner_id: int | None, owner_team_id: int | None
) -> bool:
    """Whether `user` may read or write one record with this owner (no query needed)."""
    level = effective_level(user, record_type, action)
    if level == ALL:
        return True
    if level == NONE:
        return False
    if owner_id is not None and owner_id == user.pk:
        return True
    return level == TEAM and owner_team_id is not None and owner_team_id in user.team_scope_ids()


def may_write(user: Viewer, record_type: str) -> bool:
    """The user's role lets them change some records of this type (shows the write buttons)."""
    return effective_level(user, record_type, WRITE) != NONE


def may_change(user: Viewer, record_type: str, owner) -> bool:
    """The one check that `user` may change a record of this type whose owner (a user, or
    None) is `owner`: the role's write level against the owner and the owner's team."""
    return allows(
        user,
        record_type=record_type,
        action=WRITE,
        owner_id=owner.pk if owner is not None else None,
        owner_team_id=owner.team_id if owner is not None else None,
    )
