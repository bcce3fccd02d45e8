"""One person or company as the rows Accord's services would write for it.

Pure Python, no database: a record is its row (as {attname: value}), its contact
points, its tag ids and its search body, composed like contacts.services.reindex.
"""

import datetime
import itertools
import random
from dataclasses import dataclass, field
from decimal import Decimal

from accord.core.search import point_terms
from bench import names
from bench.phones import make_phone, phone_for

FIVE_YEARS = 5 * 365 * 24 * 3600
SAVE_GAP = datetime.timedelta(milliseconds=4)  # create() saves twice: updated_at trails


@dataclass
class Built:
    """A record's rows: the record itself, its contact points, tag ids and search body."""

    row: dict
    points: list[dict] = field(default_factory=list)
    tag_ids: list[int] = field(default_factory=list)
    body: str = ""
    typed_phones: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Context:
    """What records refer to: owners, tags, companies (names and web domains), the time."""

    owner_ids: list[int]
    tags: dict[int, str]
    company_names: list[str]
    company_domains: list[str]
    now: datetime.datetime


LANGUAGES = [language for language, _weight in names.LANGUAGES]
LANGUAGE_WEIGHTS = list(itertools.accumulate(weight for _language, weight in names.LANGUAGES))


def pick_language(rng: random.Random) -> str:
    return rng.choices(LANGUAGES, cum_weights=LANGUAGE_WEIGHTS)[0]


def feminine(last: str, latin: bool) -> str:
    """Russian family names take the female form: Петров -> Петрова, Ковальский -> -ская."""
    if latin:
        return last[:-1] + "aya" if last.endswith("y") else last + "a"
    return last[:-2] + "ая" if last.endswith("ий") else last + "а"


def make_name(rng: random.Random, language: str) -> tuple[str, str, str, str, str, str]:
    """(first, middle, last, gender, Latin first, Latin last)."""
    gender = rng.choice(["male", "female"])
    first, first_latin = rng.choice(names.FIRST[language, gender])
    last, last_latin = rng.choice(names.LAST[language])
    latin = language != "en" and rng.random() < 0.08  # typed in Latin letters
    if latin:
        first, last = first_latin.capitalize(), last_latin.capitalize()
    if language == "ru" and gender == "female":
        last = feminine(last, latin)
        last_latin = feminine(last_latin, True)
    middle = ""
    if language == "ru" and not latin and rng.random() < 0.5:
        middle = rng.choice(names.PATRONYMICS)[gender == "female"]
    return first, middle, last, gender, first_latin, last_latin


def email_for(rng: random.Random, first: str, last: str, language: str) -> str:
    year = rng.randrange(60, 100) if rng.random() < 0.5 else rng.randrange(1, 9999)
    local = rng.choice(
        [f"{first}.{last}", f"{first}{last}{year}", f"{first[0]}.{last}{year}",
         f"{last}.{first}{year}", f"{first}_{last}{year}"]
    )  # fmt: skip
    return f"{local}@{rng.choice(names.MAIL_DOMAINS[language])}"


def times(rng: random.Random, now: datetime.datetime) -> dict:
    created = now - datetime.timedelta(seconds=rng.randrange(86400, FIVE_YEARS))
    edits = rng.choice([0, 0, 0, 1, 2, 5])
    span = (now - created).total_seconds()
    updated = created + (datetime.timedelta(seconds=rng.uniform(0, span)) if edits else SAVE_GAP)
    contact = created + datetime.timedelta(seconds=rng.uniform(0, span))
    return {
        "created_at": created,
        "updated_at": updated,
        "version": 1 + edits,
        "last_contact_at": contact if rng.random() < 0.5 else None,
    }


def place(rng: random.Random, language: str) -> tuple[str, str]:
    if rng.random() < names.MAIN_CITY_SHARE:
        city = names.MAIN_CITY
    else:
        city = rng.choice(names.CITIES[language])
    return city, names.COUNTRY_OF_CITY[city]


def contact_points(phones: list[str], emails: list[str], rng: random.Random) -> list[dict]:
    """Phones then e-mails, as set_contact_points writes them (phones are saved first)."""
    points = [
        {"kind": "phone", "value": value, "label": rng.choice(names.PHONE_LABELS), "position": i}
        for i, value in enumerate(phones)
    ]
    points += [
        {"kind": "email", "value": value, "label": rng.choice(names.EMAIL_LABELS), "position": i}
        for i, value in enumerate(emails)
    ]
    return points


def search_body(title: str, points: list[dict], tag_names: list[str], tail: list[str]) -> str:
    """The text contacts.services.reindex indexes: points in (position, id) order, then
    the tags in the database's order of names, then the city (and the company)."""
    parts = [title]
    ordered = sorted(points, key=lambda p: (p["position"], p["kind"] != "phone"))
    for point in ordered:
        parts.extend(point_terms(point["kind"], point["value"]))
    parts.extend(tag_names)
    parts.extend(tail)
    return " ".join(part for part in parts if part)


def pick_tags(rng: random.Random, tags: dict[int, str], share: float) -> list[int]:
    """Some tag ids, in the order of `tags` (the database's order of their names)."""
    if rng.random() >= share:
        return []
    order = list(tags)
    return sorted(rng.sample(order, rng.choice([1, 1, 2, 3])), key=order.index)


def person_custom_fields(rng: random.Random, created: datetime.datetime) -> dict:
    """Values as core.custom_fields.clean_value stores them (money as a 2-place string)."""
    values: dict = {}
    if rng.random() < 0.5:
        values["segment"] = rng.choice(["retail", "wholesale", "dealer"])
    if rng.random() < 0.3:
        values["budget"] = str(Decimal(rng.randrange(5, 2000) * 1000).quantize(Decimal("0.01")))
    if rng.random() < 0.3:
        values["newsletter"] = rng.random() < 0.5
    if rng.random() < 0.2:
        values["first_order"] = (created + datetime.timedelta(days=rng.randrange(60))).date()
        values["first_order"] = values["first_order"].isoformat()
    return values


