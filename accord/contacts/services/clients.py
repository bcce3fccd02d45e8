"""Writes about people and companies: create, change, notes, delete, merge, erase.

Every function checks the actor's right to change clients, validates the whole input
before writing anything, records the change on the timeline and indexes the record
for search, all in one transaction; domain events go out after commit.
"""

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.contacts.models import Company, ContactPoint, Person, Segment, Tag
from accord.contacts.queries import companies_visible_to, filter_clients, people_visible_to
from accord.core.custom_fields import clean_custom_fields
from accord.core.errors import StaleVersion
from accord.core.events import emit
from accord.core.limits import MAX_EMAILS, MAX_PHONES, MAX_TAGS, check_counts
from accord.core.phones import PhoneError, display_phone, normalize_phone
from accord.core.search import index_record, point_terms, unindex_record
from accord.core.timeline import field_changes, timeline_forget, timeline_move, timeline_record
from accord.core.visibility import ALL, NONE, WRITE, allows, effective_level, may_change

RECORD_TYPE = "clients"
COUNT_LIMITS = {"tags": MAX_TAGS, "phones": MAX_PHONES, "emails": MAX_EMAILS}
MAX_TEXT = 10_000
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
]
COMPANY_FIELDS = ["name", "kind", "website", "city", "country", "address", "source", "owner"]
LENGTHS = {
    "first_name": 100,
    "last_name": 100,
    "middle_name": 100,
    "name": 200,
    "city": 100,
    "source": 100,
    "consent_source": 100,
    "website": 200,
    "address": 1000,
}


# --- Permission -------------------------------------------------------------------------


# Handing a new client to a member of a team: the work app's lead distribution registers
# itself here when it is ready, since contacts sits below work and cannot import it.
LEAD_HANDOVER: list = []


def hand_over_lead(*, person: Person, team) -> None:
    """Let the team's lead rule choose the new client's owner (work.services.lead_distribute)."""
    for hand_over in LEAD_HANDOVER:
        hand_over(person=person, team=team)


def require_write(actor: User, record=None) -> None:
    """The actor may change clients at all, and this one in particular."""
    if effective_level(actor, RECORD_TYPE, WRITE) == NONE:
        raise PermissionDenied(_("Your role does not allow changing clients."))
    if record is not None and not can_change(actor, record):
        raise PermissionDenied(_("You may not change this client."))


def can_change(actor: User, record) -> bool:
    return may_change(actor, RECORD_TYPE, record.owner)


def check_owner(actor: User, owner: User | None, errors: dict) -> None:
    """A new owner must be active and someone the actor may hand clients to."""
    if owner is None:
        if effective_level(actor, RECORD_TYPE, WRITE) != ALL:
            errors["owner"] = [_("Choose who looks after this client.")]
        return
    if not owner.is_active:
        errors["owner"] = [_("The owner must be an active user.")]
    elif not allows(
        actor, record_type=RECORD_TYPE, action=WRITE, owner_id=owner.pk, owner_team_id=owner.team_id
    ):
        errors["owner"] = [_("You may not give clients to this person.")]


# --- Validation -------------------------------------------------------------------------


def clean_text_fields(data: dict, errors: dict) -> None:
    for field, limit in LENGTHS.items():
        if field in data:
            value = data[field]
            data[field] = "" if value is None else str(value).strip()
            if len(data[field]) > limit:
                errors[field] = [_("At most %(limit)s characters.") % {"limit": limit}]


def clean_phones(items: list | None, errors: dict) -> list[dict] | None:
    if items is None:
        return None
    clean, messages = [], []
    for item in items:
        number = item.get("number", "") if isinstance(item, dict) else str(item)
        label = (item.get("label", "") if isinstance(item, dict) else "")[:30]
        if not str(number).strip():
            continue
        try:
            e164 = normalize_phone(str(number))
        except PhoneError as error:
            messages.append(str(error))
            continue
        if e164 not in [c["value"] for c in clean]:
            clean.append({"value": e164, "label": label})
    if messages:
        errors["phones"] = messages
    return clean


