"""What a person and a company share: input checks, create, change, delete, notes."""

import contextvars
import datetime
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.contacts.models import Company, Person
from accord.contacts.services.common import (
    COMPANY_FIELDS,
    PERSON_FIELDS,
    RECORD_TYPE,
    announce_deleted,
    kind_of,
    reindex,
    require_write,
    save_changed,
    snapshot,
)
from accord.contacts.services.points import (
    add_contact_points,
    clean_emails,
    clean_phones,
    set_contact_points,
)
from accord.contacts.services.tags import set_tags
from accord.core.bulk import move_forward
from accord.core.custom_fields import clean_custom_fields
from accord.core.errors import StaleVersion
from accord.core.events import emit
from accord.core.limits import MAX_EMAILS, MAX_PHONES, MAX_TAGS, check_counts
from accord.core.search import unindex_record
from accord.core.timeline import timeline_forget, timeline_record
from accord.core.visibility import ALL, NONE, WRITE, allows, effective_level

COUNT_LIMITS = {"tags": MAX_TAGS, "phones": MAX_PHONES, "emails": MAX_EMAILS}
MAX_TEXT = 10_000
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


def clean_text_fields(data: dict, errors: dict) -> None:
    for field, limit in LENGTHS.items():
        if field in data:
            value = data[field]
            data[field] = "" if value is None else str(value).strip()
            if len(data[field]) > limit:
                errors[field] = [_("At most %(limit)s characters.") % {"limit": limit}]


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


def create(model, actor: User, data: dict, clean) -> Any:
    require_write(actor)
    data = dict(data)
    data.setdefault("owner", actor)
    data = clean(actor, data, current=None)
    fields = PERSON_FIELDS if model is Person else COMPANY_FIELDS
    record = model(created_by=actor)
    # Everything but the contact points and tags is set before the one INSERT; a new
    # record has no points or tags to replace, and its search entry is made from these.
    phones, emails = data.get("phones") or [], data.get("emails") or []
    apply(record, {**data, "phones": None, "emails": None, "tags": None}, fields, actor)
    record.primary_phone = phones[0]["value"] if phones else ""
    record.primary_email = emails[0]["value"] if emails else ""
    record.save(force_insert=True)
    add_contact_points(record, "phone", phones)
    add_contact_points(record, "email", emails)
    tags = set_tags(record, data["tags"], new=True) if data.get("tags") else []
    timeline_record(subject=record, kind="created", actor=actor)
    # In the order the record's points are read back: by position, phones first.
    listed = sorted(
        [(n, 0, "phone", item["value"]) for n, item in enumerate(phones)]
        + [(n, 1, "email", item["value"]) for n, item in enumerate(emails)]
    )
    reindex(record, points=[(kind, value) for _n, _k, kind, value in listed], tags=sorted(tags))
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


# Inside `contacts_gathered()`: {model: {id: latest time}}, written when it ends.
_contacted: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "contacted_gathered", default=None
)


@contextmanager
def contacts_gathered():
    """The clients contacted inside the block move forward when it ends, one UPDATE per
    kind (a worker's batch of calls or messages touches hundreds); an exception writes
    nothing. Nested, the outermost block writes."""
    if _contacted.get() is not None:
        yield
        return
    times: dict = {Person: {}, Company: {}}
    token = _contacted.set(times)
    try:
        yield
    finally:
        _contacted.reset(token)
    for model, of_kind in times.items():
        if of_kind:
            clients_contacted(model=model, times=of_kind)


def client_contacted(*, record, at: datetime.datetime) -> None:
    """A call, meeting, e-mail or note with the client at `at` (other apps log the
    activity itself): its last contact moves forward, never back."""
    gathered = _contacted.get()
    if gathered is not None:
        of_kind = gathered[type(record)]
        of_kind[record.pk] = max(at, of_kind.get(record.pk, at))
        return
    type(record).objects.filter(pk=record.pk).exclude(last_contact_at__gt=at).update(
        last_contact_at=at
    )


@transaction.atomic
def clients_contacted(*, model: type[Person] | type[Company], times: dict) -> None:
    """`client_contacted` for many clients of one kind at once ({id: when}): one UPDATE
    (a batch of received e-mail, or of a mailing's messages, touches hundreds)."""
    move_forward(model, "last_contact_at", times)