def person_phones(rng: random.Random, language: str) -> list[tuple[str, str]]:
    count = rng.choices([0, 1, 2], [5, 85, 10])[0]
    typed = [phone_for(rng, language) for _n in range(count)]
    return list({e164: (e164, t) for e164, t in typed}.values())  # services drop duplicates


def person_emails(rng, language, first_latin, last_latin, company_domain) -> list[str]:
    count = rng.choices([0, 1, 2], [15, 77, 8])[0]
    emails = [email_for(rng, first_latin, last_latin, language) for _n in range(count)]
    if emails and company_domain and rng.random() < 0.3:
        emails[0] = f"{first_latin}.{last_latin}@{company_domain}"
    return list(dict.fromkeys(emails))


def person_row(rng: random.Random, pk: int, language: str, name: tuple, ctx: Context) -> dict:
    first, middle, last, gender, _first_latin, _last_latin = name
    city, country = place(rng, language)
    owner = rng.choice(ctx.owner_ids) if rng.random() < 0.97 else None
    stamps = times(rng, ctx.now)
    consent = rng.random() < 0.55
    birthday = datetime.date(rng.randrange(1950, 2006), rng.randrange(1, 13), rng.randrange(1, 29))
    return {
        "id": pk, **stamps, "created_by_id": owner or rng.choice(ctx.owner_ids),
        "owner_id": owner, "city": city, "country": country,
        "address": names.STREETS[language].format(n=rng.randrange(1, 200), m=rng.randrange(1, 300))
        if rng.random() < 0.2 else "",
        "source": rng.choice(names.SOURCES) if rng.random() < 0.85 else "",
        "custom_fields": person_custom_fields(rng, stamps["created_at"]),
        "first_name": first, "middle_name": middle, "last_name": last,
        "full_name": " ".join(part for part in (first, middle, last) if part),
        "kind": "client" if rng.random() < 0.6 else "lead",
        "company_id": rng.randrange(1, len(ctx.company_names) + 1)
        if ctx.company_names and rng.random() < 0.4 else None,
        "birthday": birthday if rng.random() < 0.3 else None,
        "gender": gender if rng.random() < 0.6 else "",
        "marketing_consent": consent, "consent_at": stamps["created_at"] if consent else None,
        "consent_source": rng.choice(["web form", "phone", "shop"]) if consent else "",
    }  # fmt: skip


def make_person(rng: random.Random, pk: int, ctx: Context) -> Built:
    language = pick_language(rng)
    name = make_name(rng, language)
    first_latin, last_latin = name[4:]
    row = person_row(rng, pk, language, name, ctx)
    company = row["company_id"]
    domain = ctx.company_domains[company - 1] if company else ""
    phones = person_phones(rng, language)
    emails = person_emails(rng, language, first_latin, last_latin, domain)
    points = contact_points([e164 for e164, _t in phones], emails, rng)
    row["primary_phone"] = phones[0][0] if phones else ""
    row["primary_email"] = emails[0] if emails else ""
    tag_ids = pick_tags(rng, ctx.tags, 0.3)
    tail = [row["city"], ctx.company_names[company - 1] if company else ""]
    body = search_body(row["full_name"], points, [ctx.tags[t] for t in tag_ids], tail)
    return Built(row, points, tag_ids, body, phones)


def company_name(rng: random.Random, language: str) -> str:
    words = rng.sample(names.COMPANY_WORDS[language], rng.choice([1, 2]))
    core = ("" if language == "hy" else " ").join(words) if len(words) > 1 else words[0]
    if language == "ru" and len(words) > 1:
        core = words[0] + words[1].lower()  # "Оконстрой" style
    return rng.choice(names.COMPANY_FORMS[language]).format(core)


def make_company(rng: random.Random, pk: int, ctx: Context) -> tuple[Built, str]:
    """The company's rows and its web domain (people's work e-mails use it)."""
    language = pick_language(rng)
    city, country = place(rng, language)
    owner = rng.choice(ctx.owner_ids) if rng.random() < 0.97 else None
    name = company_name(rng, language)
    domain = f"{rng.choice(names.COMPANY_WORDS['en']).lower()}{pk}{names.COMPANY_DOMAINS[language]}"
    plan = {"ru": "RU-landline", "he": "IL", "hy": "AM", "en": "GB"}[language]
    phone = make_phone(rng, plan)
    emails = [f"info@{domain}"] if rng.random() < 0.8 else []
    industry = {"industry": rng.choice(["construction", "retail", "hotels"])}
    row = {
        "id": pk, **times(rng, ctx.now), "created_by_id": owner or rng.choice(ctx.owner_ids),
        "owner_id": owner, "name": name, "city": city, "country": country,
        "kind": rng.choices(["client", "supplier", "partner"], [70, 15, 15])[0],
        "website": f"www.{domain}" if rng.random() < 0.6 else "",
        "source": rng.choice(names.SOURCES),
        "custom_fields": industry if rng.random() < 0.4 else {},
        "primary_phone": phone[0], "primary_email": emails[0] if emails else "",
    }  # fmt: skip
    points = contact_points([phone[0]], emails, rng)
    tag_ids = pick_tags(rng, ctx.tags, 0.2)
    body = search_body(name, points, [ctx.tags[t] for t in tag_ids], [city])
    return Built(row, points, tag_ids, body, [phone]), domain
