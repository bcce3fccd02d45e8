"""Bulk actions on a selection of clients: assign, tag, delete; all or none."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.contacts.models import Person
from accord.contacts.services.clients import client_delete, update
from accord.contacts.services.companies import clean_company
from accord.contacts.services.people import clean_person


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