def clean_emails(items: list | None, errors: dict) -> list[dict] | None:
    if items is None:
        return None
    clean, messages = [], []
    for item in items:
        address = item.get("address", "") if isinstance(item, dict) else str(item)
        label = (item.get("label", "") if isinstance(item, dict) else "")[:30]
        address = str(address).strip().lower()
        if not address:
            continue
        try:
            if len(address) > 254:
                raise ValidationError("too long")
            validate_email(address)
        except ValidationError:
            messages.append(_("“%(address)s” is not an e-mail address.") % {"address": address})
            continue
        if address not in [c["value"] for c in clean]:
            clean.append({"value": address, "label": label})
    if messages:
        errors["emails"] = messages
    return clean


def clean_common(actor: User, data: dict, errors: dict, *, model) -> None:
    errors.update(check_counts(data, COUNT_LIMITS))
    clean_text_fields(data, errors)
    if "kind" in data and data["kind"] not in dict(model.KINDS):
        errors["kind"] = [_("Choose one of: %s.") % ", ".join(dict(model.KINDS))]
    if "country" in data:
        data["country"] = (data["country"] or "").strip().upper()
        if data["country"] and (len(data["country"]) != 2 or not data["country"].isalpha()):
            errors["country"] = [_("Use the two-letter country code, e.g. DE, IL, AM.")]
    if "owner" in data:
        check_owner(actor, data["owner"], errors)


def finish_clean(record_type: str, data: dict, errors: dict, current) -> dict:
    """What people and companies share last: phones, e-mails, custom fields; then all
    errors at once, so nothing is written when anything is wrong."""
    if "phones" not in errors:  # 10,000 numbers over the limit are not each looked at
        data["phones"] = clean_phones(data.get("phones"), errors)
    if "emails" not in errors:
        data["emails"] = clean_emails(data.get("emails"), errors)
    try:
        data["custom_fields"] = clean_custom_fields(
            record_type,
            data.get("custom_fields"),
            current=current.custom_fields if current else None,
        )
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    return data


def clean_person(actor: User, data: dict, *, current: Person | None) -> dict:
    errors: dict[str, list[str]] = {}
    clean_common(actor, data, errors, model=Person)
    first = data.get("first_name", current.first_name if current else "")
    last = data.get("last_name", current.last_name if current else "")
    if not (first or last) and "first_name" not in errors and "last_name" not in errors:
        errors["first_name"] = [_("Give at least a first or a last name.")]
    if "gender" in data and data["gender"] not in dict(Person.GENDERS):
        errors["gender"] = [_("Choose female, male, other or leave it empty.")]
    if data.get("birthday"):
        birthday = data["birthday"]
        if isinstance(birthday, str):
            try:
                birthday = data["birthday"] = datetime.date.fromisoformat(birthday)
            except ValueError:
                errors["birthday"] = [_("Enter a date as YYYY-MM-DD.")]
                birthday = None
        if birthday and not datetime.date(1900, 1, 1) <= birthday <= timezone.localdate():
            errors["birthday"] = [_("The birthday must be a date in the past.")]
    elif "birthday" in data:
        data["birthday"] = None
    return finish_clean("person", data, errors, current)


def clean_company(actor: User, data: dict, *, current: Company | None) -> dict:
    errors: dict[str, list[str]] = {}
    clean_common(actor, data, errors, model=Company)
    if data.get("website"):
        website = data["website"]
        if "://" not in website:
            website = data["website"] = f"https://{website}"
        try:
            URLValidator(schemes=["http", "https"])(website)
        except ValidationError:
            errors["website"] = [_("Enter a web address, e.g. example.com.")]
    if (current is None or "name" in data) and not data.get("name"):
        errors["name"] = [_("Give the company a name.")]
    return finish_clean("company", data, errors, current)


# --- Shared writing ----------------------------------------------------------------------


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


def refresh_primary(record) -> None:
    """Set a client's primary phone and e-mail (what lists show and sort by) to the first
    of its contact points, after points were added or removed one by one. A number kept
    as typed because it is not valid (an import's) is never the primary one."""
    first: dict[str, str] = {}
    points = record.contact_points.filter(not_valid=False)
    for kind, value in points.order_by("position", "id").values_list("kind", "value"):
        first.setdefault(kind, value)
    record.primary_phone = first.get("phone", "")
    record.primary_email = first.get("email", "")
    type(record).objects.filter(pk=record.pk).update(
        primary_phone=record.primary_phone, primary_email=record.primary_email
    )


