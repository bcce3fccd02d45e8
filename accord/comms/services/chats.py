"""Messengers' and SMS deliveries: stored once, and the messages they make (a connection's
settings: messengers.py).

A delivery is stored before anything else happens (`chat_events_store`): a repeat finds
its key taken. The worker then applies each (`chat_events_apply`): a message finds its
client — by the chat it came from, else by the number — or makes one through the contacts
services, for the team's lead rule to hand out; it joins the client's conversation on that
connection (the Inbox's), goes on the client's timeline and emits `chat.received`; a
delivery report marks our message delivered, read or failed. Messages to clients are in
`chat_sending.py`.
"""

import datetime
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import DatabaseError, OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from accord.comms import messengers as adapters
from accord.comms.messengers import ChatSignal
from accord.comms.models import (
    Attachment,
    ChatContact,
    ChatEvent,
    Conversation,
    Message,
    Messenger,
    Unsubscribe,
)
from accord.comms.queries import hook_connection_forget
from accord.comms.services import threads
from accord.comms.services.batches import gathered
from accord.comms.services.call_merging import acting_user
from accord.contacts.models import Company, Person
from accord.contacts.queries import clients_by_phone
from accord.contacts.services import client_contacted, person_create, person_unsubscribe
from accord.core import http
from accord.core.bulk import insert_new, take_ids
from accord.core.events import caused_by, emit
from accord.core.limits import check_record_text
from accord.core.phones import display_phone
from accord.core.secrets import unseal
from accord.core.timeline import timeline_record
from accord.sales.models import Deal

log = logging.getLogger(__name__)

RETRY_AFTER = timedelta(seconds=30)
GIVE_UP_AFTER = 20
CATCH_UP_BATCH = 200
STOP_WORDS = {"stop", "unsubscribe", "стоп", "отписаться", "הסר", "עצור"}


class NotYet(Exception):
    """A delivery report about a message of ours not known yet: left for a later pass."""


# --- Deliveries in -------------------------------------------------------------------------


def chat_events_store(
    *, messenger: Messenger, signals: list[ChatSignal], at: datetime.datetime
) -> list[int]:
    """Store each delivery once (a repeat finds its key taken); the new ones' ids. One
    INSERT … ON CONFLICT DO NOTHING for them all, committed on its own: the provider
    waits on this."""
    rows: dict[str, dict] = {}
    for signal in signals:
        key = signal.key[:300]
        rows.setdefault(key, {"messenger": messenger.pk, "key": key,
                              "payload": signal.as_payload(), "received_at": at,
                              "state": ChatEvent.PENDING, "attempts": 0, "error": ""})  # fmt: skip
    ids = insert_new(ChatEvent, list(rows.values()), unique=["messenger", "key"])
    if messenger.last_event_at is None or at - messenger.last_event_at > timedelta(minutes=1):
        Messenger.objects.filter(pk=messenger.pk).update(last_event_at=at)
        messenger.last_event_at = at
        hook_connection_forget(messenger)  # read it anew
    return ids


QUEUED_FOR_LONG = timedelta(minutes=2)  # a mark older than this is of a lost pass
PASS_SECONDS = 10.0
DRAIN_BATCH = 100


def chat_events_queue(messenger_id: int, now: datetime.datetime) -> bool:
    """Queue the worker's pass over a connection's new deliveries, unless one is waiting
    already (a burst queues one pass, not one each), as telephony does. Called once the
    deliveries are committed. Answers whether a pass was queued."""
    from accord.comms.tasks import drain_chat_events  # the task module imports the services

    waiting = Q(events_queued_at__isnull=True) | Q(events_queued_at__lt=now - QUEUED_FOR_LONG)
    row = Messenger.objects.filter(pk=messenger_id)
    if not row.filter(waiting).exists():
        return False
    try:
        with transaction.atomic():
            if not row.filter(waiting).update(events_queued_at=now):
                return False
            drain_chat_events.enqueue(messenger_id)
    except DatabaseError:
        raise
    except Exception:  # the queue is away: the worker's catch-up applies them
        log.exception("messenger %s: the pass over its deliveries could not be queued",
                      messenger_id)  # fmt: skip
        return False
    return True


