"""Reads of people and companies, always scoped to what the acting user may see."""

import datetime

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.contacts.models import Company, ContactPoint, Person, Segment, Tag
from accord.core.models import CustomField
from accord.core.search import matching, search_ids
from accord.core.timeline import timeline_of
from accord.core.visibility import READ, scope

RECORD_TYPE = "clients"
# Sortable columns (each has a (column, id) index for its keyset pages).
COLUMN_SORTS = {
    "city",
    "country",
    "source",
    "kind",
    "primary_phone",
    "primary_email",
    "created_at",
    "updated_at",
}
PERSON_SORTS = {"full_name", *COLUMN_SORTS}
COMPANY_SORTS = {"name", *COLUMN_SORTS}


def people_visible_to(user, action: str = READ) -> QuerySet[Person]:
    return scope(
        Person.objects.select_related("owner", "company"),
        user=user,
        record_type=RECORD_TYPE,
        action=action,
    )


def companies_visible_to(user, action: str = READ) -> QuerySet[Company]:
    return scope(
        Company.objects.select_related("owner"), user=user, record_type=RECORD_TYPE, action=action
    )


def client_named(user, params) -> tuple[Person | None, Company | None]:
    """The person (`?person=ID`) or the company (`?company=ID`) a client page's card asks
    for, if the user may see it; (None, None) when it names nobody they may see."""
    for key, visible in (("person", people_visible_to), ("company", companies_visible_to)):
        if str(params.get(key, "")).isdecimal():
            found = visible(user).filter(pk=params[key]).first()
            return (found, None) if key == "person" else (None, found)
    return None, None


SEARCH_BATCH = 200
SEARCH_DEPTH = 2000  # ranked candidates looked at, at most, for one box search


def search_people(user, query: str, limit: int = 10) -> list[Person]:
    return _best_visible("person", people_visible_to(user), query, limit)


def search_companies(user, query: str, limit: int = 10) -> list[Company]:
    return _best_visible("company", companies_visible_to(user), query, limit)


def _best_visible(kind: str, visible: QuerySet, query: str, limit: int) -> list:
    """The best-ranked matches the user may see: ranked candidates in batches, each batch
    passed through the visibility scope, until `limit` are found."""
    found: list = []
    for offset in range(0, SEARCH_DEPTH, SEARCH_BATCH):
        ids = search_ids(kind, query, limit=SEARCH_BATCH, offset=offset)
        records = visible.in_bulk(ids)
        found.extend(records[pk] for pk in ids if pk in records)
        if len(found) >= limit or len(ids) < SEARCH_BATCH:
            break
    return found[:limit]


# --- Filters (lists, segments, the API) -----------------------------------------------

CLIENT_FILTERS = {
    "kind", "owner", "tag", "city", "country", "source", "created_after", "created_before",
    "no_contact_days", "q", "has_email", "has_phone", "open_deal",
}  # fmt: skip
FILTERS = {"person": CLIENT_FILTERS | {"company"}, "company": CLIENT_FILTERS}


def filter_clients(queryset: QuerySet, kind: str, filters: dict[str, str], *, user) -> QuerySet:
    """Apply list filters given as {name: value}; an unknown name or a bad value is refused.

    Custom fields filter as `cf.<key>` (equality; for multi-choice, "contains").
    """
    errors: dict[str, list[str]] = {}
    for name, raw in filters.items():
        value = str(raw).strip()
        if value == "":
            continue
        if name.startswith("cf."):
            queryset = _custom_field_filter(queryset, name[3:], value)
            continue
        if name not in FILTERS[kind]:
            errors[name] = [_("There is no filter %(name)s.") % {"name": name}]
            continue
        try:
            queryset = _apply(queryset, kind, name, value, user)
        except ValueError as error:
            errors[name] = [str(error)]
    if errors:
        raise ValidationError(errors)
    return queryset


# Up to this many records with a tag, a tagged list reads them all and sorts them; past it,
# it walks the list's own sort index and keeps the tagged ones (a page is found early).
TAGGED_FEW = 5000


def _tagged(queryset: QuerySet, name: str) -> QuerySet:
    """The records with the tag (by name, any case) in a shape the database's planner
    reads well: a join on the tag's name made SQLite scan every tag link and sort all
    the matches (290 ms at a million people) whatever the page."""
    tags = list(Tag.objects.filter(name__iexact=name).values_list("pk", flat=True))
    if not tags:
        return queryset.none()
    link = f"{queryset.model._meta.model_name}_id"
    links = queryset.model.tags.through.objects.filter(tag_id__in=tags)
    if links[:TAGGED_FEW].count() < TAGGED_FEW:
        return queryset.filter(pk__in=links.values(link))
    return queryset.filter(Exists(links.filter(**{link: OuterRef("pk")})))