def set_contact_points(record, kind: str, items: list[dict]) -> None:
    owner_field = "person" if isinstance(record, Person) else "company"
    record.contact_points.filter(kind=kind).delete()
    ContactPoint.objects.bulk_create(
        ContactPoint(
            **{owner_field: record},
            kind=kind,
            value=item["value"],
            label=item["label"],
            position=index,
        )
        for index, item in enumerate(items)
    )
    primary = items[0]["value"] if items else ""
    setattr(record, "primary_phone" if kind == "phone" else "primary_email", primary)


def _tag_create(name: str) -> Tag:
    """A new tag, or the one another process created meanwhile (names are unique)."""
    try:
        with transaction.atomic():
            return Tag.objects.create(name=name)
    except IntegrityError:
        return Tag.objects.get(name__iexact=name)


def set_tags(record, names: list[str]) -> list[str]:
    """Give a record (client or deal) these tags, creating the ones that are new; answers
    their names. Only a name the record does not have yet is looked up."""
    current = {tag.name: tag for tag in record.tags.all()}
    tags = []
    for name in names:
        name = str(name).strip()[:50]
        if name:
            tag = current.get(name) or tag_named(name)
            if tag not in tags:
                tags.append(tag)
    had, keep = {tag.pk for tag in current.values()}, {tag.pk for tag in tags}
    record.tags.remove(*[tag for tag in current.values() if tag.pk not in keep])
    record.tags.add(*[tag for tag in tags if tag.pk not in had])
    return [tag.name for tag in tags]


def tag_named(name: str) -> Tag:
    """The tag of this name whatever its case, created when there is none."""
    return Tag.objects.filter(name__iexact=name).first() or _tag_create(name)


def reindex(record) -> None:
    company = record.company.name if isinstance(record, Person) and record.company_id else ""
    parts = search_parts(
        str(record),
        record.city,
        [(point.kind, point.value) for point in record.contact_points.all()],
        [tag.name for tag in record.tags.all()],
        company,
    )
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


def apply(record, data: dict, fields: list[str], actor: User) -> None:
    """Write validated data onto a saved record (contact points, tags, custom fields too)."""
    for name in fields:
        if name in data:
            setattr(record, name, data[name])
    if data.get("custom_fields") is not None:
        record.custom_fields = data["custom_fields"]
    if isinstance(record, Person):
        record.compose_full_name()
        if "marketing_consent" in data:
            record.consent_at = timezone.now() if data["marketing_consent"] else None
    if data.get("phones") is not None:
        set_contact_points(record, "phone", data["phones"])
    if data.get("emails") is not None:
        set_contact_points(record, "email", data["emails"])
    if data.get("tags") is not None:
        set_tags(record, data["tags"])


def kind_of(record) -> str:
    return "person" if isinstance(record, Person) else "company"


def create(model, actor: User, data: dict, clean) -> Any:
    require_write(actor)
    data = dict(data)
    data.setdefault("owner", actor)
    data = clean(actor, data, current=None)
    fields = PERSON_FIELDS if model is Person else COMPANY_FIELDS
    record = model(created_by=actor, **{f: data[f] for f in fields if f in data})
    if model is Person:
        record.full_name = "-"  # set by apply() once the names are in
    record.save()
    apply(record, data, fields, actor)
    record.save()
    timeline_record(subject=record, kind="created", actor=actor)
    reindex(record)
    emit(f"{kind_of(record)}.created", **{f"{kind_of(record)}_id": record.pk, "actor_id": actor.pk})
    return record


def update(record, actor: User, data: dict, version: int | None, clean) -> Any:
    model = type(record)
    record = model.objects.select_for_update().get(pk=record.pk)
    require_write(actor, record)
    if version is not None and version != record.version:
        raise StaleVersion(record.version)
    before = snapshot(record)
    data = clean(actor, dict(data), current=record)
    fields = PERSON_FIELDS if model is Person else COMPANY_FIELDS
    apply(record, data, fields, actor)
    return save_changed(record, before=before, actor=actor)


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


