"""What the worker runs to send mailings: take the next recipients of a sending mailing
at its mailbox's pace (their messages made in the same transaction, so nobody gets two),
send them through the ordinary delivery (claimed, one SMTP connection for the batch,
each outcome recorded), read back the outcomes, and go on until the pass's time is up,
the mailbox's minute is used or the mailing is paused or cancelled (checked between
batches, so they stop within one). Only tasks.py and the periodic job call this."""

import time
from datetime import datetime

from django.utils import timezone, translation

from accord.comms import delivery
from accord.comms.models import Mailing, Message, Recipient
from accord.comms.services.mailings import mailing_claim, recipients_sync
from accord.core.company import default_language

BATCH = 100  # recipients taken at a time: a pause waits for at most one batch
PASS_SECONDS = 20.0
# What the server took is recorded this many messages at a time (one transaction): a
# worker killed in between leaves at most these `sending`, failed later as "may have
# gone out", never sent twice.
RECORD_EVERY = 25


def tick(now: datetime) -> int:
    """The periodic job: go on with every sending mailing (after a crash, a throttled
    minute, a lost task), and read back the outcomes of paused ones."""
    sent = 0
    for pk in Mailing.objects.filter(state=Mailing.SENDING).values_list("pk", flat=True):
        sent += send(pk)
    paused = Recipient.objects.filter(
        state=Recipient.SENDING, mailing__state__in=[Mailing.PAUSED, Mailing.CANCELLED]
    ).values_list("mailing_id", flat=True)
    for pk in set(paused):
        recipients_sync(mailing_id=pk, now=now)
    return sent


def send(mailing_id: int, *, limit: int | None = None) -> int:
    """Send the mailing's next recipients for up to PASS_SECONDS (at most `limit`, if
    given: a test stops a worker halfway this way); answers how many it took."""
    began, taken = time.monotonic(), 0
    with translation.override(default_language()):  # the reasons stored, in words
        # Messages made by a worker that stopped before sending them go first.
        left = Message.objects.filter(
            mailing_id=mailing_id, state=Message.QUEUED, due_at__lte=timezone.now()
        )
        while ids := list(left.values_list("pk", flat=True)[:BATCH]):
            sending = Mailing.objects.filter(pk=mailing_id, state=Mailing.SENDING).exists()
            claimed = delivery.claim(timezone.now(), ids) if sending else []
            if not claimed:
                break
            delivery.deliver(claimed, record_every=RECORD_EVERY)
        while (size := BATCH if limit is None else min(BATCH, limit - taken)) > 0:
            ids = mailing_claim(mailing_id=mailing_id, now=timezone.now(), size=size)
            if not ids:
                break
            delivery.deliver(delivery.claim(timezone.now(), ids), record_every=RECORD_EVERY)
            taken += len(ids)
            if time.monotonic() - began >= PASS_SECONDS:
                break
        recipients_sync(mailing_id=mailing_id, now=timezone.now())
    return taken
