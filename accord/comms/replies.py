"""What a reply, a reply to all or a forward of a message starts with: its recipients
(never our own addresses), its subject with one "Re:" or "Fwd:" however many the
original had, the original quoted below, the mailbox the client wrote to, and the
threading headers (RFC 5322 §3.6.4) that keep it in the same thread everywhere."""

import re
from typing import Literal

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accord.comms.models import Mailbox, Message
from accord.core.formats import short_datetime

Kind = Literal["reply", "reply_all", "forward"]
KINDS: tuple[Kind, ...] = ("reply", "reply_all", "forward")
# The prefixes mail programs put before a subject, in the languages of our users: one of
# ours replaces all of them, so a long exchange never reads "Re: Re: Fwd: Re: …".
PREFIX = re.compile(
    r"^\s*(?:re|aw|sv|antw|ref|fwd?|wg|tr|rv|enc|ответ|отв|пересл|השב|הועבר|תגובה)"
    r"\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*",
    re.IGNORECASE,
)
# References keep the first message and the latest ones: enough to thread, never a
# header that grows without end in a long exchange.
MAX_REFERENCES = 20


def subject_for(subject: str, kind: Kind) -> str:
    bare = subject
    while (stripped := PREFIX.sub("", bare, count=1)) != bare:
        bare = stripped
    prefix = "Fwd: " if kind == "forward" else "Re: "
    return (prefix + bare.strip())[:300]


def own_addresses() -> set[str]:
    """Every address Accord sends from: a reply to all never goes back to us."""
    return {address.lower() for address in Mailbox.objects.values_list("address", flat=True)}


def recipients_for(message: Message, kind: Kind, ours: set[str]) -> tuple[list[str], list[str]]:
    """(to, cc) of the answer. A reply goes to who wrote (for one of ours: to whom we
    wrote); a reply to all adds everyone else the original went to, in Cc; a forward
    goes to whom the user types."""
    if kind == "forward":
        return [], []
    if message.direction == Message.IN:
        to = [message.from_address]
        others = [*message.to, *message.cc]
    else:
        to, others = list(message.to), list(message.cc)
    to = _unique([address for address in to if address.lower() not in ours])
    if kind == "reply":
        return to, []
    taken = {address.lower() for address in to} | ours
    return to, _unique([address for address in others if address.lower() not in taken])


def references_for(message: Message) -> str:
    """The original's References (or its In-Reply-To) and then its own Message-ID."""
    found = (message.references or message.in_reply_to or "").split()
    found = [*found, message.message_id]
    if len(found) > MAX_REFERENCES:
        found = [found[0], *found[-(MAX_REFERENCES - 1) :]]
    return " ".join(found)


def quote(message: Message, kind: Kind) -> str:
    """The original below the answer: "> " lines under who wrote when, or a forward's
    header block."""
    when = short_datetime(timezone.localtime(message.created_at))
    sender = (
        f"{message.from_name} <{message.from_address}>"
        if message.from_name
        else (message.from_address)
    )
    text = message.text.strip("\n")
    if kind == "forward":
        header = [
            (pgettext("e-mail header", "From"), sender),
            (_("Date"), when),
            (_("Subject"), message.subject),
            (pgettext("e-mail header", "To"), ", ".join(message.to)),
            (pgettext("e-mail header", "Cc"), ", ".join(message.cc)),
        ]
        lines = [_("---------- Forwarded message ----------")]
        lines += [f"{name}: {value}" for name, value in header if value]
        return "\n\n\n" + "\n".join(lines) + "\n\n" + text
    said = _("On %(when)s, %(who)s wrote:") % {"when": when, "who": sender}
    quoted = "\n".join(f"> {line}" if line else ">" for line in text.split("\n"))
    return f"\n\n\n{said}\n{quoted}"


def mailbox_for(message: Message, choices) -> Mailbox | None:
    """The mailbox the client wrote to (or ours the original went from), when the user may
    send from it; else the first they may."""
    choices = list(choices)
    wanted = {address.lower() for address in (*message.to, *message.cc)}
    if message.direction == Message.OUT:
        wanted = {message.from_address.lower()}
    for mailbox in choices:
        if mailbox.pk == message.mailbox_id:
            return mailbox
    for mailbox in choices:
        if mailbox.address.lower() in wanted:
            return mailbox
    return choices[0] if choices else None


def prefill(message: Message, kind: Kind) -> dict:
    """The compose form's start: to, cc, subject and the text with the original quoted."""
    to, cc = recipients_for(message, kind, own_addresses())
    return {
        "to": ", ".join(to),
        "cc": ", ".join(cc),
        "subject": subject_for(message.subject, kind),
        "text": quote(message, kind),
    }


def _unique(addresses: list[str]) -> list[str]:
    seen: set[str] = set()
    kept = []
    for address in addresses:
        if address.lower() not in seen:
            seen.add(address.lower())
            kept.append(address)
    return kept
