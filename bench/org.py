"""The bench company: teams, users, roles, tags and custom fields, made through the ORM.

These are a few dozen rows, so they are made the ordinary way; the client base itself
is written in bulk by bench.generate. The runner finds its users by these e-mails.
"""

from dataclasses import dataclass

from django.db import transaction

from bench.names import TAGS

MANAGER_EMAIL = "bench.manager@example.com"  # role "manager": reads every client
OWN_ONLY_EMAIL = "bench.own@example.com"  # role "bench-own-only": reads own clients only
OWN_ONLY_ROLE = "bench-own-only"
PASSWORD = "bench-password-not-secret"  # noqa: S105 (a throwaway database)
CARD_EVENTS = 5000

TEAMS = ["Moscow sales", "Israel desk", "Yerevan office", "Key accounts"]
# (e-mail, full name, role, team index, heads the team)
USERS = [
    (MANAGER_EMAIL, "Bench Manager", "manager", 0, False),
    (OWN_ONLY_EMAIL, "Bench Own-only", OWN_ONLY_ROLE, 0, False),
    ("olga.head@example.com", "Ольга Руководитель", "head-of-sales", 0, True),
    ("ivan@example.com", "Иван Продажин", "manager", 0, False),
    ("maria@example.com", "Мария Клиентова", "manager", 0, False),
    ("pavel@example.com", "Павел Оптов", "manager", 0, False),
    ("yael.head@example.com", "יעל מנהלת", "head-of-sales", 1, True),
    ("noam@example.com", "נועם מכירות", "manager", 1, False),
    ("shira@example.com", "שירה לקוחות", "manager", 1, False),
    ("aram.head@example.com", "Արամ Ղեկավար", "head-of-sales", 2, True),
    ("lilit@example.com", "Լիլիթ Վաճառք", "manager", 2, False),
    ("gor@example.com", "Գոռ Հաճախորդ", "manager", 2, False),
    ("james@example.com", "James Keyaccount", "manager", 3, True),
    ("emily@example.com", "Emily Partner", "manager", 3, False),
    ("support@example.com", "Support Desk", "support", 3, False),
    ("marketing@example.com", "Marketing Team", "marketing", 3, False),
]
OWNER_ROLES = {"manager", "head-of-sales", OWN_ONLY_ROLE}

CUSTOM_FIELDS = [
    ("person", "segment", "Segment", "choice", ["retail", "wholesale", "dealer"], ""),
    ("person", "budget", "Budget", "money", [], "RUB"),
    ("person", "newsletter", "Reads the newsletter", "boolean", [], ""),
    ("person", "first_order", "First order", "date", [], ""),
    ("company", "industry", "Industry", "choice", ["construction", "retail", "hotels"], ""),
    ("company", "employees", "Employees", "number", [], ""),
]


@dataclass(frozen=True)
class Org:
    owner_ids: list[int]
    tags: dict[int, str]  # id -> name, in the order the database sorts the names


@transaction.atomic
def make_org() -> Org:
    """Teams, the own-only role, users, tags and custom fields of an empty database."""
    from accord.accounts.models import Role, Team
    from accord.accounts.roles import levels
    from accord.accounts.services import user_create
    from accord.contacts.models import Tag
    from accord.core.models import CustomField
    from accord.core.visibility import NONE, OWN

    teams = [Team.objects.create(name=name) for name in TEAMS]
    Role.objects.create(
        slug=OWN_ONLY_ROLE, name="Own clients only", access=levels(OWN, OWN, settings=(NONE, NONE))
    )
    owner_ids = []
    for email, name, role, team, heads in USERS:
        user = user_create(
            email=email,
            password=PASSWORD,
            role=role,
            full_name=name,
            team=teams[team],
            check_password=False,
        )
        if heads:
            Team.objects.filter(pk=teams[team].pk).update(head=user)
        if role in OWNER_ROLES:
            owner_ids.append(user.pk)
    Tag.objects.bulk_create(Tag(name=name) for name in TAGS)
    for position, (record_type, key, label, kind, choices, currency) in enumerate(CUSTOM_FIELDS):
        CustomField.objects.create(
            record_type=record_type,
            key=key,
            label=label,
            type=kind,
            choices=choices,
            currency=currency,
            position=position,
        )
    # In the database's order of names (its collation), as record.tags.all() reads them.
    return Org(owner_ids=owner_ids, tags={tag.pk: tag.name for tag in Tag.objects.all()})


def card_person_id(people: int) -> int:
    """The person whose card the runner opens (given a 5,000-event timeline)."""
    return people // 2 + 1
