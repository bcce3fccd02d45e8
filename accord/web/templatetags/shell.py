"""Template helpers shared by every screen: phones, initials, sortable column headers,
whether the user may write to a client or call through the PBX."""

from django import template
from django.utils.html import format_html

from accord.comms.queries import dialing_extension, messengers_in_use
from accord.comms.services import may_write_to
from accord.core.formats import duration_text
from accord.core.phones import display_phone

register = template.Library()


@register.filter
def phone(value: str) -> str:
    return display_phone(value) if value else "—"


@register.filter
def dials(user) -> bool:
    """Whether "Call" beside a number asks the PBX to ring the user's phone first (their
    extension is on a PBX that places calls); asked once a page."""
    if not hasattr(user, "_accord_dials"):
        user._accord_dials = dialing_extension(user) is not None
    return user._accord_dials


@register.filter
def talk_length(seconds) -> str:
    """A call's length in words: "3 min 25 s"."""
    return duration_text(seconds or 0)


@register.filter
def channel_name(channel: str) -> str:
    """A messenger's own spelling: telegram -> Telegram, whatsapp -> WhatsApp, sms -> SMS."""
    return {"telegram": "Telegram", "whatsapp": "WhatsApp", "sms": "SMS"}.get(channel, channel)


@register.filter
def texts(user) -> bool:
    """Whether the card offers "Write a message" (a messenger or SMS is connected); asked
    once a page."""
    if not hasattr(user, "_accord_texts"):
        user._accord_texts = messengers_in_use().exists()
    return user._accord_texts


@register.filter
def may_email(user, record) -> bool:
    """Whether the card shows "Write an e-mail": the user may write to this client or deal."""
    return may_write_to(user, [record])


@register.filter
def initials(record) -> str:
    return initials_of(str(record))


def initials_of(name: str) -> str:
    """The first letters of the first two words that start with one ("+7 916 …", a caller
    named by their number, has none: "#")."""
    words = [word for word in name.split() if word[0].isalpha()]
    if not words and name.strip():
        return "#"
    return "".join(word[0] for word in words[:2]).upper() or "?"


@register.simple_tag(takes_context=True)
def sort_link(context, field: str, label: str):
    """A column header that sorts by `field`, toggling the direction on a second click."""
    current = context.get("sort", "")
    query = context["request"].GET.copy()
    query.pop("cursor", None)
    query["sort"] = f"-{field}" if current == field else field
    arrow = ""
    if current.lstrip("-") == field:
        arrow = " ↓" if current.startswith("-") else " ↑"
    return format_html('<a class="sort-link" href="?{}">{}{}</a>', query.urlencode(), label, arrow)
