"""The timeline: every change of a record and every activity on it, newest first."""

import contextvars
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from accord.core.events import current_cause
from accord.core.models import TimelineEvent


def field_changes(
    before: dict[str, Any], after: dict[str, Any], fields: Iterable[str]
) -> list[dict[str, Any]]:
    """The fields whose value differs, as [{"field", "old", "new"}] in JSON-safe form."""
    changes = []
    for name in fields:
        old, new = before.get(name), after.get(name)
        if old != new:
            changes.append({"field": name, "old": _plain(old), "new": _plain(new)})
    return changes


# Inside `timeline_gathered()`: the entries recorded so far, written when it ends.
_gathered: contextvars.ContextVar[list[TimelineEvent] | None] = contextvars.ContextVar(
    "timeline_gathered", default=None
)


@contextmanager
def timeline_gathered():
    """The entries recorded inside the block are written together when it ends, in one
    INSERT (a worker's batch of calls or messages records hundreds), in the transaction
    the block is in; an exception writes none. Nested, the outermost block writes."""
    if _gathered.get() is not None:
        yield
        return
    entries: list[TimelineEvent] = []
    token = _gathered.set(entries)
    try:
        yield
    finally:
        _gathered.reset(token)
    TimelineEvent.objects.bulk_create(entries)


def timeline_record(
    *,
    subject: models.Model,
    kind: str,
    actor: Any = None,
    data: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> TimelineEvent:
    """Add one entry to a record's timeline. Called by services inside their transaction;
    inside an automation rule's step the entry says so (`by_rule`: the rule's name), so the
    timeline shows "Automation · <rule>" rather than the rule's author."""
    cause = current_cause()
    if cause and cause.get("rule_name"):
        data = {**(data or {}), "by_rule": cause["rule_name"]}
    elif cause and cause.get("channel_name"):  # a PBX's call made it: "Telephony · <name>"
        data = {**(data or {}), "by_channel": cause["channel_name"],
                "by_channel_kind": cause.get("channel", "")}  # fmt: skip
    entry = TimelineEvent(
        subject_type=ContentType.objects.get_for_model(subject),
        subject_id=subject.pk,
        kind=kind,
        actor=actor if actor is not None and actor.pk else None,
        occurred_at=occurred_at or timezone.now(),
        data=data or {},
    )
    gathered = _gathered.get()
    if gathered is None:
        entry.save(force_insert=True)
    else:
        gathered.append(entry)  # written at the block's end: no id until then
    return entry


def timeline_of(subject: models.Model, *, kinds: Iterable[str] | None = None):
    """A record's timeline, newest first (the caller has already checked visibility)."""
    events = TimelineEvent.objects.filter(
        subject_type=ContentType.objects.get_for_model(subject), subject_id=subject.pk
    ).select_related("actor")
    if kinds is not None:
        events = events.filter(kind__in=list(kinds))
    return events.order_by("-occurred_at", "-id")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return value


def timeline_move(model: type[models.Model], *, from_id: int, to_id: int) -> int:
    """Give one record's history to another (when two records are merged)."""
    return TimelineEvent.objects.filter(
        subject_type=ContentType.objects.get_for_model(model), subject_id=from_id
    ).update(subject_id=to_id)


def timeline_forget(subject: models.Model) -> int:
    """Delete a record's history (erasure on request; the caller records that it happened)."""
    deleted, _by_model = timeline_of(subject).delete()
    return deleted