def chat_events_drain(messenger_id: int, *, seconds: float = PASS_SECONDS) -> int:
    """The worker's pass: a connection's new deliveries applied in arrival order until
    none is left (a long burst: the next pass queued). Answers how many were applied."""
    Messenger.objects.filter(pk=messenger_id).update(events_queued_at=None)
    began, applied = time.monotonic(), 0
    fresh = ChatEvent.objects.filter(
        messenger_id=messenger_id, state=ChatEvent.PENDING, attempts=0
    ).order_by("received_at", "pk")
    while ids := list(fresh.values_list("pk", flat=True)[:DRAIN_BATCH]):
        applied += chat_events_apply(ids)
        if time.monotonic() - began >= seconds:
            chat_events_queue(messenger_id, timezone.now())
            break
    return applied


def chat_events_apply(ids: list[int]) -> int:
    """Apply these stored deliveries (those still pending), DRAIN_BATCH in a transaction;
    answers how many were applied (the rest stay pending, or fail after many attempts).
    A message's files are fetched from the provider first, outside the transaction."""
    return sum(
        _apply_batch(ids[start : start + DRAIN_BATCH]) for start in range(0, len(ids), DRAIN_BATCH)
    )


def _apply_batch(ids: list[int]) -> int:
    """One transaction for the batch, its timeline entries, events and rollups written
    at its end. Should it fail, each delivery is applied again in a transaction of its
    own, so that only the one that fails stays pending, with its error."""
    events = ChatEvent.objects.filter(pk__in=ids, state=ChatEvent.PENDING)
    readable, connections = [], {}
    for event in events.order_by("received_at", "pk"):
        if event.messenger_id not in connections:  # one object each: read once a batch
            connections[event.messenger_id] = event.messenger
        try:
            signal = ChatSignal.from_payload(event.payload)
            messenger = connections[event.messenger_id]
            files = _fetched(messenger, signal) if signal.kind == adapters.MESSAGE else []
        except Exception as error:
            log.exception("chat event %s could not be read", event.pk)
            _attempt_failed(event.pk, error)
            continue
        readable.append((event, messenger, signal, files))
    try:
        with transaction.atomic(), gathered():
            taken = set(
                events.select_for_update(skip_locked=True).values_list("pk", flat=True)
            )  # another worker skips the rows locked here (SQLite: waits, finds them done)
            ChatEvent.objects.filter(pk__in=taken).update(
                state=ChatEvent.DONE, attempts=F("attempts") + 1, error=""
            )
            known = _Known([(m, signal) for e, m, signal, _f in readable if e.pk in taken])
            applied, received = 0, []
            for event, messenger, signal, files in readable:
                if event.pk not in taken:
                    continue
                try:
                    received.append(_apply(messenger, signal, event.received_at, files, known))
                    applied += 1
                except NotYet as error:  # raised before it writes: kept for the catch-up
                    _attempt_failed(event.pk, error, counted=True)
            known.write()
            # The conversations the messages came to, each moved on once for the batch.
            threads.conversations_messages_received(messages=list(filter(None, received)))
            return applied
    except OperationalError:
        raise  # the database is locked or away: the worker's next pass takes them
    except Exception:
        log.exception("a batch of chat events failed; applying them one by one")
        return sum(_apply_one(*item) for item in readable)


