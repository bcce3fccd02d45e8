"""Undoing what batches of people or companies did (an import's undo): the records they
created removed, the ones they updated restored — each on its timeline and announced,
like a single record's removal or change."""

from collections.abc import Iterable
from contextlib import nullcontext

from django.db import transaction

from accord.accounts.models import User
from accord.contacts.models import Company, ContactPoint, Person
from accord.contacts.services.common import (
    announce_deleted,
    can_change,
    kind_of,
    require_write,
    save_changed,
    snapshot,
)
from accord.contacts.services.points import refresh_primary
from accord.core.events import caused_by
from accord.core.search import unindex_record
from accord.core.timeline import timeline_forget


@transaction.atomic
def clients_batch_undo(
    *, actor: User, kind: str, changes: Iterable[dict], cause: dict | None = None
) -> dict[str, int]:
    """Undo what batches did (their changes, newest first): remove the records they
    created, restore the ones they updated — unless a record changed since (its version
    moved on): those are kept, and counted. Each removal and restoration is on the
    timeline (a restoration) and announced, like a single record's."""
    require_write(actor)
    model = Person if kind == "person" else Company
    result = {"removed": 0, "restored": 0, "kept": 0}
    with caused_by(cause) if cause else nullcontext():
        for change in changes:
            record = model.objects.filter(pk=change["record_id"]).first()
            if record is None:
                continue
            if record.version != change["version"]:
                result["kept"] += 1
                continue
            if not can_change(actor, record):
                result["kept"] += 1
            elif change["action"] == "created":
                _remove(actor, record)
                result["removed"] += 1
            else:
                _restore(actor, record, change.get("before") or {})
                result["restored"] += 1
    return result


def _remove(actor: User, record) -> None:
    kind, record_id = kind_of(record), record.pk
    unindex_record(kind, record_id)
    timeline_forget(record)
    record.delete()
    announce_deleted(actor=actor, record=record, record_id=record_id)


def _restore(actor: User, record, state: dict) -> None:
    kind = kind_of(record)
    before = snapshot(record)
    for name, value in state.get("values", {}).items():
        setattr(record, name, value)
    record.custom_fields = state.get("custom_fields", record.custom_fields)
    for point_kind, value in state.get("points", []):
        ContactPoint.objects.filter(**{kind: record}, kind=point_kind, value=value).delete()
    if state.get("tags"):
        record.tags.remove(*record.tags.filter(name__in=state["tags"]))
    if isinstance(record, Person):
        record.compose_full_name()
    refresh_primary(record)
    save_changed(record, before=before, actor=actor)
