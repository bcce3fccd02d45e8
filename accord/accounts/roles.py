"""The roles Accord ships with; `accord createuser --role SLUG` uses these slugs.

They are created after every migrate when missing, like Django's permissions, so a new
database and a flushed one both have them; an admin's later edits are kept.
"""

from django.utils.translation import gettext_noop

from accord.accounts.models import Role
from accord.core.visibility import ALL, NONE, OWN, RECORD_TYPES, TEAM


def levels(read: str, write: str, **exceptions: tuple[str, str]) -> dict:
    access = {kind: {"read": read, "write": write} for kind in RECORD_TYPES}
    for kind, (kind_read, kind_write) in exceptions.items():
        access[kind] = {"read": kind_read, "write": kind_write}
    return access


SHIPPED_ROLES = [
    {
        "slug": "administrator",
        "name": gettext_noop("Administrator"),
        "description": gettext_noop("Sees and changes everything, manages users and settings."),
        "access": levels(ALL, ALL),
        "capabilities": ["export", "import", "delete", "manage_users", "manage_automation"],
    },
    {
        "slug": "head-of-sales",
        "name": gettext_noop("Head of sales"),
        "description": gettext_noop("Sees all sales work and changes the team's."),
        "access": levels(ALL, TEAM, campaigns=(ALL, NONE), settings=(NONE, NONE)),
        "capabilities": ["export", "import", "delete", "manage_automation"],
    },
    {
        "slug": "manager",
        "name": gettext_noop("Manager"),
        "description": gettext_noop("Works on own clients and deals; sees every client card."),
        "access": levels(
            TEAM,
            OWN,
            clients=(ALL, OWN),
            activities=(ALL, OWN),
            campaigns=(ALL, NONE),
            reports=(OWN, NONE),
            settings=(NONE, NONE),
        ),
        "capabilities": [],
    },
    {
        "slug": "marketing",
        "name": gettext_noop("Marketing"),
        "description": gettext_noop("Segments, campaigns and reports; reads sales."),
        "access": levels(
            ALL,
            NONE,
            clients=(ALL, OWN),
            tasks=(OWN, OWN),
            activities=(ALL, OWN),
            documents=(NONE, NONE),
            invoices=(NONE, NONE),
            campaigns=(ALL, ALL),
            settings=(NONE, NONE),
        ),
        "capabilities": ["export", "import", "manage_automation"],
    },
    {
        "slug": "support",
        "name": gettext_noop("Support"),
        "description": gettext_noop("Helps clients: sees them all, changes the team's."),
        "access": levels(
            ALL,
            NONE,
            clients=(ALL, TEAM),
            tasks=(TEAM, OWN),
            activities=(ALL, OWN),
            campaigns=(ALL, NONE),
            reports=(NONE, NONE),
            settings=(NONE, NONE),
        ),
        "capabilities": [],
    },
    {
        "slug": "read-only",
        "name": gettext_noop("Read-only"),
        "description": gettext_noop("Sees everything except settings; changes nothing."),
        "access": levels(ALL, NONE, settings=(NONE, NONE)),
        "capabilities": [],
    },
]


def ensure_shipped_roles(using: str = "default", **kwargs) -> None:
    """Each shipped role the instance lacks; and on those it has, the levels of record
    types added since it was made (invoices, campaigns), as shipped: an upgraded
    instance's administrator sees the new records too. Levels an admin set are kept."""
    for position, shipped in enumerate(SHIPPED_ROLES):
        defaults = {
            "name": shipped["name"],
            "description": shipped["description"],
            "access": shipped["access"],
            "position": position,
            **{f"can_{capability}": True for capability in shipped["capabilities"]},
        }
        role, created = Role.objects.using(using).get_or_create(
            slug=shipped["slug"], defaults=defaults
        )
        missing = {
            kind: shipped["access"][kind] for kind in RECORD_TYPES if kind not in role.access
        }
        if not created and missing:
            role.access = {**role.access, **missing}
            role.save(update_fields=["access"])
