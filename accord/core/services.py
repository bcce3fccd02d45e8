"""Writes of the kernel: worker heartbeats, custom field definitions, the company's profile."""

import os
import socket
from datetime import datetime
from decimal import Decimal
from zoneinfo import available_timezones

import phonenumbers
from babel.numbers import list_currencies
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.core.company import REPLY_MINUTES
from accord.core.events import emit
from accord.core.models import CompanyProfile, CustomField, WorkerHeartbeat
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


# --- The company's profile ---------------------------------------------------------------

PROFILE_FIELDS = ("name", "address", "tax_id", "bank_details", "country", "currency",
                  "time_zone", "language", "week_start", "date_format")  # fmt: skip
# Set on other screens (Settings → Messengers and SMS), not on the company's own form.
# Set on screens of their own: Settings → Messengers; Reports → Campaigns.
OTHER_PROFILE_FIELDS = ("reply_minutes", "max_cost_per_sale")
# The company's pictures documents print: its logo, a signature, a stamp.
PROFILE_IMAGES = {
    "logo": (
        gettext_lazy("The logo may be at most 2 MB."),
        gettext_lazy("The logo must be a PNG, JPEG or WebP picture."),
    ),
    "signature": (
        gettext_lazy("The signature may be at most 2 MB."),
        gettext_lazy("The signature must be a PNG, JPEG or WebP picture."),
    ),
    "stamp": (
        gettext_lazy("The stamp may be at most 2 MB."),
        gettext_lazy("The stamp must be a PNG, JPEG or WebP picture."),
    ),
}
IMAGE_MAX_BYTES = 2 * 2**20
IMAGE_KINDS = {b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpg", b"RIFF": "webp"}


@transaction.atomic
def company_profile_update(
    *, actor, version: int | None = None, images: dict | None = None, **values
) -> CompanyProfile:
    """Change the company's profile (administrators). `values` are PROFILE_FIELDS;
    `images` maps PROFILE_IMAGES (logo, signature, stamp) to a new upload, or to False to
    remove it. A `version` older than the stored one is refused, so two admins don't
    overwrite each other. The first save marks the first-login step done."""
    if effective_level(actor, "settings", WRITE) != ALL:
        raise PermissionDenied(_("Only administrators change the company's settings."))
    unknown = set(values) - set(PROFILE_FIELDS) - set(OTHER_PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"not profile fields: {sorted(unknown)}")
    profile = CompanyProfile.objects.select_for_update().filter(pk=1).first()
    profile = profile or CompanyProfile(pk=1, version=0)
    zone_before = profile.time_zone
    if version is not None and profile.version and version != profile.version:
        raise ValidationError(
            _("Someone else changed the company's settings meanwhile: reload to see them.")
        )
    images = {name: image for name, image in (images or {}).items() if image is not None}
    if set(images) - set(PROFILE_IMAGES):
        raise ValueError(f"not profile images: {sorted(set(images) - set(PROFILE_IMAGES))}")
    errors = _profile_errors(values)
    for name, upload in images.items():
        if upload is not False:
            errors.update(_image_errors(name, upload))
    if errors:
        raise ValidationError(errors)
    for name, value in values.items():
        setattr(profile, name, value.strip() if isinstance(value, str) else value)
    if profile.week_start == "":
        profile.week_start = None
    profile.country, profile.currency = profile.country.upper(), profile.currency.upper()
    for name, upload in images.items():
        stored = getattr(profile, name)
        if stored:
            stored.delete(save=False)
        if upload is not False:
            stored.save(f"{name}.{_image_kind(upload)}", upload, save=False)
    profile.version += 1
    profile.set_up_at = profile.set_up_at or timezone.now()
    profile.full_clean()
    profile.save()
    CompanyProfile.forget()  # this process reads the new one at once,
    transaction.on_commit(CompanyProfile.forget)  # others after the commit
    if profile.time_zone != zone_before:  # the days of the daily rollups move
        emit("company.time_zone_changed", zone=profile.time_zone)
    return profile


def _profile_errors(values: dict) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    country = (values.get("country") or "").upper()
    if country and country not in phonenumbers.SUPPORTED_REGIONS:
        errors["country"] = [_("Choose a country from the list.")]
    currency = (values.get("currency") or "").upper()
    if currency and currency not in list_currencies():
        errors["currency"] = [_("Choose a currency from the list (e.g. EUR, RUB, ILS, AMD).")]
    zone = values.get("time_zone") or ""
    if zone and zone not in available_timezones():
        errors["time_zone"] = [_("Choose a time zone from the list.")]
    language = values.get("language") or ""
    if language and language not in dict(settings.LANGUAGES):
        errors["language"] = [_("Choose a language from the list.")]
    week_start = values.get("week_start")
    if week_start not in (None, "", *dict(CompanyProfile.WEEK_STARTS)):
        errors["week_start"] = [_("Choose a day from the list.")]
    if (values.get("date_format") or "") not in dict(CompanyProfile.DATE_FORMATS):
        errors["date_format"] = [_("Choose a date format from the list.")]
    replies = values.get("reply_minutes", {})
    if not isinstance(replies, dict) or any(
        channel not in REPLY_MINUTES or isinstance(minutes, bool) or not isinstance(minutes, int)
        or not 1 <= minutes <= 7 * 24 * 60
        for channel, minutes in replies.items()
    ):  # fmt: skip
        errors["reply_minutes"] = [_("Give each channel's minutes, from 1 to a week.")]
    limit = values.get("max_cost_per_sale")
    if limit is not None and (not isinstance(limit, Decimal) or not 0 < limit < 10**12):
        errors["max_cost_per_sale"] = [_("An amount above zero, or empty for none.")]
    return errors


def _image_kind(upload) -> str | None:
    """png, jpg or webp by the file's first bytes (never by its name), else None."""
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for magic, kind in IMAGE_KINDS.items():
        if head.startswith(magic) and (kind != "webp" or head[8:12] == b"WEBP"):
            return kind
    return None


def _image_errors(name: str, upload) -> dict[str, list[str]]:
    too_big, not_a_picture = PROFILE_IMAGES[name]
    if upload.size > IMAGE_MAX_BYTES:
        return {name: [str(too_big)]}
    if _image_kind(upload) is None:
        return {name: [str(not_a_picture)]}
    return {}
