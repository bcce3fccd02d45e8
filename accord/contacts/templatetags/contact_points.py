"""The label choices of a phone or an e-mail row in a client's form."""

from django import template

from accord.contacts.models import ContactPoint

register = template.Library()


@register.simple_tag
def point_labels(kind: str) -> list[tuple[str, str]]:
    """("", "—") then the kind's labels, in the reader's language."""
    return [("", "—"), *((key, str(name)) for key, name in ContactPoint.LABELS[kind])]
