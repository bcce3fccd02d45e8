"""A client's phones and e-mails: checking them, writing them, and the primary ones lists show."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from accord.contacts.models import ContactPoint, Person
from accord.core.phones import PhoneError, normalize_phone


def clean_phones(items: list | None, errors: dict) -> list[dict] | None:
    if items is None:
        return None
    clean, messages = [], []
    for item in items:
        number = item.get("number", "") if isinstance(item, dict) else str(item)
        label = _label(item, ContactPoint.PHONE, messages)
        if not str(number).strip() or label is None:
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
        label = _label(item, ContactPoint.EMAIL, messages)
        address = str(address).strip().lower()
        if not address or label is None:
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


def _label(item, kind: str, messages: list) -> str | None:
    """A point's label as its key ("mobile"), "" for none; None (and why) for another."""
    label = str(item.get("label") or "").strip().lower() if isinstance(item, dict) else ""
    choices = dict(ContactPoint.LABELS[kind])
    if label and label not in choices:
        messages.append(
            _("“%(label)s” is not a label: choose %(choices)s.")
            % {"label": label[:30], "choices": ", ".join(choices)}
        )
        return None
    return label


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
    """A client's phones or e-mails replaced by these; the first is the primary one."""
    record.contact_points.filter(kind=kind).delete()
    add_contact_points(record, kind, items)
    primary = items[0]["value"] if items else ""
    setattr(record, "primary_phone" if kind == "phone" else "primary_email", primary)


def add_contact_points(record, kind: str, items: list[dict]) -> None:
    """Write a client's phones or e-mails ({"value", "label"}), in their order, where it
    has none of that kind yet (a new client)."""
    if not items:
        return
    owner_field = "person" if isinstance(record, Person) else "company"
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
