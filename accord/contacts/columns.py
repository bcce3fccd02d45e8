"""The columns a client list can show, and which ones each user chose."""

from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from accord.core.custom_fields import SORTABLE_TYPES, active_fields

BUILT_IN = {
    "person": [
        ("phone", _("Phone")),
        ("email", _("E-mail")),
        ("company", _("Company")),
        ("kind", _("Stage")),
        ("owner", _("Owner")),
        ("city", _("City")),
        ("country", _("Country")),
        ("source", _("Source")),
        ("tags", _("Tags")),
        ("last_contact_at", _("Last contact")),
        ("created_at", _("Added")),
        ("updated_at", _("Updated")),
    ],
    "company": [
        ("phone", _("Phone")),
        ("email", _("E-mail")),
        ("kind", _("Kind")),
        ("owner", _("Owner")),
        ("city", _("City")),
        ("country", _("Country")),
        ("source", _("Source")),
        ("tags", _("Tags")),
        ("last_contact_at", _("Last contact")),
        ("created_at", _("Added")),
        ("updated_at", _("Updated")),
    ],
}
DEFAULT = {
    "person": ["phone", "company", "owner", "city", "updated_at"],
    "company": ["phone", "kind", "owner", "city", "updated_at"],
}
# The column a list header sorts by (the others do not sort).
SORTS = {
    "phone": "primary_phone",
    "email": "primary_email",
    "kind": "kind",
    "city": "city",
    "country": "country",
    "source": "source",
    "created_at": "created_at",
    "updated_at": "updated_at",
}


def available(record_type: str, fields=None) -> list[tuple[str, str]]:
    """Built-in and custom-field columns; `fields` saves a query when the caller has them."""
    fields = active_fields(record_type) if fields is None else fields
    return BUILT_IN[record_type] + [(f"cf:{field.key}", field.label) for field in fields]


def chosen(user, record_type: str, fields=None) -> list[tuple[str, str, str, str]]:
    """(name, label, cell class, sort field or "") of the user's columns, made once."""
    names = user.preferences.get("columns", {}).get(record_type) or DEFAULT[record_type]
    labels = dict(available(record_type, fields))
    sortable = {
        f"cf:{field.key}": f"cf.{field.key}"
        for field in (active_fields(record_type) if fields is None else fields)
        if field.type in SORTABLE_TYPES
    }
    return [
        (name, str(labels[name]), f"col-{slugify(name)}", SORTS.get(name) or sortable.get(name, ""))
        for name in names
        if name in labels
    ]


def clean_choice(record_type: str, names: list[str]) -> list[str]:
    allowed = dict(available(record_type))
    return [name for name in names if name in allowed][:12] or DEFAULT[record_type]
