"""The demo company's people: one user in each shipped role, their teams, work
schedules (one works Saturdays) and who is away when."""

from datetime import time, timedelta

from django.conf import settings
from django.utils import timezone

from accord.accounts.models import Absence, Team, User
from accord.accounts.services.schedules import absence_add, schedule_save
from accord.accounts.services.teams import team_save
from accord.accounts.services.users import user_create
from accord.core.models import CompanyProfile
from accord.core.services import company_profile_update

DEMO_USERS = [
    ("admin@example.com", "Anna Petrosyan", "administrator", ""),
    ("head@example.com", "David Cohen", "head-of-sales", ""),
    ("manager@example.com", "Maria Ivanova", "manager", ""),
    ("manager2@example.com", "Tigran Hakobyan", "manager", "ru"),  # reads in Russian
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
    working_time()
    company_profile()
    return logins


def company_profile() -> None:
    """The demo company: a window maker in Moscow that prices in euros."""
    if CompanyProfile.current().set_up_at:
        return
    company_profile_update(
        actor=User.objects.get(email="admin@example.com"),
        name="Okna Plus LLC",
        address="Moscow, Leninsky prospekt 42, office 12",
        tax_id="7701234567",
        bank_details="Bank: Tochka Bank\nAccount: 40702810000000001234\nBIC: 044525104",
        country="RU",
        currency="EUR",
        time_zone="Europe/Moscow",
        week_start=0,
        date_format="d.m.Y",
    )


def working_time() -> None:
    """Schedules for the sales team (one works Saturdays), and who is away when: a
    vacation next week, a sick leave last week, a business trip later, someone away now."""
    if Absence.objects.exists():
        return
    admin = User.objects.get(email="admin@example.com")
    by_email = {u.email: u for u in User.objects.all()}
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    hours = {
        "head@example.com": ([0, 1, 2, 3, 4], time(8, 30), time(17, 30)),
        "manager@example.com": ([0, 1, 2, 3, 4], time(9), time(18)),
        "manager2@example.com": ([0, 1, 2, 3, 4, 5], time(10), time(19)),
    }
    for email, (days, starts, ends) in hours.items():
        if email in by_email:
            schedule_save(
                actor=admin, user=by_email[email], weekdays=days, starts=starts, ends=ends
            )
    away = [  # who, kind, first and last day (days from this Monday), note
        ("manager2@example.com", "vacation", 7, 11, "Family trip"),
        ("manager@example.com", "sick", -6, -5, ""),
        ("head@example.com", "trip", 22, 23, "Window fair in Nuremberg"),
        ("marketing@example.com", "vacation", today.weekday() - 1, today.weekday() + 3, ""),
    ]
    for email, kind, first, last, note in away:
        if email in by_email:
            absence_add(
                actor=admin,
                user=by_email[email],
                kind=kind,
                starts=monday + timedelta(days=first),
                ends=monday + timedelta(days=last),
                note=note,
            )


def existing_logins() -> list[tuple[str, str]]:
    """The demo users still present, for reminding who can log in."""
    present = set(
        User.objects.filter(email__in=[u[0] for u in DEMO_USERS]).values_list("email", flat=True)
    )
    return [(email, role) for email, _name, role, _language in DEMO_USERS if email in present]
