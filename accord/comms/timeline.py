"""How an e-mail or a call shows on a timeline: an e-mail's entry keeps what was written
(subject, to); its state — queued, sending, sent, failed with the reason — is read from
the message itself, as a call's recording and return are from the call, for a page's
entries at once, so the entry is always current."""

from accord.comms.models import Call, Message
from accord.core.formats import duration_text


def dress(events: list) -> None:
    """Give each "email" entry its message (None when it is gone)."""
    ids = {event.data.get("message_id") for event in events if isinstance(event.data, dict)}
    found = Message.objects.only(
        "pk", "state", "sent_at", "failed_at", "error", "attempts", "due_at", "author_id",
        "mailbox_id", "person_id", "company_id", "deal_id", "direction", "tracked",
        "opened_at", "opens", "clicked_at", "clicks",
    ).in_bulk([pk for pk in ids if isinstance(pk, int)])  # fmt: skip
    for event in events:
        event.message = found.get(event.data.get("message_id"))


def dress_calls(events: list) -> None:
    """Give each "call" entry its call (None when it is gone): whether it has a recording
    now, whether a missed one was returned."""
    ids = {event.data.get("call_id") for event in events if isinstance(event.data, dict)}
    found = Call.objects.only(
        "pk", "state", "recording", "returned_at", "duration", "direction", "number"
    ).in_bulk([pk for pk in ids if isinstance(pk, int)])
    for event in events:
        event.call = found.get(event.data.get("call_id"))
        seconds = int(event.data.get("duration") or 0)
        event.talk = duration_text(seconds) if seconds else ""
