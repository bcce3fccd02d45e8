"""Background tasks of e-mail and calls (django.tasks: the database queue, or RQ)."""

import time

from django.tasks import task

from accord.comms import delivery, fetching, mailings
from accord.comms.models import Mailbox, Mailing
from accord.comms.services.calls import call_events_drain
from accord.comms.services.chats import chat_events_drain


@task
def send_message(message_id: int) -> int:
    """Send one queued message now (the click that queued it returned at once); see
    accord.comms.delivery. Answers how many it tried (0: another worker had it)."""
    return delivery.deliver_due(ids=[message_id])


@task
def send_mailing(mailing_id: int) -> int:
    """Go on with a started or resumed mailing; see accord.comms.mailings. A pass that
    ran out of time (not of recipients, nor of the mailbox's minute) queues the next one
    at once, so a big mailing does not wait for the periodic job between passes."""
    began = time.monotonic()
    taken = mailings.send(mailing_id)
    out_of_time = time.monotonic() - began >= mailings.PASS_SECONDS
    if (
        taken
        and out_of_time
        and Mailing.objects.filter(pk=mailing_id, state=Mailing.SENDING).exists()
    ):
        send_mailing.enqueue(mailing_id)
    return taken


@task
def fetch_mailbox(mailbox_id: int) -> int:
    """Fetch one mailbox's new mail now ("Fetch now" on its page); see
    accord.comms.fetching. Answers how many new messages came in."""
    mailbox = Mailbox.objects.filter(pk=mailbox_id, active=True).first()
    return fetching.fetch(mailbox) if mailbox is not None else 0


@task
def drain_chat_events(messenger_id: int) -> int:
    """Turn the messages and delivery reports a messenger or an SMS gateway delivered
    (stored by its webhook; one pass queued for a burst) into messages; see
    accord.comms.services.chats. Answers how many were applied."""
    return chat_events_drain(messenger_id)


@task
def apply_call_events(telephony_id: int) -> int:
    """Apply a connection's events the webhook stored (one pass queued for a burst of
    them); see accord.comms.services.calls. Answers how many were applied."""
    return call_events_drain(telephony_id)