def _apply(queryset, kind, name, value, user):
    if name == "owner":
        if value == "me":
            return queryset.filter(owner=user)
        if value == "none":
            return queryset.filter(owner__isnull=True)
        return queryset.filter(owner_id=_int(value))
    if name == "tag":
        return _tagged(queryset, value)
    if name == "company":
        return queryset.filter(company_id=_int(value))
    if name in {"kind", "city", "source"}:
        return queryset.filter(**{f"{name}__iexact" if name != "kind" else name: value})
    if name == "country":
        return queryset.filter(country=value.upper())
    if name in {"created_after", "created_before"}:
        day = _date(value)
        if name == "created_after":
            return queryset.filter(created_at__date__gte=day)
        return queryset.filter(created_at__date__lte=day)
    if name == "no_contact_days":
        since = timezone.now() - datetime.timedelta(days=_int(value, high=36500))
        return queryset.filter(Q(last_contact_at__isnull=True) | Q(last_contact_at__lt=since))
    if name == "open_deal":  # "no": the clients with no open deal (nobody is working them)
        deal = apps.get_model("sales", "Deal")
        link = "person" if kind == "person" else "company"
        has_one = Exists(deal.objects.filter(**{link: OuterRef("pk")}, status="open"))
        return queryset.filter(has_one) if _bool(value) else queryset.filter(~has_one)
    if name in {"has_email", "has_phone"}:
        field = "primary_email" if name == "has_email" else "primary_phone"
        return queryset.exclude(**{field: ""}) if _bool(value) else queryset.filter(**{field: ""})
    if name == "q":
        if len(value) < 2:
            raise ValueError(_("Type at least two letters."))
        subquery = matching(kind, value)
        return queryset.filter(pk__in=subquery) if subquery is not None else queryset.none()
    raise ValueError(_("Unknown filter."))


def _custom_field_filter(queryset, key: str, value: str):
    field = CustomField.objects.filter(
        record_type=queryset.model._meta.model_name, key=key, retired=False
    ).first()
    if field is None:
        raise ValidationError(
            {f"cf.{key}": [_("There is no custom field %(key)s.") % {"key": key}]}
        )
    if field.type == "multi_choice":
        if connection.vendor == "sqlite":  # SQLite has no JSON containment: match the item
            return queryset.filter(**{f"custom_fields__{key}__icontains": f'"{value}"'})
        return queryset.filter(**{f"custom_fields__{key}__contains": [value]})
    if field.type == "boolean":
        return queryset.filter(**{f"custom_fields__{key}": _bool(value)})
    if field.type == "number":
        try:
            number = float(value)
        except ValueError:
            raise ValidationError({f"cf.{key}": [_("Enter a number.")]}) from None
        return queryset.filter(**{f"custom_fields__{key}": number})
    return queryset.filter(**{f"custom_fields__{key}": value})


def _int(value: str, high: int = 2**62) -> int:
    if not value.isdecimal() or int(value) > high:
        raise ValueError(_("Enter a whole number."))
    return int(value)


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ValueError(_("Enter a date as YYYY-MM-DD.")) from None


def _bool(value: str) -> bool:
    if value.lower() in {"1", "true", "yes"}:
        return True
    if value.lower() in {"0", "false", "no"}:
        return False
    raise ValueError(_("Enter yes or no."))


def likely_duplicates(user, kind: str, phones: list[str], emails: list[str], exclude=None) -> list:
    """Visible records sharing a normalised phone or e-mail with the given ones."""

    phones, emails = [v for v in phones if v], [v for v in emails if v]
    if not phones and not emails:
        return []
    owner_field = "person" if kind == "person" else "company"
    # By kind and value: the lookup index's order (a value alone reads every point).
    points = ContactPoint.objects.filter(
        Q(kind=ContactPoint.PHONE, value__in=phones) | Q(kind=ContactPoint.EMAIL, value__in=emails),
        **{f"{owner_field}__isnull": False},
    )
    ids = set(points.values_list(f"{owner_field}_id", flat=True)[:20])
    if exclude is not None:
        ids.discard(exclude.pk)
    visible = people_visible_to(user) if kind == "person" else companies_visible_to(user)
    return list(visible.filter(pk__in=ids)[:5])


