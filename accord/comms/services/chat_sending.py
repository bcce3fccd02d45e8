"""Messages written to clients on a messenger or by SMS: the 24-hour window, a message
queued as a row first, sent by the worker through the provider (`chat_deliver`), retried
with back-off; a crash never sends it twice. The connections are in `messengers.py`, what
arrives in `chats.py`."""

import datetime
import logging
import uuid
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.comms import messengers as adapters
from accord.comms.messengers import Outgoing
from accord.comms.models import (
    ChatContact,
    Conversation,
    Message,
    Messenger,
)
from accord.comms.services import threads
from accord.comms.services.messages import (
    may_write_to,
    message_attempt_failed,
    message_queue_once,
    message_sent,
)
from accord.comms.services.messengers import hook_url, messenger_problem
from accord.contacts.models import Company, Person
from accord.core import http
from accord.core.secrets import unseal
from accord.core.timeline import timeline_record
from accord.sales.models import Deal

log = logging.getLogger(__name__)

WHATSAPP_WINDOW = timedelta(hours=24)  # after the client's last message: free text allowed
MAX_TEXT = 4096


def window_open(conversation: Conversation, now: datetime.datetime | None = None) -> bool:
    """Whether free text may go to the client: always, except on WhatsApp more than 24
    hours after the client's last message (then only an approved template)."""
    if conversation.channel != Conversation.WHATSAPP:
        return True
    last = conversation.last_incoming_at
    return last is not None and (now or timezone.now()) - last < WHATSAPP_WINDOW


@transaction.atomic
def chat_send(
    *,
    actor: User | None,
    conversation: Conversation,
    text: str = "",
    template: str = "",
    idempotency_key: str | None = None,
    rule_name: str = "",
    now: datetime.datetime | None = None,
) -> Message:
    """Queue a message to the client of a messenger's or an SMS conversation; the worker
    sends it. `template`: a WhatsApp template's name, for outside its 24-hour window.
    `now`: the moment it is written (the demo's history; else now)."""
    if not rule_name and not threads.may_answer(actor, conversation):
        raise PermissionDenied(_("You cannot write in this conversation."))
    if idempotency_key:
        earlier = Message.objects.filter(idempotency_key=idempotency_key).first()
        if earlier is not None:
            return earlier
    messenger = conversation.messenger
    errors: dict[str, list[str]] = {}
    text = str(text or "").replace("\x00", "").strip()
    if messenger is None or not messenger.active:
        errors["text"] = [_("The connection this conversation ran on is gone or switched off.")]
    chosen = None
    if template and messenger is not None:
        chosen = next((t for t in messenger.templates if t["name"] == template), None)
        if chosen is None:
            errors["template"] = [_("Choose one of the connection's templates.")]
    elif not text:
        errors["text"] = [_("Write the message.")]
    elif len(text) > MAX_TEXT:
        errors["text"] = [_("At most %(limit)s characters.") % {"limit": MAX_TEXT}]
    elif not window_open(conversation, now):
        errors["text"] = [_(
            "More than 24 hours have passed since the client's last message: WhatsApp lets "
            "you send only an approved template now.")]  # fmt: skip
    if errors:
        raise ValidationError(errors)
    now = now or timezone.now()
    if chosen is not None:
        text = _("Template: %(name)s (%(language)s)") % chosen
    message, made = message_queue_once(
        direction=Message.OUT,
        state=Message.QUEUED,
        message_id=f"chat:{messenger.pk}:out:{uuid.uuid4().hex}",
        idempotency_key=idempotency_key or None,
        conversation=conversation,
        messenger=messenger,
        person_id=conversation.person_id,
        company_id=conversation.company_id,
        deal_id=conversation.deal_id,
        author=actor if actor is not None and actor.pk else None,
        rule_name=rule_name,
        from_name=actor.display_name if actor is not None and actor.pk else "",
        from_address=messenger.sender or messenger.name,
        to=[conversation.address],
        subject=chosen["name"] if chosen else "",
        references=chosen["language"] if chosen else "",
        text=text,
        created_at=now,
        due_at=now,
    )
    if not made:  # the same key, a moment before, in another request
        return message
    threads.joined(conversation, message, reader=actor)
    summary = {"message_id": message.pk, "direction": Message.OUT,
               "channel": conversation.channel, "text": text[:300],
               "to": conversation.address}  # fmt: skip
    for record in (conversation.person, conversation.company, conversation.deal):
        if record is not None:
            timeline_record(subject=record, kind="chat", actor=actor, data=summary, occurred_at=now)
    transaction.on_commit(lambda: _queue(message.pk), robust=True)
    return message


