"""Merging two duplicate clients into one, with everything linked to them."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.contacts.models import Company, ContactPoint, Person
from accord.contacts.services.common import (
    COMPANY_FIELDS,
    PERSON_FIELDS,
    kind_of,
    reindex,
    require_write,
    snapshot,
)
from accord.core.events import emit
from accord.core.search import unindex_record
from accord.core.timeline import field_changes, timeline_move, timeline_record


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