def duplicate_pairs(user, kind: str, limit: int = 50) -> list[dict]:
    """Pairs of visible records that are likely the same client, with the reason.

    Same normalised phone or e-mail; for people also the same name in the same company.
    """

    owner_field = "person" if kind == "person" else "company"
    visible = people_visible_to(user) if kind == "person" else companies_visible_to(user)
    groups: list[tuple[str, list[int]]] = []
    shared = (
        ContactPoint.objects.filter(**{f"{owner_field}__isnull": False})
        .values("kind", "value")
        .annotate(n=Count(f"{owner_field}_id", distinct=True))
        .filter(n__gt=1)
        .order_by("value")[: limit * 2]
    )
    for row in shared:
        ids = ContactPoint.objects.filter(
            kind=row["kind"], value=row["value"], **{f"{owner_field}__isnull": False}
        ).values_list(f"{owner_field}_id", flat=True)
        groups.append((row["value"], sorted(set(ids))))
    if kind == "person":
        same_name = (
            Person.objects.filter(company__isnull=False)
            .annotate(name=Lower("full_name"))
            .values("company_id", "name")
            .annotate(n=Count("id"))
            .filter(n__gt=1)[:limit]
        )
        for row in same_name:
            ids = Person.objects.filter(company_id=row["company_id"], full_name__iexact=row["name"])
            groups.append((_("same name in one company"), sorted(ids.values_list("pk", flat=True))))
    pairs, seen = [], set()
    records = visible.in_bulk({pk for _reason, ids in groups for pk in ids})
    for reason, ids in groups:
        for index, first in enumerate(ids):
            for second in ids[index + 1 :]:
                if (first, second) in seen or first not in records or second not in records:
                    continue
                seen.add((first, second))
                pairs.append({"a": records[first], "b": records[second], "reason": reason})
    return pairs[:limit]


def person_data(person: Person) -> dict:
    """Everything Accord holds about one person, for a data-subject request (JSON-ready)."""

    return {
        "id": person.pk,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "middle_name": person.middle_name,
        "kind": person.kind,
        "company": person.company.name if person.company_id else None,
        "birthday": person.birthday.isoformat() if person.birthday else None,
        "gender": person.gender,
        "language": person.language,
        "city": person.city,
        "country": person.country,
        "address": person.address,
        "source": person.source,
        "owner": str(person.owner) if person.owner_id else None,
        "phones": [
            {"number": p.value, "label": p.label}
            for p in person.contact_points.filter(kind="phone")
        ],
        "emails": [
            {"address": p.value, "label": p.label}
            for p in person.contact_points.filter(kind="email")
        ],
        "tags": [tag.name for tag in person.tags.all()],
        "consent": {
            "marketing": person.marketing_consent,
            "given_at": person.consent_at.isoformat() if person.consent_at else None,
            "source": person.consent_source,
        },
        "custom_fields": person.custom_fields,
        "created_at": person.created_at.isoformat(),
        "updated_at": person.updated_at.isoformat(),
        "history": [
            {
                "kind": e.kind,
                "at": e.occurred_at.isoformat(),
                "by": str(e.actor) if e.actor_id else None,
                "data": e.data,
            }
            for e in timeline_of(person)
        ],
    }


def segments_visible_to(user, record_type: str | None = None):
    if not user.is_authenticated or not user.is_active:
        return Segment.objects.none()
    segments = Segment.objects.filter(Q(owner=user) | Q(shared=True)).select_related("owner")
    return segments.filter(record_type=record_type) if record_type else segments


def clients_by_email(addresses: list[str]) -> list[tuple[str, str, int, int | None]]:
    """(address, "person" or "company", id, a person's company id) of every client holding
    one of these addresses, whoever may see it: what a channel matches a message with
    (addresses are stored lower-cased; erased people hold none)."""
    return _clients_holding(ContactPoint.EMAIL, {address.lower() for address in addresses})


def clients_by_phone(numbers: list[str]) -> list[tuple[str, str, int, int | None]]:
    """`clients_by_email` for phone numbers (E.164, as stored): what a call or a text
    message is matched with, the oldest client first when several share a number."""
    return _clients_holding(ContactPoint.PHONE, set(numbers))


def _clients_holding(kind: str, values: set[str]) -> list[tuple[str, str, int, int | None]]:
    wanted = [value for value in values if value]
    if not wanted:
        return []
    points = (
        ContactPoint.objects.filter(kind=kind, value__in=wanted)
        .order_by("person_id", "company_id")
        .values_list(
            "value", "person_id", "person__company_id", "company_id", "person__erased_at",
            "company__erased_at",
        )
    )  # fmt: skip
    found = []
    for value, person_id, person_company, company_id, person_gone, company_gone in points:
        if person_id and not person_gone:
            found.append((value, "person", person_id, person_company))
        elif company_id and not company_gone:
            found.append((value, "company", company_id, None))
    return found
