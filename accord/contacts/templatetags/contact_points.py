"""The label choices of a phone or an e-mail row in a client's form, and its phone example."""

from django import template

from accord.contacts.models import ContactPoint
from accord.core.phones import example_phone

register = template.Library()


@register.simple_tag
def point_labels(kind: str) -> list[tuple[str, str]]:
    """("", "—") then the kind's labels, in the reader's language."""
    return [("", "—"), *((key, str(name)) for key, name in ContactPoint.LABELS[kind])]


@register.simple_tag
def phone_example() -> str:
    """The phone field's placeholder: a mobile number of the company's country."""
    return example_phone()
