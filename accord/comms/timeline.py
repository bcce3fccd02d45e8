"""How an e-mail shows on a timeline: its entry keeps what was written (subject, to);
its state — queued, sending, sent, failed with the reason — is read from the message
itself, for a page's entries at once, so the entry is always current."""

from accord.comms.models import Message


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
