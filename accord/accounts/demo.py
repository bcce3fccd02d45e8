"""The demo company's people: one user in each shipped role."""

from django.conf import settings

from accord.accounts.models import Team, User
from accord.accounts.services import team_save, user_create

DEMO_USERS = [
    ("admin@example.com", "Anna Petrosyan", "administrator", ""),
    ("head@example.com", "David Cohen", "head-of-sales", ""),
    ("manager@example.com", "Maria Ivanova", "manager", ""),
    ("manager2@example.com", "Tigran Hakobyan", "manager", ""),
    ("marketing@example.com", "Noa Levi", "marketing", ""),
    ("support@example.com", "Pierre Weber", "support", ""),
    ("viewer@example.com", "Olga Smirnova", "read-only", ""),
]


DEMO_TEAMS = [
    ("Sales", "head@example.com", ["manager@example.com", "manager2@example.com"]),
    ("Marketing", None, ["marketing@example.com"]),
    ("Support", None, ["support@example.com"]),
]


def populate() -> list[tuple[str, str]]:
    """Create the demo users and teams that are missing; answers (e-mail, role) per user."""
    logins = []
    for email, full_name, role, language in DEMO_USERS:
        if not User.objects.filter(email=email).exists():
            user_create(
                email=email,
                password=settings.ACCORD_DEMO_PASSWORD,
                role=role,
                full_name=full_name,
                language=language,
                check_password=False,
            )
        logins.append((email, role))
    admin = User.objects.get(email="admin@example.com")
    for name, head, members in DEMO_TEAMS:
        if not Team.objects.filter(name=name).exists():
            team_save(
                actor=admin,
                name=name,
                head=User.objects.filter(email=head).first() if head else None,
                members=list(User.objects.filter(email__in=members)),
            )
    return logins


def existing_logins() -> list[tuple[str, str]]:
    """The demo users still present, for reminding who can log in."""
    present = set(
        User.objects.filter(email__in=[u[0] for u in DEMO_USERS]).values_list("email", flat=True)
    )
    return [(email, role) for email, _name, role, _language in DEMO_USERS if email in present]