def _apply_one(event: ChatEvent, messenger: Messenger, signal: ChatSignal, files) -> int:
    try:
        with transaction.atomic():
            taken = ChatEvent.objects.filter(pk=event.pk, state=ChatEvent.PENDING).update(
                state=ChatEvent.DONE, attempts=F("attempts") + 1, error=""
            )
            if not taken:
                return 0
            known = _Known([(messenger, signal)])
            message = _apply(messenger, signal, event.received_at, files, known)
            known.write()
            threads.conversations_messages_received(messages=[message] if message else [])
            return 1
    except Exception as error:  # its transaction undone, the try with it: counted here
        if not isinstance(error, NotYet):
            log.exception("chat event %s could not be applied", event.pk)
        _attempt_failed(event.pk, error)
        return 0


def _attempt_failed(pk: int, error: Exception, *, counted: bool = False) -> None:
    """The try that failed counted (unless it is already: `counted`), its error kept;
    pending for the worker's catch-up, or failed after GIVE_UP_AFTER tries."""
    event = ChatEvent.objects.filter(pk=pk).first()
    if event is None:
        return
    attempts = event.attempts + (0 if counted else 1)
    ChatEvent.objects.filter(pk=pk).update(
        attempts=attempts,
        state=ChatEvent.FAILED if attempts >= GIVE_UP_AFTER else ChatEvent.PENDING,
        error=str(error)[:2000] or type(error).__name__,
    )


def chat_events_catch_up(now: datetime.datetime) -> int:
    """The worker's pass: pending deliveries older than RETRY_AFTER, oldest first."""
    ids = list(
        ChatEvent.objects.filter(state=ChatEvent.PENDING, received_at__lte=now - RETRY_AFTER)
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)[:CATCH_UP_BATCH]
    )
    return chat_events_apply(ids)


@dataclass
class _File:
    name: str
    content_type: str
    content: bytes = b""
    problem: str = ""


def _fetched(messenger: Messenger, signal: ChatSignal) -> list[_File]:
    files = []
    token = unseal(messenger.token_sealed) if signal.media else ""
    for item in signal.media[:10]:
        found = _File(name=item["name"][:200], content_type=item["type"][:100])
        try:
            found.content, kind = adapters.fetch_media(messenger, item["ref"], token=token)
            found.content_type = (kind or found.content_type).split(";")[0][:100]
        except (http.Refused, http.Failed) as error:
            found.problem = _("%(name)s could not be fetched: %(reason)s") % {
                "name": found.name, "reason": error}  # fmt: skip
        files.append(found)
    return files


def _apply(
    messenger, signal: ChatSignal, received_at, files: list[_File], known: "_Known"
) -> Message | None:
    """A delivery applied: a status marks our message; a message is stored and answered
    (its conversation is moved on by the caller, once for a batch)."""
    with caused_by({"channel": messenger.channel, "channel_name": messenger.name}):
        if signal.kind == adapters.STATUS:
            _status(messenger, signal, received_at)
            return None
        return _received(messenger, signal, received_at, files, known)


def _status(messenger: Messenger, signal: ChatSignal, received_at) -> None:
    message = (
        Message.objects.filter(messenger=messenger, provider_id=signal.provider_id)
        .select_related("person", "company", "deal")
        .first()
    )
    if message is None:
        if received_at < timezone.now() - timedelta(hours=1):
            return  # a report about a message Accord never sent: nothing to mark
        raise NotYet(_("The message this report is about is not known yet."))
    at = _moment(signal.at) or received_at
    if signal.status == adapters.FAILED:
        Message.objects.filter(pk=message.pk).update(
            state=Message.FAILED, failed_at=at, error=signal.error or _("Not delivered.")
        )
        emit("message.failed", message_id=message.pk, person_id=message.person_id,
             company_id=message.company_id, deal_id=message.deal_id,
             reason=signal.error)  # fmt: skip
    elif signal.status in (adapters.DELIVERED, adapters.READ):
        state = Message.READ if signal.status == adapters.READ else Message.DELIVERED
        keep = [Message.READ] if state == Message.DELIVERED else []  # read stays read
        Message.objects.filter(pk=message.pk).exclude(state__in=keep).update(
            state=state, delivered_at=message.delivered_at or at
        )


