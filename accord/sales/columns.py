"""The columns the deal list can show, and which ones each user chose (as client lists)."""

from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from accord.core.custom_fields import active_fields
from accord.core.formats import short_date

BUILT_IN = [
    ("client", _("Client")),
    ("stage", _("Stage")),
    ("amount", _("Amount")),
    ("owner", _("Owner")),
    ("expected_close_date", _("Expected close")),
    ("source", _("Source")),
    ("tags", _("Tags")),
    ("created_at", _("Added")),
    ("updated_at", _("Updated")),
]
DEFAULT = ["client", "stage", "amount", "owner", "expected_close_date", "updated_at"]
SORTS = {"amount": "amount", "created_at": "created_at", "updated_at": "updated_at"}
MAX_COLUMNS = 12


def available(fields=None) -> list[tuple[str, str]]:
    fields = active_fields("deal") if fields is None else fields
    return BUILT_IN + [(f"cf:{field.key}", field.label) for field in fields]


def chosen(user, fields=None) -> list[tuple[str, str, str]]:
    """(name, label, sort field or "") of the user's columns."""
    names = user.preferences.get("columns", {}).get("deal") or DEFAULT
    labels = dict(available(fields))
    return [(name, str(labels[name]), SORTS.get(name, "")) for name in names if name in labels]


def clean_choice(names: list[str]) -> list[str]:
    allowed = dict(available())
    return [name for name in names if name in allowed][:MAX_COLUMNS] or DEFAULT


def cell(deal, column: str):
    """What one cell of the deal list shows."""
    if column == "client":
        return str(deal.person or deal.company or "—")
    if column == "stage":
        if deal.status == "open":
            return f"{deal.pipeline} · {deal.stage}"
        css = "badge-success" if deal.status == "won" else "badge-danger"
        return format_html('<span class="badge {}">{}</span>', css, deal.get_status_display())
    if column == "amount":
        amount = number_format(deal.amount, decimal_pos=2, use_l10n=True, force_grouping=True)
        return f"{amount} {deal.currency}"
    if column == "owner":
        return str(deal.owner or "—")
    if column == "tags":
        tags = format_html_join(
            " ", '<span class="badge badge-tag">{}</span>', ((t.name,) for t in deal.tags.all())
        )
        return tags or "—"
    if column in ("expected_close_date", "created_at", "updated_at"):
        value = getattr(deal, column)
        return short_date(value) if value else "—"
    if column.startswith("cf:"):
        value = deal.custom_fields.get(column[3:])
        if isinstance(value, list):
            return ", ".join(value)
        return "—" if value in (None, "") else str(value)
    return getattr(deal, column, "") or "—"
