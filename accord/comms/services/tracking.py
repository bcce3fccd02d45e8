"""What came back from tracked messages (accord/comms/tracking.py): an open (the invisible
image was loaded) and a click (a link passed through Accord), counted on the message —
when first, how many — and, for a click, per link. No login: the signed token is the
proof. A repeat (a reload, a mail scanner) adds to the count and changes nothing else;
`message.opened` is emitted the first time a message is opened, `message.clicked` the
first time each of its links is clicked."""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F

from accord.comms.models import LinkClick, Message
from accord.comms.services.messages import _payload
from accord.core.events import emit


def _tracked(message_id: int):
    return Message.objects.filter(pk=message_id, direction=Message.OUT, tracked=True)


@transaction.atomic
def message_opened(*, message_id: int, at: datetime) -> bool:
    """The message's image was loaded: one more open (the first one's time kept).
    Answers False for a message that is gone or not tracked (nothing recorded)."""
    found = _tracked(message_id)
    first = found.filter(opened_at=None).update(opened_at=at, opens=F("opens") + 1)
    if not first:
        return bool(found.update(opens=F("opens") + 1))
    emit("message.opened", **_payload(found.get()))
    return True


@transaction.atomic
def message_clicked(*, message_id: int, url: str, at: datetime) -> bool:
    """A link of the message was followed: one more click, on the message and on the
    link. A click is an open too (many mail programs load no images): a message clicked
    before any open is counted opened then. Answers False for a message that is gone or
    not tracked (nothing recorded; the reader is sent on all the same)."""
    found = _tracked(message_id)
    first = found.filter(clicked_at=None).update(clicked_at=at, clicks=F("clicks") + 1)
    if not first and not found.update(clicks=F("clicks") + 1):
        return False
    opened = found.filter(opened_at=None).update(opened_at=at, opens=1)
    new_link = _count_link(message_id, url, at)
    if opened or new_link:
        message = found.get()
        if opened:
            emit("message.opened", **_payload(message))
        if new_link:
            emit("message.clicked", **_payload(message), url=url)
    return True


def _count_link(message_id: int, url: str, at: datetime) -> bool:
    """One more click on the link; answers whether it is its first."""
    link = LinkClick.objects.filter(message_id=message_id, url=url)
    if link.update(clicks=F("clicks") + 1, last_at=at):
        return False
    try:
        with transaction.atomic():
            LinkClick.objects.create(
                message_id=message_id, url=url, clicks=1, first_at=at, last_at=at
            )
    except IntegrityError:  # the same link, a moment before, in another request
        link.update(clicks=F("clicks") + 1, last_at=at)
        return False
    return True