def chat_addresses(messenger: Messenger, client) -> list[str]:
    """Where a client can be written to on a connection: their valid numbers for SMS and
    WhatsApp; for Telegram the chats they wrote from (a bot cannot write first)."""
    if messenger.provider == Messenger.TELEGRAM:
        field = "person" if isinstance(client, Person) else "company"
        found = ChatContact.objects.filter(messenger=messenger, **{field: client})
        return list(found.order_by("pk").values_list("address", flat=True))
    return [p.value for p in client.contact_points.all()
            if p.kind == "phone" and not p.not_valid]  # fmt: skip


@transaction.atomic
def chat_start(
    *,
    actor: User,
    messenger: Messenger,
    address: str,
    text: str = "",
    template: str = "",
    person: Person | None = None,
    company: Company | None = None,
    deal: Deal | None = None,
    idempotency_key: str | None = None,
    rule_name: str = "",
) -> Message:
    """Write to a client by SMS or a messenger from their card or a deal: the conversation
    on that connection with that number or chat goes on (or begins), and the message is
    queued in it (`chat_send`). `rule_name`: an automation rule writes it (its author
    need not see the client)."""
    if deal is not None and person is None and company is None:
        person, company = deal.person, deal.company
    client = person or company
    if client is None:
        raise ValidationError({"person": [_("Choose the client or deal this is about.")]})
    if not rule_name and not may_write_to(actor, [person, company, deal]):
        raise PermissionDenied(_("You cannot write to this client."))
    if idempotency_key:
        earlier = Message.objects.filter(idempotency_key=idempotency_key).first()
        if earlier is not None:
            return earlier
    if not messenger.active:
        raise ValidationError({"messenger": [_("The connection is gone or switched off.")]})
    if address not in chat_addresses(messenger, client):
        if messenger.provider == Messenger.TELEGRAM:
            problem = _("The client has not written to this bot yet: a bot cannot write first.")
        else:
            problem = _("Choose one of the client's numbers.")
        raise ValidationError({"address": [problem]})
    # This client's conversation with that number (two clients may share one: a family).
    whose = {"person": person} if person is not None else {"company": company}
    conversation = (
        Conversation.objects.select_for_update()
        .filter(messenger=messenger, address=address, **whose)
        .order_by("-last_message_at", "-pk")
        .first()
    )
    if conversation is None:
        now = timezone.now()
        conversation = Conversation.objects.create(
            channel=messenger.channel, messenger=messenger, address=address,
            subject=f"{messenger.get_provider_display()} · {client}"[:300],
            person=person, company=company if person is None else person.company,
            deal=deal or _open_deal(person and person.pk, company and company.pk),
            started_at=now, last_message_at=now,
            assignee=threads.default_assignee(person, company, deal, actor),
        )  # fmt: skip
    return chat_send(
        actor=actor,
        conversation=conversation,
        text=text,
        template=template,
        idempotency_key=idempotency_key,
        rule_name=rule_name,
    )


