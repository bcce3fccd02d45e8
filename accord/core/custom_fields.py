"""Custom fields: typed values an admin defines per record type, checked on every write."""

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db.models import CharField, FloatField, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce
from django.utils.translation import gettext as _

from accord.core.models import CustomField

MAX_TEXT = 10_000


def active_fields(record_type: str) -> list[CustomField]:
    return list(CustomField.objects.filter(record_type=record_type, retired=False))


def clean_custom_fields(
    record_type: str, values: dict[str, Any] | None, *, current: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Merge `values` into `current`, each checked against its field's type.

    Unknown keys are refused; None removes a value. Errors name "custom_fields.<key>".
    """
    result = dict(current or {})
    if not values:
        return result
    if not isinstance(values, dict):
        raise ValidationError({"custom_fields": [_("Custom fields must be an object.")]})
    fields = {field.key: field for field in active_fields(record_type)}
    errors: dict[str, list[str]] = {}
    for key, value in values.items():
        field = fields.get(key)
        name = f"custom_fields.{key}"
        if field is None:
            errors[name] = [_("There is no custom field %(key)s.") % {"key": key}]
            continue
        if value is None or value == "" or value == []:
            result.pop(key, None)
            continue
        try:
            result[key] = clean_value(field, value)
        except ValueError as error:
            errors[name] = [str(error)]
    if errors:
        raise ValidationError(errors)
    return result


def clean_value(field: CustomField, value: Any) -> Any:
    kind = field.type
    if kind in {"text", "long_text"}:
        if not isinstance(value, str | int | float):
            raise ValueError(_("Enter text."))
        text = str(value)
        limit = 200 if kind == "text" else MAX_TEXT
        if len(text) > limit:
            raise ValueError(_("At most %(limit)s characters.") % {"limit": limit})
        return text
    if kind in {"number", "money"}:
        if isinstance(value, bool):
            raise ValueError(_("Enter a number."))
        try:
            number = Decimal(str(value).replace(",", ".").replace(" ", ""))
        except InvalidOperation:
            raise ValueError(_("Enter a number.")) from None
        if not number.is_finite() or abs(number) >= Decimal(10) ** 15:
            raise ValueError(_("Enter a number."))
        if kind == "money":
            return str(number.quantize(Decimal("0.01")))
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "date":
        try:
            return datetime.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValueError(_("Enter a date as YYYY-MM-DD.")) from None
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if str(value).lower() in {"true", "yes", "1", "on"}:
            return True
        if str(value).lower() in {"false", "no", "0", "off"}:
            return False
        raise ValueError(_("Enter yes or no."))
    if kind == "choice":
        if value not in field.choices:
            raise ValueError(
                _("Choose one of: %(choices)s.") % {"choices": ", ".join(field.choices)}
            )
        return value
    if kind == "multi_choice":
        picked = value if isinstance(value, list) else [value]
        unknown = [item for item in picked if item not in field.choices]
        if unknown:
            raise ValueError(_("Choose from: %(choices)s.") % {"choices": ", ".join(field.choices)})
        return [choice for choice in field.choices if choice in picked]
    if kind == "url":
        try:
            URLValidator(schemes=["http", "https"])(str(value))
        except ValidationError:
            raise ValueError(_("Enter a web address starting with http:// or https://.")) from None
        return str(value)
    if kind == "record":
        if not isinstance(value, dict) or value.get("type") not in {"person", "company", "deal"}:
            raise ValueError(_('Link a record as {"type": "person", "id": "12"}.'))
        record_id = str(value.get("id", ""))
        if not record_id.isdecimal():
            raise ValueError(_("The linked record needs an id."))
        return {"type": value["type"], "id": record_id}
    raise ValueError(_("Unknown field type."))


SORTABLE_TYPES = {"text", "long_text", "number", "money", "date", "choice", "boolean", "url"}
SORT_ALIAS = "cf_sort"
NO_NUMBER = -1e18  # where a record without a value sorts among numbers (first, ascending)


def sort_expression(field: CustomField):
    """The value a list sorts by, never NULL (keyset pages compare it): a number as a
    float, anything else as its text; a record without the value sorts first."""

    text = KeyTextTransform(field.key, "custom_fields")
    if field.type in ("number", "money"):
        return Coalesce(Cast(text, FloatField()), Value(NO_NUMBER), output_field=FloatField())
    return Coalesce(Cast(text, CharField()), Value(""), output_field=CharField())


def sort_by_custom_field(queryset, record_type: str, sort: str):
    """For a sort "cf.<key>" (or "-cf.<key>"): the queryset with the value to sort by, and
    the sort to page by. A field that does not exist or cannot be sorted is refused."""
    descending = sort.startswith("-")
    key = sort.lstrip("-")[3:]
    field = CustomField.objects.filter(record_type=record_type, key=key, retired=False).first()
    if field is None or field.type not in SORTABLE_TYPES:
        raise ValidationError({"sort": [_("Cannot sort by %(name)s.") % {"name": sort}]})
    annotated = queryset.annotate(**{SORT_ALIAS: sort_expression(field)})
    return annotated, f"-{SORT_ALIAS}" if descending else SORT_ALIAS