def _received(
    messenger: Messenger, signal: ChatSignal, received_at, files, known: "_Known"
) -> Message:
    at = min(_moment(signal.at) or received_at, received_at)
    contact, new_client = _contact(messenger, signal, known)
    conversation = known.conversations.get((messenger.pk, signal.address[:100]))
    deal = known.open_deal(contact.person_id, contact.company_id)
    if conversation is None:
        conversation = known.conversations[(messenger.pk, signal.address[:100])] = known.made(
            Conversation(
                channel=messenger.channel,
                messenger=messenger,
                address=signal.address,
                subject=_who(contact, signal)[:300],
                person_id=contact.person_id,
                company_id=contact.company_id,
                deal=deal,
                started_at=at,
                last_message_at=at,
            )
        )
    elif conversation.person_id is None and contact.person_id:  # matched since
        if not known.unwritten(conversation):
            Conversation.objects.filter(pk=conversation.pk).update(person_id=contact.person_id)
        conversation.person_id = contact.person_id
    problems = "\n".join(f.problem for f in files if f.problem)
    message = known.made(Message(
        direction=Message.IN,
        state=Message.RECEIVED,
        message_id=f"chat:{messenger.pk}:{signal.key}",
        conversation=conversation,
        messenger=messenger,
        provider_id=signal.provider_id[:200],
        person_id=contact.person_id,
        company_id=contact.company_id,
        deal_id=conversation.deal_id,
        from_name=signal.name[:100],
        from_address=signal.address[:254],
        to=[messenger.sender or messenger.name],
        subject="",
        text=signal.text,
        problems=problems,
        created_at=at,
    ))  # fmt: skip
    if any(found.content for found in files):
        known.write()  # the attachments' message
    for found in files:
        if found.content:
            kept = Attachment(message=message, name=found.name, content_type=found.content_type,
                              size=len(found.content))  # fmt: skip
            kept.file.save(found.name, ContentFile(found.content), save=False)
            kept.save()
    summary = {
        "message_id": message.pk,
        "direction": Message.IN,
        "channel": messenger.channel,
        "text": signal.text[:300],
        "from": signal.address,
        "from_name": signal.name,
        "attachments": sum(1 for f in files if f.content),
    }
    for record in (contact.person, contact.company, deal):
        if record is not None:
            timeline_record(subject=record, kind="chat", data=summary, occurred_at=at)
    for record in (contact.person, contact.company):
        if record is not None:
            client_contacted(record=record, at=at)
    stopped = messenger.is_sms and signal.text.strip().strip(".!").lower() in STOP_WORDS
    if stopped:
        _stop(messenger, contact, signal, at)
    emit(
        "chat.received",
        message_id=message.pk,
        conversation_id=conversation.pk,
        messenger_id=messenger.pk,
        channel=messenger.channel,
        person_id=contact.person_id,
        company_id=contact.company_id,
        deal_id=conversation.deal_id,
        unknown_sender=new_client,
        words_in=signal.text[:1000],
    )
    return message