def chat_queue_marketing(
    *, messenger: Messenger, person: Person, address: str, text: str, author: User | None,
    mailing, idempotency_key: str, at: datetime.datetime,
) -> Message:  # fmt: skip
    """One SMS of a mailing, queued in the person's conversation on the connection (begun
    if need be) and on their timeline; the mailing's worker sends it (no task of its own).
    The same key again answers the first message."""
    earlier = Message.objects.filter(idempotency_key=idempotency_key).first()
    if earlier is not None:
        return earlier
    conversation = (
        Conversation.objects.filter(messenger=messenger, address=address, person=person)
        .order_by("-last_message_at", "-pk")
        .first()
    )
    if conversation is None:
        conversation = Conversation.objects.create(
            channel=messenger.channel, messenger=messenger, address=address,
            subject=str(person)[:300], person=person, company_id=person.company_id,
            started_at=at, last_message_at=at,
            assignee=threads.default_assignee(person, None, None, author),
        )  # fmt: skip
    message = Message.objects.create(
        direction=Message.OUT, state=Message.QUEUED,
        message_id=f"chat:{messenger.pk}:out:{uuid.uuid4().hex}",
        idempotency_key=idempotency_key, conversation=conversation, messenger=messenger,
        person=person, company_id=person.company_id, author=author, marketing=True,
        mailing=mailing, from_name=author.display_name if author else "",
        from_address=messenger.sender or messenger.name, to=[address], subject="",
        text=text, created_at=at, due_at=at,
    )  # fmt: skip
    threads.joined(conversation, message)
    timeline_record(subject=person, kind="chat", actor=author, occurred_at=at, data={
        "message_id": message.pk, "direction": Message.OUT, "channel": messenger.channel,
        "text": text[:300], "to": address, "mailing": mailing.name,
    })  # fmt: skip
    return message


def _queue(message_id: int) -> None:
    from accord.comms.tasks import send_message  # the task module imports the services

    send_message.enqueue(message_id)


def chat_deliver(message: Message) -> None:
    """Send one claimed messenger or SMS message through its provider (the worker's
    step, delivery.py), and record what came of it."""
    messenger = message.messenger
    now = timezone.now()
    if messenger is None or not messenger.active:
        message_attempt_failed(message=message, at=now, temporary=False,
                               reason=_("The connection is gone or switched off."))  # fmt: skip
        return
    template = None
    if message.subject and message.references:  # a WhatsApp template's name and language
        template = {"name": message.subject, "language": message.references}
    out = Outgoing(
        address=message.to[0] if message.to else "",
        text=message.text,
        template=template,
        status_url=hook_url(messenger) if messenger.provider == Messenger.TWILIO_SMS else "",
    )
    try:
        provider_id = adapters.send(messenger, out, token=unseal(messenger.token_sealed))
    except (http.Refused, http.Failed) as error:
        reason = f"{error} {getattr(error, 'body', '')}".strip()[:2000]
        # Sent perhaps (no answer came): never again by itself — a person checks (at most
        # once, as e-mail); else a failure before it went out is retried with back-off.
        uncertain = getattr(error, "maybe_sent", False)
        temporary = isinstance(error, http.Failed) and error.retry and not uncertain
        if not temporary:
            messenger_problem(messenger=messenger, reason=reason, at=now)
        message_attempt_failed(message=message, reason=reason, temporary=temporary, at=now,
                               uncertain=uncertain)  # fmt: skip
        return
    chat_sent(message=message, provider_id=provider_id, at=timezone.now())


@transaction.atomic
def chat_sent(*, message: Message, provider_id: str, at: datetime.datetime) -> None:
    """The provider took the message and named it `provider_id` (its delivery reports name
    it so). The worker's step after a send; the demo's too, for its history (no network)."""
    Message.objects.filter(pk=message.pk).update(provider_id=provider_id[:200])
    message_sent(message=message, at=at)


def _open_deal(person_id, company_id) -> Deal | None:
    deals = Deal.objects.filter(status=Deal.OPEN)
    if person_id:
        deals = deals.filter(person_id=person_id)
    elif company_id:
        deals = deals.filter(company_id=company_id)
    else:
        return None
    return deals.order_by("-updated_at", "-pk").first()
