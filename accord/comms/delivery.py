"""What the worker runs to send e-mail: take the due messages (each taken by one process
only), send them a mailbox at a time over one SMTP connection, and record each outcome;
a messenger's or an SMS message goes through its provider's API (services/chats.py).
Only tasks.py and the periodic job call this; the services queue the messages.

At most once: a message is marked `sending` in its own committed transaction before the
server hears of it. A crash after that leaves it `sending`; it is never sent again by
itself (the server may have it) but, after a while, failed with a reason that says so,
for a person to check and retry. A failure before the message's bytes went out (a server
away, a 4xx answer) is safe to retry: it is queued again with back-off.
"""

import logging
import time
from collections import defaultdict
from datetime import datetime

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone, translation

from accord.comms import smtp
from accord.comms.models import Message
from accord.comms.services import (
    message_attempt_failed,
    message_sent,
    messages_abandon_stale,
    messages_sent,
)
from accord.comms.services.chat_sending import chat_deliver
from accord.comms.services.messages import claim_token
from accord.core.company import default_language

log = logging.getLogger(__name__)
BATCH = 200  # messages taken at a time
PASS_SECONDS = 20.0  # a pass goes on with further batches this long


def tick(now: datetime) -> int:
    """The periodic job: give up on messages a dead worker left `sending`, then send the
    due ones (retries whose wait is over, and any whose task was lost)."""
    messages_abandon_stale(now=now)
    return deliver_due(now)


def deliver_due(now: datetime | None = None, ids: list[int] | None = None) -> int:
    """Send the due queued messages (only these `ids`, if given), a batch at a time;
    answers how many were tried."""
    began, tried = time.monotonic(), 0
    with translation.override(default_language()):  # the reasons stored, in words
        while time.monotonic() - began < PASS_SECONDS:
            taken = claim(now or timezone.now(), ids)
            if not taken:
                break
            deliver(taken)
            tried += len(taken)
            if len(taken) < BATCH:
                break
    return tried


def claim(now: datetime, ids: list[int] | None = None) -> list[Message]:
    """Mark up to BATCH due messages `sending` for this pass, in one committed transaction:
    a message another process took is not among them (PostgreSQL skips the rows it is
    taking; SQLite lets one writer in at a time)."""
    token = claim_token()
    with transaction.atomic():
        due = Message.objects.filter(state=Message.QUEUED, due_at__lte=now)
        if ids is not None:
            due = due.filter(pk__in=ids)
        due = due.order_by("due_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        pks = list(due.values_list("pk", flat=True)[:BATCH])
        Message.objects.filter(pk__in=pks, state=Message.QUEUED).update(
            state=Message.SENDING, claim=token, claimed_at=now, attempts=F("attempts") + 1
        )
    taken = Message.objects.filter(claim=token, state=Message.SENDING)
    return list(
        taken.select_related("mailbox", "messenger", "person", "company", "deal")
        .prefetch_related("attachments")
        .order_by("mailbox_id", "pk")
    )


def deliver(messages: list[Message], *, record_every: int = 1) -> None:
    """Send claimed messages: one connection per mailbox, reused for its messages and
    opened again after a failure broke it. `record_every`: the messages the server took
    are recorded sent this many at a time (a mailing: one transaction for a batch; a
    worker killed before recording leaves them `sending`, never sent again by itself)."""
    by_mailbox: dict[int | None, list[Message]] = defaultdict(list)
    for message in messages:
        # A messenger's or an SMS (its connection perhaps removed since): its provider's API.
        if message.messenger_id or message.message_id.startswith("chat:"):
            chat_deliver(message)
            continue
        by_mailbox[message.mailbox_id].append(message)
    for group in by_mailbox.values():
        _deliver_group(group, record_every)


def _deliver_group(messages: list[Message], record_every: int = 1) -> None:
    mailbox = messages[0].mailbox
    open_connection = None
    taken: list[tuple[Message, dict]] = []

    def record() -> None:
        if taken:
            messages_sent(sent=list(taken), at=timezone.now())
            taken.clear()

    try:
        for index, message in enumerate(messages):
            if open_connection is None:
                try:
                    open_connection = smtp.connect(smtp.Server.of(mailbox))
                except smtp.MailError as error:  # the server is away: so for all of them
                    record()
                    for waiting in messages[index:]:
                        _failed(waiting, error)
                    return
            try:
                data = (
                    smtp.mime_bulk(message)
                    if message.mailing_id
                    else smtp.mime(message, message.attachments.all())
                ).as_bytes()
                refused = smtp.send(
                    open_connection,
                    sender=message.from_address,
                    recipients=message.recipients,
                    data=data,
                )
            except smtp.MailError as error:
                if error.broken:
                    smtp.close(open_connection)
                    open_connection = None
                record()
                _failed(message, error)
                continue
            except Exception as error:  # a bug or a file gone: this message, not the batch
                record()
                log.exception("message %s could not be sent", message.pk)
                _failed(message, smtp.MailError(f"{type(error).__name__}: {error}",
                                                temporary=False, broken=False))  # fmt: skip
                continue
            if record_every <= 1:
                message_sent(message=message, at=timezone.now(), refused=refused)
            else:
                taken.append((message, refused))
                if len(taken) >= record_every:
                    record()
        record()
    finally:
        smtp.close(open_connection)


def _failed(message: Message, error: smtp.MailError) -> None:
    final = message_attempt_failed(
        message=message,
        reason=error.reason,
        temporary=error.temporary,
        at=timezone.now(),
        uncertain=error.uncertain,
    )
    log.info(
        "message %s not sent (%s): %s",
        message.pk,
        "failed" if final else "will retry",
        error.reason,
    )