def _contact(messenger: Messenger, signal: ChatSignal, known: "_Known") -> tuple[ChatContact, bool]:
    """Who wrote: the client this chat or number was matched to before, else the client
    with the number, else a new person (the team's lead rule picks the owner)."""
    key = (messenger.pk, signal.address[:100])
    contact = known.contacts.get(key)
    if contact is not None and (contact.person_id or contact.company_id):
        if signal.name and contact.name != signal.name[:200]:
            ChatContact.objects.filter(pk=contact.pk).update(name=signal.name[:200])
            contact.name = signal.name[:200]
        return contact, False
    found = known.clients.get(signal.phone) if signal.phone else None
    person = known.people.get(found[1]) if found and found[0] == "person" else None
    company = known.companies.get(found[1]) if found and found[0] == "company" else None
    new_client = person is None and company is None
    if new_client:
        person = _new_client(messenger, signal)
        if person is not None and signal.phone:  # another message from the number finds them
            known.clients[signal.phone] = ("person", person.pk)
            known.people[person.pk] = person
    if contact is None:  # one made meanwhile elsewhere: the batch is applied again
        contact = known.contacts[key] = known.made(ChatContact(
            messenger=messenger, address=key[1], name=signal.name[:200],
            person=person, company=company,
        ))  # fmt: skip
    elif known.unwritten(contact):
        contact.name, contact.person, contact.company = signal.name[:200], person, company
    else:
        contact.name, contact.person, contact.company = signal.name[:200], person, company
        contact.save(update_fields=["name", "person", "company"])
    return contact, new_client


class _Known:
    """What a batch of deliveries reads once rather than per message: its senders' chat
    contacts and conversations, the clients with their numbers (a person before a
    company), those people and companies and their newest open deals. Kept up to date
    as the batch makes contacts, conversations and people."""

    def __init__(self, items: list[tuple[Messenger, ChatSignal]]):
        messages = [(m, s) for m, s in items if s.kind == adapters.MESSAGE]
        # The batch's new chat contacts, conversations and messages, written together
        # (`write`) with ids taken for them at once: a message's id is in its event and
        # its timeline entry before its row is written.
        self.new: dict[type, list] = {ChatContact: [], Conversation: [], Message: []}
        self.ids: dict[type, list[int]] = {model: [] for model in self.new}
        self.expected = {model: len(messages) for model in self.new}
        addresses: dict[int, set[str]] = {}
        for messenger, signal in messages:
            addresses.setdefault(messenger.pk, set()).add(signal.address[:100])
        self.contacts: dict[tuple[int, str], ChatContact] = {}
        self.conversations: dict[tuple[int, str], Conversation] = {}
        for messenger_id, among in addresses.items():
            for contact in ChatContact.objects.filter(messenger_id=messenger_id, address__in=among):
                self.contacts[(messenger_id, contact.address)] = contact
            conversations = Conversation.objects.filter(
                messenger_id=messenger_id, address__in=among
            ).order_by("last_message_at", "pk")  # the latest of an address's last
            for conversation in conversations:
                self.conversations[(messenger_id, conversation.address)] = conversation
        keys = {(messenger.pk, signal.address[:100]) for messenger, signal in messages}
        self.expected[ChatContact] = len(keys - self.contacts.keys())
        self.expected[Conversation] = len(keys - self.conversations.keys())
        matched = (
            {c.person_id for c in self.contacts.values()},
            {c.company_id for c in self.contacts.values()},
        )
        numbers = {s.phone for _m, s in messages if s.phone}
        self.clients: dict[str, tuple[str, int]] = {}
        for number, kind, pk, _company in clients_by_phone(list(numbers)):
            if number not in self.clients or self.clients[number][0] != "person" == kind:
                self.clients[number] = (kind, pk)
        people = matched[0] | {pk for kind, pk in self.clients.values() if kind == "person"}
        companies = matched[1] | {pk for kind, pk in self.clients.values() if kind == "company"}
        self.people = Person.objects.in_bulk(people - {None})
        self.companies = Company.objects.in_bulk(companies - {None})
        for contact in self.contacts.values():  # the contact's client: the object read here
            contact.person = self.people.get(contact.person_id)
            contact.company = self.companies.get(contact.company_id)
        self.deals: dict[tuple[str, int], Deal] = {}
        open_deals = Deal.objects.filter(status=Deal.OPEN).order_by("updated_at", "pk")
        for deal in open_deals.filter(person_id__in=self.people):
            self.deals[("person", deal.person_id)] = deal  # the newest last
        for deal in open_deals.filter(company_id__in=self.companies):
            self.deals[("company", deal.company_id)] = deal

    def made(self, record):
        """A new row of the batch, given its id now and written with the others."""
        model = type(record)
        if not self.ids[model]:
            self.ids[model] = take_ids(model, max(1, self.expected[model]))
        record.pk = self.ids[model].pop(0)
        self.expected[model] -= 1
        self.new[model].append(record)
        return record

    def unwritten(self, record) -> bool:
        return any(record is new for new in self.new[type(record)])

    def write(self) -> None:
        """The batch's new rows, a statement for each kind (their ids given), in the
        order they refer to each other."""
        contacts, conversations = self.new[ChatContact], self.new[Conversation]
        messages = self.new[Message]
        for record in (*contacts, *conversations, *messages):
            check_record_text(type(record), record)  # what each save's pre_save hook checks
        if contacts:
            ChatContact.objects.bulk_create(contacts)
        if conversations:
            Conversation.objects.bulk_create(conversations)
        if messages:
            Message.objects.bulk_create(messages)
        for records in self.new.values():
            records.clear()

    def open_deal(self, person_id, company_id) -> Deal | None:
        """The client's newest open deal (a person's, else their company's as a client)."""
        if person_id:
            return self.deals.get(("person", person_id))
        if company_id:
            return self.deals.get(("company", company_id))
        return None