# --- People -------------------------------------------------------------------------------


@transaction.atomic
def person_create(*, actor: User, data: dict) -> Person:
    """Create a person: a name and, ideally, one way to reach them are enough.

    With `assign_team` (a team) instead of an owner, the team's lead rule picks the owner
    among its members at work (accord.work.services.lead_distribute)."""
    data = dict(data)
    team = data.pop("assign_team", None)
    if team is None:
        return create(Person, actor, data, clean_person)
    if not allows(actor, record_type=RECORD_TYPE, action=WRITE, owner_id=0, owner_team_id=team.pk):
        raise ValidationError(
            {"owner": [_("You may not hand clients to %(team)s.") % {"team": team}]}
        )
    data["owner"] = actor  # until the team's rule picks the owner, a moment later
    person = create(Person, actor, data, clean_person)
    Person.objects.filter(pk=person.pk).update(owner=None)
    hand_over_lead(person=person, team=team)
    person.refresh_from_db()
    return person


@transaction.atomic
def person_update(*, actor: User, person: Person, data: dict, version: int | None = None) -> Person:
    """Change some fields of a person; `version` guards against overwriting a newer edit."""
    return update(person, actor, data, version, clean_person)


@transaction.atomic
def company_create(*, actor: User, data: dict) -> Company:
    return create(Company, actor, data, clean_company)


@transaction.atomic
def company_update(
    *, actor: User, company: Company, data: dict, version: int | None = None
) -> Company:
    return update(company, actor, data, version, clean_company)


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


@transaction.atomic
def client_delete(*, actor: User, record) -> None:
    require_write(actor, record)
    if not actor.can("delete"):
        raise PermissionDenied(_("Your role does not allow deleting records."))
    kind, record_id = kind_of(record), record.pk
    people = list(record.people.all()) if isinstance(record, Company) else []
    unindex_record(kind, record_id)
    timeline_forget(record)  # a deleted client's history goes with it
    record.delete()
    for person in people:  # their search entry named the company
        person.company = None
        reindex(person)
    announce_deleted(actor=actor, record=record, record_id=record_id)


@transaction.atomic
def note_add(*, actor: User, record, text: str):
    """A note on the client's timeline, by anyone who may see the client and log activities."""
    if effective_level(actor, "activities", WRITE) == NONE:
        raise PermissionDenied(_("Your role does not allow adding notes."))
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": [_("Write something first.")]})
    if len(text) > MAX_TEXT:
        raise ValidationError({"text": [_("At most %(limit)s characters.") % {"limit": MAX_TEXT}]})
    event = timeline_record(subject=record, kind="note", actor=actor, data={"text": text})
    type(record).objects.filter(pk=record.pk).update(last_contact_at=event.occurred_at)
    emit("note.added", **{f"{kind_of(record)}_id": record.pk, "actor_id": actor.pk})
    return event


# --- Bulk actions on a selection ----------------------------------------------------------


def _update_each(actor: User, records: list, data: dict) -> int:
    for record in records:
        clean = clean_person if isinstance(record, Person) else clean_company
        update(record, actor, dict(data), None, clean)
    return len(records)


@transaction.atomic
def clients_bulk_assign(*, actor: User, records: list, owner: User | None) -> int:
    """Hand the selected clients to one owner; all or none (each change is on its timeline)."""
    if owner is None:
        raise ValidationError({"owner": [_("Choose the new owner.")]})
    return _update_each(actor, records, {"owner": owner})


@transaction.atomic
def clients_bulk_tag(*, actor: User, records: list, tag: str) -> int:
    tag = tag.strip()
    if not tag:
        raise ValidationError({"tag": [_("Type the tag to add.")]})
    for record in records:
        names = [t.name for t in record.tags.all()]
        clean = clean_person if isinstance(record, Person) else clean_company
        update(record, actor, {"tags": [*names, tag]}, None, clean)
    return len(records)


@transaction.atomic
def clients_bulk_delete(*, actor: User, records: list) -> int:
    for record in records:
        client_delete(actor=actor, record=record)
    return len(records)


# --- Merge and erase ------------------------------------------------------------------------


