"""One cell of a client list, by column name."""

from django import template
from django.utils.html import format_html, format_html_join

from accord.core.formats import short_date
from accord.core.phones import display_phone

register = template.Library()


@register.simple_tag
def client_cell(record, column: str):
    if column == "phone":
        number = display_phone(record.primary_phone) if record.primary_phone else "—"
        return format_html('<span class="ltr">{}</span>', number)
    if column == "email":
        return format_html('<span class="ltr">{}</span>', record.primary_email or "—")
    if column == "kind":
        return record.get_kind_display()
    if column in ("company", "owner"):
        return str(getattr(record, column) or "—")
    if column == "tags":
        return (
            format_html_join(
                " ",
                '<span class="badge badge-tag">{}</span>',
                ((tag.name,) for tag in record.tags.all()),
            )
            or "—"
        )
    if column in ("created_at", "updated_at", "last_contact_at"):
        value = getattr(record, column)
        return short_date(value) if value else "—"
    if column.startswith("cf:"):
        value = record.custom_fields.get(column[3:])
        if isinstance(value, list):
            return ", ".join(value)
        if isinstance(value, dict):
            return f"{value.get('type')} #{value.get('id')}"
        return "—" if value in (None, "") else str(value)
    return getattr(record, column, "") or "—"
