"""The deal's fields a task asks for when it is completed (the measurer's window sizes):
which fields can be asked, by name ("amount", "expected_close_date",
"custom_fields.<key>") and label, and the answers turned into the deal's values.

Completing such a task writes the answers onto its deal through `deal_update`, in the
same transaction; the task grants its assignee (or whoever may change the task) those
fields of that deal, and no other, whatever their role allows on deals."""

import datetime
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.core.custom_fields import active_fields
from accord.core.models import CustomField

CUSTOM = "custom_fields."
OWN = {"amount": gettext_lazy("Amount"), "expected_close_date": gettext_lazy("Expected close")}


@dataclass(frozen=True)
class Asked:
    """One field a task asks for: its name, its label, and its definition when it is a
    custom field (None for the deal's amount and expected close)."""

    name: str
    label: str
    field: CustomField | None = None


def askable() -> list[Asked]:
    """Every field of a deal a task can ask for: its amount, its expected close, and each
    active custom field, in the admin's order."""
    return [
        *(Asked(name, str(label)) for name, label in OWN.items()),
        *(Asked(CUSTOM + field.key, field.label, field) for field in active_fields("deal")),
    ]


def choices() -> list[tuple[str, str]]:
    """(name, label) of the fields a task can ask for, for a form's or a rule's choice."""
    return [(item.name, item.label) for item in askable()]


def asks_problems(names: Any) -> list[str]:
    """What is wrong with a list of asked fields' names (empty: nothing)."""
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        return [_('List the deal\'s fields by name, e.g. ["amount", "custom_fields.sizes"].')]
    known = {item.name for item in askable()}
    unknown = [name for name in names if name not in known]
    if unknown:
        return [_("The deal has no field %(fields)s to ask for.") % {"fields": ", ".join(unknown)}]
    if len(set(names)) != len(names):
        return [_("Ask for each field once.")]
    return []


def asked(task) -> list[Asked]:
    """The fields `task` asks for that its deal still has (a custom field retired since
    is asked no more), in the order the task lists them; none without a deal."""
    if not task.asks or not task.deal_id:
        return []
    by_name = {item.name: item for item in askable()}
    return [by_name[name] for name in task.asks if name in by_name]


def labels(names: list[str]) -> list[str]:
    """The asked fields' labels (a retired custom field by its name), for timelines and
    the rules' steps in words."""
    by_name = dict(choices())
    return [by_name.get(name, name.removeprefix(CUSTOM)) for name in names or []]


def deal_values(fields: list[Asked], answers: dict | None) -> dict:
    """The answers as `deal_update` takes them ({"amount": …, "custom_fields": {key: …}});
    each asked field must be answered, and nothing else. Errors name the field as asked."""
    answers = dict(answers or {})
    errors: dict[str, list[str]] = {}
    data: dict[str, Any] = {}
    for item in fields:
        value = answers.pop(item.name, None)
        if value is None or (isinstance(value, str | list) and not value):
            errors[item.name] = [_("Fill this in: the task asks for it.")]
        elif item.field is not None:
            data.setdefault("custom_fields", {})[item.field.key] = value
        elif item.name == "expected_close_date":
            data[item.name] = _date(value, item.name, errors)
        else:
            data[item.name] = value
    for name in answers:
        errors[name] = [_("This task does not ask for it.")]
    if errors:
        raise ValidationError(errors)
    return data


def _date(value: Any, name: str, errors: dict) -> datetime.date | None:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        errors[name] = [_("Enter a date as YYYY-MM-DD.")]
        return None


def granted(fields: list[Asked]) -> frozenset[str]:
    """The names of the deal's fields the task lets its completer set."""
    return frozenset(item.name for item in fields)
