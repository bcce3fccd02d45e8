"""The roles Accord ships with; `accord createuser --role SLUG` uses these slugs.

They are (re)created after every migrate, like Django's permissions, so a new
database and a flushed one both have them; an admin's renames are kept.
"""

from django.utils.translation import gettext_noop

SHIPPED_ROLES = [
    ("administrator", gettext_noop("Administrator"), True),
    ("head-of-sales", gettext_noop("Head of sales"), False),
    ("manager", gettext_noop("Manager"), False),
    ("marketing", gettext_noop("Marketing"), False),
    ("support", gettext_noop("Support"), False),
    ("read-only", gettext_noop("Read-only"), False),
]


def ensure_shipped_roles(using: str = "default", **kwargs) -> None:
    from accord.accounts.models import Role

    for position, (slug, name, is_admin) in enumerate(SHIPPED_ROLES):
        Role.objects.using(using).get_or_create(
            slug=slug, defaults={"name": name, "is_admin": is_admin, "position": position}
        )
