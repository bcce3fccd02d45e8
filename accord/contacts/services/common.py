"""What every contacts service shares: permission, timeline snapshot, search body, events."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.contacts.models import Company, Person
from accord.core.events import emit
from accord.core.phones import display_phone
from accord.core.search import index_record, point_terms
from accord.core.timeline import field_changes, timeline_record
from accord.core.visibility import NONE, WRITE, effective_level, may_change

RECORD_TYPE = "clients"
PERSON_FIELDS = [
    "first_name",
    "last_name",
    "middle_name",
    "kind",
    "company",
    "birthday",
    "gender",
    "city",
    "country",
    "address",
    "source",
    "owner",
    "marketing_consent",
    "consent_source",
    "language",
]
COMPANY_FIELDS = ["name", "kind", "website", "city", "country", "address", "source", "owner"]


def require_write(actor: User, record=None) -> None:
    """The actor may change clients at all, and this one in particular."""
    if effective_level(actor, RECORD_TYPE, WRITE) == NONE:
        raise PermissionDenied(_("Your role does not allow changing clients."))
    if record is not None and not can_change(actor, record):
        raise PermissionDenied(_("You may not change this client."))


def can_change(actor: User, record) -> bool:
    return may_change(actor, RECORD_TYPE, record.owner)


def snapshot(record) -> dict[str, Any]:
    """The values the timeline compares, in a form a person reads."""
    values = {}
    fields = PERSON_FIELDS if isinstance(record, Person) else COMPANY_FIELDS
    for name in fields:
        value = getattr(record, name)
        values[name] = str(value) if isinstance(value, User | Company) else value
    values["phones"] = [
        display_phone(p.value) for p in record.contact_points.all() if p.kind == "phone"
    ]
    values["emails"] = [p.value for p in record.contact_points.all() if p.kind == "email"]
    values["tags"] = sorted(tag.name for tag in record.tags.all())
    values.update({f"custom_fields.{k}": v for k, v in record.custom_fields.items()})
    return values


def reindex(record, *, points: list[tuple[str, str]] | None = None, tags=None) -> None:
    """A client's search entry anew; `points` ((kind, value)) and `tags` (names) when the
    caller knows them (a record it has just made), else read."""
    company = record.company.name if isinstance(record, Person) and record.company_id else ""
    if points is None:
        points = [(point.kind, point.value) for point in record.contact_points.all()]
    if tags is None:
        tags = [tag.name for tag in record.tags.all()]
    parts = search_parts(str(record), record.city, points, list(tags), company)
    index_record("person" if isinstance(record, Person) else "company", record.pk, parts)


def search_parts(
    name: str, city: str, points: list[tuple[str, str]], tags: list[str], company: str
) -> list:
    """What a client's search body holds: name, phones and e-mails (every way they are
    typed), tags, city, a person's company. One rule for the services and the import."""
    parts = [name]
    for kind, value in points:
        parts.extend(point_terms(kind, value))
    parts.extend(tags)
    parts.append(city)
    parts.append(company)
    return parts


def kind_of(record) -> str:
    return "person" if isinstance(record, Person) else "company"


def save_changed(record, *, before: dict, actor: User):
    """Save a changed client as a new version: the change on its timeline (field, old ->
    new, against the `before` snapshot), the search index and `<kind>.updated`."""
    record.version += 1
    record.save()
    record = type(record).objects.get(pk=record.pk)  # fresh relations for the comparison
    after = snapshot(record)
    changes = field_changes(before, after, sorted(set(before) | set(after)))
    if changes:
        timeline_record(subject=record, kind="changed", actor=actor, data={"changes": changes})
    reindex(record)
    kind = kind_of(record)
    emit(
        f"{kind}.updated",
        **{
            f"{kind}_id": record.pk,
            "actor_id": actor.pk,
            "fields": [c["field"] for c in changes],
            "changes": changes,
        },
    )
    return record


def announce_deleted(*, actor: User, record, record_id: int) -> None:
    """`<kind>.deleted`, with what a rule on the deletion may still show: the record is gone
    once this commits."""
    kind = kind_of(record)
    emit(
        f"{kind}.deleted",
        **{f"{kind}_id": record_id, "actor_id": actor.pk},
        display_name=str(record),
        email=record.primary_email,
        phone=record.primary_phone,
        owner_id=record.owner_id,
    )