def _new_client(messenger: Messenger, signal: ChatSignal) -> Person | None:
    person = _new_person(messenger, signal)
    if person is not None:  # marketing counts them under the bot's channel
        emit("lead.arrived", person_id=person.pk, via="chat", messenger_id=messenger.pk,
             provider=messenger.provider, at=signal.at)  # fmt: skip
    return person


def _new_person(messenger: Messenger, signal: ChatSignal) -> Person | None:
    actor = acting_user(messenger)
    if actor is None:
        return None
    first, _space, last = (signal.name or "").partition(" ")
    if not first:
        first = display_phone(signal.phone) if signal.phone else signal.address
    data = {
        "first_name": first[:100],
        "last_name": last[:100],
        "phones": [signal.phone] if signal.phone else [],
        "source": messenger.get_provider_display() if not messenger.is_sms else "SMS",
        "kind": "lead",
    }
    if messenger.lead_team is not None:
        data["assign_team"] = messenger.lead_team
    try:  # person_create undoes its own writes (a savepoint) when it refuses
        return person_create(actor=actor, data=data)
    except ValidationError as error:
        # The team's rule or the number refused: the client is still made, as the
        # admin's, and found again by their chat (the number stays the chat's address).
        log.warning("messenger %s: a new client made without %s", messenger.pk,
                    sorted(error.message_dict))  # fmt: skip
        data.pop("assign_team", None)
        if "phones" in error.message_dict:
            data["phones"] = []
        return person_create(actor=actor, data=data)


def _who(contact: ChatContact, signal: ChatSignal) -> str:
    """A conversation's title: the client, else their name on the messenger, else their
    number (the Inbox shows the channel beside it)."""
    client = contact.person or contact.company
    if client is not None:
        return str(client)
    if contact.name:
        return contact.name
    return display_phone(signal.phone) if signal.phone else signal.address


def _stop(messenger: Messenger, contact: ChatContact, signal: ChatSignal, at) -> None:
    """A STOP reply to an SMS: no more offers and news by SMS to this number, and the
    person's consent withdrawn through the contacts services (their timeline says so)."""
    number = (signal.phone or signal.address)[:254]
    if not Unsubscribe.objects.filter(address=number).exists():
        Unsubscribe.objects.create(address=number, person=contact.person, source="SMS STOP",
                                   at=at)  # fmt: skip
    if contact.person_id:
        person_unsubscribe(person_id=contact.person_id, source="SMS STOP", at=at)


def _moment(text: str) -> datetime.datetime | None:
    if not text:
        return None
    try:
        return parse_datetime(text)
    except ValueError:
        return None
