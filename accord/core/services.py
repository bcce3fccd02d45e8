"""Writes of the kernel: worker heartbeats and custom field definitions."""

import os
import socket
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accord.core.models import CustomField, WorkerHeartbeat
from accord.core.visibility import ALL, WRITE, effective_level


@transaction.atomic
def heartbeat_beat(*, worker_id: str, backend: str, started_at: datetime) -> WorkerHeartbeat:
    """Record that a worker is alive now."""
    beat, _created = WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "hostname": socket.gethostname()[:255],
            "pid": os.getpid(),
            "backend": backend,
            "started_at": started_at,
            "seen_at": timezone.now(),
        },
    )
    return beat


@transaction.atomic
def heartbeat_forget(*, worker_id: str) -> None:
    """A worker that stops cleanly removes its heartbeat."""
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


# --- Custom fields ---------------------------------------------------------------------

RECORD_TYPES_WITH_FIELDS = ("person", "company", "deal")
# Keys that JSON lookups would read as an operator (custom_fields__contains=...).
RESERVED_KEYS = {
    "contains",
    "contained_by",
    "has_key",
    "has_keys",
    "has_any_keys",
    "exact",
    "iexact",
    "icontains",
    "in",
    "gt",
    "gte",
    "lt",
    "lte",
    "startswith",
    "istartswith",
    "endswith",
    "iendswith",
    "isnull",
    "regex",
    "iregex",
    "key",
}


def _require_settings(actor) -> None:
    if effective_level(actor, "settings", WRITE) != ALL:
        raise PermissionDenied(_("Only administrators change the fields."))


@transaction.atomic
def custom_field_save(
    *,
    actor,
    record_type: str,
    label: str,
    type: str,
    choices: list[str] | None = None,
    currency: str = "",
    help_text: str = "",
    field=None,
):
    """Add a custom field, or rename it and change its help and choices (its key and type
    never change once values exist)."""
    _require_settings(actor)
    errors: dict[str, list[str]] = {}
    label = label.strip()
    if not label:
        errors["label"] = [_("Give the field a name.")]
    if record_type not in RECORD_TYPES_WITH_FIELDS:
        errors["record_type"] = [_("Fields can be added to people, companies and deals.")]
    if type not in dict(CustomField.TYPES):
        errors["type"] = [_("Choose a type from the list.")]
    choices = [c.strip() for c in (choices or []) if c.strip()]
    if type in ("choice", "multi_choice") and not choices:
        errors["choices"] = [_("Give at least one choice, one per line.")]
    if len(set(choices)) != len(choices):
        errors["choices"] = [_("Each choice must be different.")]
    currency = currency.strip().upper()
    if type == "money" and (len(currency) != 3 or not currency.isalpha()):
        errors["currency"] = [_("Give the currency as a three-letter code, e.g. EUR.")]
    if field is not None and field.type != type:
        errors["type"] = [_("The type of an existing field cannot change.")]
    if errors:
        raise ValidationError(errors)
    if field is None:
        base = "_".join(part for part in slugify(label).replace("-", "_").split("_") if part)
        base = base[:40] or "field"
        if not base[0].isalpha() or base in RESERVED_KEYS:
            base = f"f_{base}"
        key, n = base, 2
        while CustomField.objects.filter(record_type=record_type, key=key).exists():
            key, n = f"{base}_{n}", n + 1
        position = CustomField.objects.filter(record_type=record_type).count()
        field = CustomField(record_type=record_type, key=key, type=type, position=position)
    field.label, field.choices = label, choices
    field.currency, field.help_text = currency, help_text
    field.save()
    return field


@transaction.atomic
def custom_field_move(*, actor, field, offset: int) -> None:
    """Move a field up (-1) or down (+1) among its record type's fields."""
    _require_settings(actor)
    fields = list(CustomField.objects.filter(record_type=field.record_type))
    index = next(i for i, f in enumerate(fields) if f.pk == field.pk)
    target = max(0, min(len(fields) - 1, index + offset))
    fields.insert(target, fields.pop(index))
    for position, item in enumerate(fields):
        if item.position != position:
            CustomField.objects.filter(pk=item.pk).update(position=position)


@transaction.atomic
def custom_field_retire(*, actor, field, retired: bool = True) -> None:
    """Hide a field from forms and lists; its values stay on the records."""
    _require_settings(actor)
    field.retired = retired
    field.save(update_fields=["retired"])
