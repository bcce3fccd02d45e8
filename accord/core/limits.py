"""What one record may hold, and text no database can store, checked for every path.

The services check the counts (tags, phones, e-mails) before they write anything, so an
oversized request is refused at once; `check_record_text` runs before every save of an
Accord model (a `pre_save` hook in `core/apps.py`) and refuses a text longer than its
column, a NUL character (PostgreSQL cannot store it) or a lone surrogate (no encoding
can), naming the field, whichever door the value came through.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

MAX_TAGS = 50
MAX_PHONES = 20
MAX_EMAILS = 20
LONG_TEXT = 100_000  # a text column without its own maximum (notes, descriptions)
LIST_ITEMS = 1_000  # a list in an API body that has no limit of its own (ids, steps)
TEXT_FIELDS = (models.CharField, models.TextField)


def count_message(field: str, limit: int) -> str:
    """ "At most 50 tags." for a list field that holds more than its limit."""
    nouns = {
        "tags": _("At most %(limit)s tags."),
        "phones": _("At most %(limit)s phone numbers."),
        "emails": _("At most %(limit)s e-mail addresses."),
    }
    return nouns.get(field, _("At most %(limit)s items.")) % {"limit": limit}


def check_counts(data: dict, limits: dict[str, int]) -> dict[str, list[str]]:
    """The errors of the lists in `data` that hold more than their limit (before any
    cleaning: 10,000 tags are refused without looking at one)."""
    return {
        field: [count_message(field, limit)]
        for field, limit in limits.items()
        if isinstance(data.get(field), (list, tuple)) and len(data[field]) > limit
    }


def text_problem(value: str) -> str | None:
    """Why no database can store this text, or None."""
    if "\x00" in value:
        return _("Remove the NUL character (\\0) from the text.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _("The text holds a character that is not valid Unicode (a lone surrogate).")
    return None


def length_message(limit: int) -> str:
    return _("At most %(limit)s characters.") % {"limit": limit}


def check_record_text(sender, instance, raw=False, **kwargs) -> None:
    """Every text column of an Accord record, before it is saved (a `pre_save` hook)."""
    if raw:  # loading a fixture or a backup: stored as it was
        return
    errors: dict[str, list[str]] = {}
    for field in instance._meta.concrete_fields:
        if not isinstance(field, TEXT_FIELDS):
            continue
        value = getattr(instance, field.attname)
        if not isinstance(value, str):
            continue
        limit = field.max_length or LONG_TEXT
        problem = text_problem(value) or (length_message(limit) if len(value) > limit else None)
        if problem:
            errors[field.name] = [problem]
    if errors:
        raise ValidationError(errors)
