"""The demo company's clients: people and companies from four markets, with notes."""

import random
from datetime import timedelta

from django.utils import timezone

from accord.accounts.models import User
from accord.contacts.models import Company, Person
from accord.contacts.services.clients import note_add
from accord.contacts.services.companies import company_create
from accord.contacts.services.people import person_create
from accord.core.timeline import timeline_of

COMPANIES = [
    ("Окна Плюс", "client", "+74952223344", "Moscow", "RU"),
    ("Haifa Windows Ltd", "client", "+97248123456", "Haifa", "IL"),
    ("Արարատ Շին", "partner", "+37410555123", "Yerevan", "AM"),
    ("Luxembourg Glass Sàrl", "supplier", "+352621123456", "Luxembourg", "LU"),
    ("СтройМаркет", "client", "+78123334455", "Saint Petersburg", "RU"),
    ("Tel Aviv Interiors", "client", "+97235551234", "Tel Aviv", "IL"),
    ("Profile Systems GmbH", "supplier", "+4930123456", "Berlin", "DE"),
    ("Ереван Дизайн", "client", "+37460712345", "Yerevan", "AM"),
]
PEOPLE = [
    ("Иван", "Петров", "RU"), ("Ольга", "Смирнова", "RU"), ("Дмитрий", "Соколов", "RU"),
    ("Анна", "Кузнецова", "RU"), ("Сергей", "Волков", "RU"), ("Мария", "Лебедева", "RU"),
    ("Алексей", "Морозов", "RU"), ("Елена", "Новикова", "RU"), ("נועה", "כהן", "IL"),
    ("יוסי", "לוי", "IL"), ("מיכל", "מזרחי", "IL"), ("אבי", "פרץ", "IL"), ("שירה", "ביטון", "IL"),
    ("דניאל", "אברהם", "IL"), ("Արամ", "Սարգսյան", "AM"), ("Անի", "Հովհաննիսյան", "AM"),
    ("Դավիթ", "Գրիգորյան", "AM"), ("Լիլիթ", "Պետրոսյան", "AM"), ("Գոռ", "Վարդանյան", "AM"),
    ("Marie", "Weber", "LU"), ("Jean", "Schmit", "LU"), ("Laura", "Muller", "LU"),
    ("Tom", "Hoffmann", "LU"), ("John", "Smith", "GB"), ("Emily", "Brown", "GB"),
    ("David", "Miller", "US"), ("Sarah", "Wilson", "US"), ("Tigran", "Avetisyan", "AM"),
    ("Natalia", "Orlova", "RU"), ("Eitan", "Shapiro", "IL"),
]  # fmt: skip
# Country -> (mobile prefix, digits after it): real-looking, valid numbers.
PHONES = {"RU": ("+7916", 7), "IL": ("+97253", 7), "AM": ("+37491", 6), "LU": ("+352661", 6),
          "GB": ("+447711", 6), "US": ("+1415555", 4), "DE": ("+49151", 8)}  # fmt: skip
CITIES = {"RU": ["Moscow", "Kazan", "Saint Petersburg"], "IL": ["Haifa", "Tel Aviv", "Jerusalem"],
          "AM": ["Yerevan", "Gyumri"], "LU": ["Luxembourg", "Esch-sur-Alzette"],
          "GB": ["London"], "US": ["San Francisco"], "DE": ["Berlin"]}  # fmt: skip
SOURCES = ["web site", "phone call", "referral", "exhibition", "Instagram", "walk-in"]
TAGS = ["vip", "wholesale", "installation", "repeat", "newsletter"]
NOTES = [
    "Called: wants a quote for three windows, white PVC.",
    "Measurements taken on site, sent to the estimator.",
    "Prefers WhatsApp over calls in the afternoon.",
    "Asked about a discount for a second order.",
    "Left a request on the web site, call back within 15 minutes.",
]


def populate() -> None:
    """Add the demo clients once (skipped when clients exist already)."""
    if Person.objects.exists() or Company.objects.exists():
        return
    rng = random.Random(2026)
    owners = list(
        User.objects.filter(role__slug__in=["manager", "head-of-sales"]).order_by("email")
    )
    admin = User.objects.get(email="admin@example.com")
    companies = []
    for name, kind, phone, city, country in COMPANIES:
        companies.append(company_create(actor=admin, data={
            "name": name, "kind": kind, "phones": [{"number": phone, "label": "work"}],
            "city": city, "country": country, "owner": rng.choice(owners),
            "source": rng.choice(SOURCES),
        }))  # fmt: skip
    for index, (first, last, country) in enumerate(PEOPLE):
        owner = rng.choice(owners)
        prefix, digits = PHONES[country]
        number = prefix + "".join(str(rng.randrange(10)) for _digit in range(digits))
        email = f"{first}.{last}".lower() if first.isascii() else f"client{index}"
        person = person_create(actor=owner, data={
            "first_name": first, "last_name": last,
            "kind": "client" if index % 3 else "lead",
            "phones": [{"number": number, "label": "mobile"}],
            "emails": [{"address": f"{email}@example.net", "label": ""}],
            "company": rng.choice(companies) if index % 2 else None,
            "city": rng.choice(CITIES[country]), "country": country,
            "source": rng.choice(SOURCES), "tags": rng.sample(TAGS, rng.randrange(0, 3)),
            "marketing_consent": index % 4 != 0,
        })  # fmt: skip
        for text in rng.sample(NOTES, rng.randrange(0, 3)):
            note_add(actor=owner, record=person, text=text)
    for record in [*companies, *Person.objects.all()]:
        _backdate(record, rng)


def _backdate(record, rng) -> None:
    """Clients came in over the past two years: their cards and first history say so (the
    deals and calls of the other demos fall within the last year, after it)."""
    start = timezone.now() - timedelta(days=rng.uniform(370, 730))
    type(record).objects.filter(pk=record.pk).update(created_at=start)
    for event in timeline_of(record).order_by("id"):
        event.occurred_at = start
        event.save(update_fields=["occurred_at"])
        start += timedelta(days=rng.uniform(1, 5))