@transaction.atomic
def clients_merge(*, actor: User, survivor, other, take_from_other: list[str] = ()) -> Any:
    """Merge `other` into `survivor`: fields named in `take_from_other` come from `other`,
    phones, e-mails and tags are combined, and everything linked to `other` (its timeline,
    people of a company, and any record of another app pointing at it) moves to `survivor`.
    """
    model = type(survivor)
    if type(other) is not model or other.pk == survivor.pk:
        raise ValidationError({"other": [_("Choose two different records of the same kind.")]})
    survivor = model.objects.select_for_update().get(pk=survivor.pk)
    other = model.objects.select_for_update().get(pk=other.pk)
    require_write(actor, survivor)
    require_write(actor, other)
    if not actor.can("delete"):
        raise PermissionDenied(_("Merging removes a record: your role does not allow deleting."))
    fields = PERSON_FIELDS if model is Person else COMPANY_FIELDS
    unknown = set(take_from_other) - set(fields) - {"custom_fields"}
    if unknown:
        raise ValidationError(
            {"take_from_other": [_("Unknown fields: %s.") % ", ".join(sorted(unknown))]}
        )
    before = snapshot(survivor)
    for name in take_from_other:
        if name != "custom_fields":
            setattr(survivor, name, getattr(other, name))
    custom = {**other.custom_fields, **survivor.custom_fields}
    if "custom_fields" in take_from_other:
        custom.update(other.custom_fields)
    survivor.custom_fields = custom
    _move_contact_points(survivor, other)
    survivor.tags.add(*other.tags.all())
    _move_links(model, survivor, other)
    if model is Person:
        survivor.compose_full_name()
    survivor.version += 1
    survivor.save()
    kind, other_id, other_name = kind_of(other), other.pk, str(other)
    unindex_record(kind, other_id)
    other.delete()
    survivor = model.objects.get(pk=survivor.pk)
    if model is Company:  # people who moved over are now found by the survivor's name
        for person in survivor.people.select_related("company"):
            reindex(person)
    changes = field_changes(before, snapshot(survivor), sorted(before))
    timeline_record(
        subject=survivor,
        kind="merged",
        actor=actor,
        data={"merged_id": other_id, "merged_name": other_name, "changes": changes},
    )
    reindex(survivor)
    emit(
        f"{kind}.merged", **{f"{kind}_id": survivor.pk, "merged_id": other_id, "actor_id": actor.pk}
    )
    return survivor


def _move_contact_points(survivor, other) -> None:
    owner_field = kind_of(survivor)
    have = set(survivor.contact_points.values_list("kind", "value"))
    next_position = survivor.contact_points.count()
    for point in other.contact_points.all():
        if (point.kind, point.value) in have:
            continue
        ContactPoint.objects.filter(pk=point.pk).update(
            **{owner_field: survivor, "position": next_position}
        )
        next_position += 1
    for kind, field in (("phone", "primary_phone"), ("email", "primary_email")):
        first = survivor.contact_points.filter(kind=kind).order_by("position", "id").first()
        setattr(survivor, field, first.value if first else "")


def _move_links(model, survivor, other) -> None:
    """Repoint every foreign key to `other` (timeline rows included) at `survivor`."""
    timeline_move(model, from_id=other.pk, to_id=survivor.pk)
    for relation in model._meta.related_objects:
        if relation.one_to_many and relation.related_model is not ContactPoint:
            relation.related_model._base_manager.filter(**{relation.field.name: other}).update(
                **{relation.field.name: survivor}
            )


@transaction.atomic
def person_erase(*, actor: User, person: Person) -> Person:
    """Erase a person's personal data on their request; the timeline keeps only that it happened."""
    require_write(actor, person)
    if not actor.can("delete"):
        raise PermissionDenied(_("Erasing data needs the right to delete records."))
    person = Person.objects.select_for_update().get(pk=person.pk)
    timeline_forget(person)
    person.contact_points.all().delete()
    person.tags.clear()
    for name in (
        "first_name",
        "last_name",
        "middle_name",
        "city",
        "address",
        "source",
        "consent_source",
        "primary_phone",
        "primary_email",
        "gender",
        "country",
    ):
        setattr(person, name, "")
    person.full_name = _("Erased person #%(id)s") % {"id": person.pk}
    person.birthday = None
    person.custom_fields = {}
    person.marketing_consent = False
    person.consent_at = None
    person.erased_at = timezone.now()
    person.version += 1
    person.save()
    timeline_record(subject=person, kind="erased", actor=actor)
    unindex_record("person", person.pk)
    emit("person.erased", person_id=person.pk, actor_id=actor.pk)
    return person


