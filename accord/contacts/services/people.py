"""Writes about people: create (or hand to a team), change, erase, won deals, hand-over."""

import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.contacts.models import Person
from accord.contacts.services.clients import clean_common, create, finish_clean, update
from accord.contacts.services.common import RECORD_TYPE, require_write
from accord.core.events import emit
from accord.core.search import unindex_record
from accord.core.timeline import field_changes, timeline_forget, timeline_record
from accord.core.visibility import WRITE, allows

# Handing a new client to a member of a team: the work app's lead distribution registers
# itself here when it is ready, since contacts sits below work and cannot import it.
LEAD_HANDOVER: list = []


def hand_over_lead(*, person: Person, team) -> None:
    """Let the team's lead rule choose the new client's owner (work.services.lead_distribute)."""
    for hand_over in LEAD_HANDOVER:
        hand_over(person=person, team=team)


def clean_person(actor: User, data: dict, *, current: Person | None) -> dict:
    errors: dict[str, list[str]] = {}
    clean_common(actor, data, errors, model=Person)
    first = data.get("first_name", current.first_name if current else "")
    last = data.get("last_name", current.last_name if current else "")
    if not (first or last) and "first_name" not in errors and "last_name" not in errors:
        errors["first_name"] = [_("Give at least a first or a last name.")]
    if "gender" in data and data["gender"] not in dict(Person.GENDERS):
        errors["gender"] = [_("Choose female, male, other or leave it empty.")]
    if "language" in data:
        data["language"] = str(data["language"] or "").strip()
        if data["language"] and data["language"] not in dict(settings.LANGUAGES):
            errors["language"] = [_("Choose one of: %s.") % ", ".join(dict(settings.LANGUAGES))]
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


# Called inside an erase, before the person's phones and e-mails go: (person=, addresses=
# [(kind, value)]) — for records an app keeps by address, not yet tied to the person (a
# web-form request waiting to be filed). Apps above contacts register here.
BEFORE_ERASE: list = []


@transaction.atomic
def person_erase(*, actor: User, person: Person) -> Person:
    """Erase a person's personal data on their request; the timeline keeps only that it happened."""
    require_write(actor, person)
    if not actor.can("delete"):
        raise PermissionDenied(_("Erasing data needs the right to delete records."))
    person = Person.objects.select_for_update().get(pk=person.pk)
    timeline_forget(person)
    addresses = list(person.contact_points.values_list("kind", "value"))
    for forget in BEFORE_ERASE:  # what other apps hold by the addresses alone
        forget(person=person, addresses=addresses)
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
        "language",
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
def person_hand_over(*, person_id: int, owner: User, at: datetime.datetime) -> Person:
    """Make `owner` a lead's owner for the team's lead distribution (its rule chose them,
    so no user's permission is checked); the caller writes the timeline entry."""
    person = Person.objects.select_for_update().get(pk=person_id)
    person.owner, person.version, person.updated_at = owner, person.version + 1, at
    Person.objects.filter(pk=person_id).update(
        owner=owner, version=person.version, updated_at=at
    )  # not save(): only these three columns, whatever else the row holds
    return person


@transaction.atomic
def person_consent_confirm(*, person_id: int, source: str, at: datetime.datetime) -> Person | None:
    """The person confirmed their consent to offers themselves (the link of a web form's
    double opt-in, no login): it is recorded, with where it came from, as a change on
    their timeline by nobody in the company. None when they are gone or erased."""
    person = Person.objects.select_for_update().filter(pk=person_id, erased_at=None).first()
    if person is None or person.marketing_consent:
        return person
    source = source[:100]
    Person.objects.filter(pk=person.pk).update(
        marketing_consent=True,
        consent_at=at,
        consent_source=source,
        version=person.version + 1,
        updated_at=at,
    )
    changes = [
        {"field": "marketing_consent", "old": False, "new": True},
        {"field": "consent_source", "old": person.consent_source, "new": source},
    ]
    person.marketing_consent, person.consent_at, person.consent_source = True, at, source
    person.version += 1
    timeline_record(subject=person, kind="changed", actor=None, data={"changes": changes},
                    occurred_at=at)  # fmt: skip
    emit("person.updated", person_id=person.pk, actor_id=None,
         fields=["marketing_consent", "consent_source"], changes=changes)  # fmt: skip
    return person


@transaction.atomic
def person_unsubscribe(*, person_id: int, source: str, at: datetime.datetime) -> Person | None:
    """The person asked for no more offers and news (an unsubscribe link, no login): their
    marketing consent is withdrawn and the timeline says from what and when. Answers the
    person, or None when they are gone or erased."""
    person = Person.objects.select_for_update().filter(pk=person_id, erased_at=None).first()
    if person is None:
        return None
    before = person.marketing_consent
    Person.objects.filter(pk=person.pk).update(
        marketing_consent=False,
        consent_at=None,
        version=person.version + 1,
        updated_at=at,
    )
    person.marketing_consent, person.consent_at = False, None
    person.version += 1
    timeline_record(
        subject=person,
        kind="unsubscribed",
        actor=None,
        data={"from": source[:200], "had_agreed": before},
        occurred_at=at,
    )
    emit("person.unsubscribed", person_id=person.pk)
    if before:
        changes = [{"field": "marketing_consent", "old": True, "new": False}]
        emit("person.updated", person_id=person.pk, actor_id=None,
             fields=["marketing_consent"], changes=changes)  # fmt: skip
    return person
