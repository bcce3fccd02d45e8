"""The holidays the holiday greeting goes out on (Settings → Automation → Holidays): their
writes — add, remove, and the sensible first list for the company's country — and which
clients a day's holidays greet."""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.accounts.models import User
from accord.automation.models import Holiday
from accord.contacts.models import Person
from accord.core.company import company

# (country, month, day, year or None, name): New Year for everyone, then the company's
# country's own days. Holidays of the Hebrew calendar move: their dates are listed by year.
SEEDS = [
    ("", 1, 1, None, gettext_lazy("New Year")),
    ("IL", 9, 12, 2026, gettext_lazy("Rosh Hashanah")),
    ("IL", 10, 2, 2027, gettext_lazy("Rosh Hashanah")),
    ("IL", 4, 2, 2026, gettext_lazy("Passover")),
    ("IL", 4, 22, 2027, gettext_lazy("Passover")),
    ("RU", 2, 23, None, gettext_lazy("Defender of the Fatherland Day")),
    ("RU", 3, 8, None, gettext_lazy("International Women's Day")),
    ("RU", 5, 9, None, gettext_lazy("Victory Day")),
    ("AM", 1, 28, None, gettext_lazy("Army Day")),
    ("AM", 3, 8, None, gettext_lazy("International Women's Day")),
    ("AM", 9, 21, None, gettext_lazy("Independence Day")),
    ("LU", 6, 23, None, gettext_lazy("National Day")),
    ("LU", 12, 25, None, gettext_lazy("Christmas")),
]


def require_automation(actor: User) -> None:
    # As automation.services' check; not imported: the services import the scheduler,
    # which reads the holidays.
    if not actor.can("manage_automation"):
        raise PermissionDenied(_("Your role does not allow managing automation."))


@transaction.atomic
def holiday_save(
    *, actor: User, name: str, country: str, month: int, day: int, year: int | None = None
) -> Holiday:
    require_automation(actor)
    errors: dict[str, list[str]] = {}
    name = str(name or "").strip()
    if not name or len(name) > 100:
        errors["name"] = [_("Give the holiday a name (at most 100 characters).")]
    country = str(country or "").strip().upper()
    if country and (len(country) != 2 or not country.isalpha()):
        errors["country"] = [_("Use the two-letter country code, e.g. DE, IL, AM.")]
    try:
        datetime.date(year or 2024, int(month), int(day))  # 2024: 29 February exists
    except (TypeError, ValueError):
        errors["day"] = [_("There is no such day.")]
    if year is not None and not 2000 <= int(year) <= 2100:
        errors["year"] = [_("A year from 2000 to 2100, or empty for every year.")]
    if errors:
        raise ValidationError(errors)
    return Holiday.objects.create(name=name, country=country, month=int(month), day=int(day),
                                  year=year)  # fmt: skip


@transaction.atomic
def holiday_delete(*, actor: User, holiday: Holiday) -> None:
    require_automation(actor)
    holiday.delete()


@transaction.atomic
def holidays_seed(*, actor: User) -> int:
    """The first list, when there is none: New Year, and the company country's days
    (named in the installer's language). Answers how many were added."""
    require_automation(actor)
    if Holiday.objects.exists():
        return 0
    country = (company().country or "").upper()
    rows = [Holiday(name=str(name), country=code, month=month, day=day, year=year)
            for code, month, day, year, name in SEEDS if code in ("", country)]  # fmt: skip
    Holiday.objects.bulk_create(rows)
    return len(rows)


def greeted_on(day: datetime.date):
    """(holiday, people's ids) of the day's holidays: each greets the clients of its
    country (one with no country counts as the company's), or everyone."""
    home = (company().country or "").upper()
    holidays = Holiday.objects.filter(month=day.month, day=day.day).filter(
        Q(year=None) | Q(year=day.year)
    )
    for holiday in holidays:
        people = Person.objects.filter(erased_at=None)
        if holiday.country:
            place = Q(country=holiday.country)
            if holiday.country == home:
                place |= Q(country="")
            people = people.filter(place)
        yield holiday, people.values_list("pk", flat=True)