# --- Segments ---------------------------------------------------------------------------------


# Other apps' records can be kept as segments too: record type -> a function that raises
# ValidationError for filters its lists refuse (sales registers "deal").
SEGMENT_CHECKS: dict = {}


@transaction.atomic
def segment_save(
    *, actor: User, name: str, record_type: str, filters: dict, shared: bool = False, segment=None
):
    """Save a filter under a name; the filter is checked the way lists check it."""
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("Give the segment a name.")]
    elif len(name) > 100:
        errors["name"] = [_("At most %(limit)s characters.") % {"limit": 100}]
    if record_type not in ("person", "company", *SEGMENT_CHECKS):
        errors["record_type"] = [_("A segment holds people, companies or deals.")]
    clean = {
        str(k): str(v) for k, v in (filters or {}).items() if str(v).strip() and k != "segment"
    }
    if not clean:
        errors["filters"] = [_("Set at least one filter first.")]
    if not errors:
        try:
            if record_type in SEGMENT_CHECKS:  # another app's records (deals)
                SEGMENT_CHECKS[record_type](actor, clean)
            else:
                visible = people_visible_to if record_type == "person" else companies_visible_to
                filter_clients(visible(actor), record_type, clean, user=actor)
        except ValidationError as error:
            errors.update(error.message_dict)
    if segment is not None and segment.owner_id != actor.pk and not actor.can("manage_users"):
        raise PermissionDenied(_("Only its author changes a segment."))
    if errors:
        raise ValidationError(errors)
    if segment is None:
        segment = Segment(owner=actor)
    segment.name, segment.record_type, segment.filters, segment.shared = (
        name,
        record_type,
        clean,
        shared,
    )
    segment.save()
    emit("segment.saved", segment_id=segment.pk, actor_id=actor.pk)
    return segment


@transaction.atomic
def segment_delete(*, actor: User, segment) -> None:
    if segment.owner_id != actor.pk and not actor.can("manage_users"):
        raise PermissionDenied(_("Only its author deletes a segment."))
    segment_id = segment.pk
    segment.delete()
    emit("segment.deleted", segment_id=segment_id, actor_id=actor.pk)


@transaction.atomic
def person_deal_won(*, person: Person, won_deals: int) -> Person:
    """A won deal makes a lead a client; a second one marks a repeat customer."""
    changes = {}
    if person.kind == "lead":
        changes["kind"] = "client"
    if won_deals >= 2 and not person.is_repeat:
        changes["is_repeat"] = True
    if changes:
        before = {name: getattr(person, name) for name in changes}
        Person.objects.filter(pk=person.pk).update(**changes)
        for name, value in changes.items():
            setattr(person, name, value)
        timeline_record(
            subject=person,
            kind="changed",
            actor=None,
            data={"changes": field_changes(before, changes, sorted(changes))},
        )
    return person


@transaction.atomic
def client_contacted(*, record, at: datetime.datetime) -> None:
    """A call, meeting, e-mail or note with the client at `at` (other apps log the
    activity itself): its last contact moves forward, never back."""
    type(record).objects.filter(pk=record.pk).exclude(last_contact_at__gt=at).update(
        last_contact_at=at
    )


@transaction.atomic
def person_hand_over(*, person_id: int, owner: User, at: datetime.datetime) -> Person:
    """Make `owner` a lead's owner for the team's lead distribution (its rule chose them,
    so no user's permission is checked); the caller writes the timeline entry."""
    person = Person.objects.select_for_update().get(pk=person_id)
    person.owner, person.version, person.updated_at = owner, person.version + 1, at
    Person.objects.filter(pk=person_id).update(
        owner=owner, version=person.version, updated_at=at
    )  # not save(): only these three columns, whatever else the row holds
    return person
