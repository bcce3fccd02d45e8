"""Every write of received mail: a message fetched from a mailbox is stored once (keyed by
its Message-ID, a copy row per mailbox and UID), matched to the clients it names, threaded
into a conversation and put on their timelines; our own mail, automatic replies and
delivery reports are kept but are not client mail (a report marks our message and the
address as bouncing). And what the fetching worker saw of a mailbox: its progress, a
failure (retried with back-off, told to its owner once) and its recovery."""

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.comms import reading
from accord.comms.models import (
    Attachment,
    BouncingAddress,
    Conversation,
    Mailbox,
    Message,
    MessageCopy,
    Recipient,
)
from accord.comms.services.threads import (
    conversation_message_received,
    conversations_messages_received,
    joined,
)
from accord.contacts.models import Company, Person
from accord.contacts.queries import clients_by_email
from accord.contacts.services import clients_contacted
from accord.core.events import emit, emit_many
from accord.core.models import TimelineEvent
from accord.work.models import Notification
from accord.work.services import notify

log = logging.getLogger(__name__)
# "Re:", "Fwd:" and their kin in the languages Accord's users write in, repeated or
# numbered ("Re[2]:"), taken off a subject to find its thread.
REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|fw|fwd|aw|wg|sv|vs|antw|tr|rv|ref|отв|ответ|пересл|переслано|תשובה|השב|"
    r"הועבר|פורוורד|պատ|պատասխան)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*)+",
    re.IGNORECASE,
)
THREAD_WINDOW = timedelta(days=60)  # a reply by subject joins a thread this recent
PROBLEMS_KEPT = 20  # the mailbox page shows its last problems
# Waits before fetching again after a failure: 1, 2, 5, 15, 30 minutes, then every hour.
BACKOFF = [timedelta(minutes=m) for m in (1, 2, 5, 15, 30, 60)]


@dataclass
class Received:
    message: Message | None  # None: sent mail to nobody Accord knows, not kept
    new: bool


def subject_key(subject: str) -> str:
    """The subject without its reply and forward prefixes, in lower case."""
    return " ".join(REPLY_PREFIX.sub("", subject or "").split()).casefold()


def own_addresses() -> set[str]:
    """The addresses of every mailbox: mail from them is ours, not a client's."""
    return {address.lower() for address in Mailbox.objects.values_list("address", flat=True)}


@dataclass
class Fetched:
    """A message as the fetcher took it: its bytes (only the headers when it weighs
    `too_large` bytes, over the limit) and where it lies in the mailbox: the folder, and
    whether that is where the user's mail program keeps what it sends (`sent`)."""

    raw: bytes
    uidvalidity: int | None = None
    uid: int | None = None
    too_large: int = 0
    folder: str = "INBOX"
    sent: bool = False


def message_receive(
    *,
    mailbox: Mailbox | None,
    raw: bytes,
    uidvalidity: int | None = None,
    uid: int | None = None,
    too_large: int = 0,
    ours: set[str] | None = None,
    now: datetime | None = None,
) -> Received:
    """Store a fetched message once: a second fetch, or the same message in another
    mailbox, only adds its copy row. Never raises on what the message holds (reading.py
    keeps what it can and says what it could not)."""
    fetched = Fetched(raw, uidvalidity, uid, too_large)
    return messages_receive(mailbox=mailbox, fetched=[fetched], ours=ours, now=now)[0]


def messages_receive(
    *,
    mailbox: Mailbox | None,
    fetched: list[Fetched],
    ours: set[str] | None = None,
    now: datetime | None = None,
) -> list[Received]:
    """`message_receive` for a batch of a mailbox's messages, in one transaction: the
    lookups (earlier copies, clients, threads) and the writes (messages, copies, timeline
    entries, events) a statement each for the batch, not per message. Should another
    worker store one of them meanwhile, the batch is done again a message at a time."""
    now = now or timezone.now()
    ours = own_addresses() if ours is None else ours
    reads = [reading.read(item.raw, too_large=item.too_large) for item in fetched]
    try:
        with transaction.atomic():
            return _receive(mailbox, fetched, reads, ours, now)
    except IntegrityError:
        if len(fetched) == 1:  # the same message, a moment before, by another worker
            earlier = Message.objects.get(message_id=reads[0].message_id)
            _copies(mailbox, [(earlier, fetched[0])])
            return [Received(earlier, False)]
        return [
            messages_receive(mailbox=mailbox, fetched=[item], ours=ours, now=now)[0]
            for item in fetched
        ]


@dataclass
class _New:
    found: reading.Read
    message: Message
    clients: list
    people: list[int]
    companies: list[int]


def _receive(mailbox, fetched: list[Fetched], reads: list, ours: set[str], now) -> list:
    earlier = Message.objects.in_bulk(
        {found.message_id for found in reads}, field_name="message_id"
    )
    addresses = {a for found in reads for a in found.addresses if a not in ours}
    by_address: dict[str, list] = {}
    for client in clients_by_email(list(addresses)):
        by_address.setdefault(client[0], []).append(client)
    threads = _Threads(reads, by_address, now)
    results: list[Received] = []
    new: list[_New] = []
    for found, item in zip(reads, fetched, strict=True):
        known = earlier.get(found.message_id)
        if known is not None:
            results.append(Received(known, False))
            continue
        kind = Message.CLIENT if item.sent else _kind(found, ours)
        written = found.date if found.date and found.date <= now else now
        clients = []
        if kind == Message.CLIENT:
            named = found.recipients if item.sent else found.addresses  # sent: to whom
            clients = [c for a in named if a not in ours for c in by_address.get(a, [])]
        people = _ordered([cid for _a, what, cid, _c in clients if what == "person"],
                          first=[cid for a, what, cid, _c in clients
                                 if what == "person" and a == found.from_address])  # fmt: skip
        companies = _ordered(
            [cid for _a, what, cid, _c in clients if what == "company"]
            + [company for _a, what, _i, company in clients if what == "person" and company]
        )
        conversation = threads.of(found, clients, written) if kind == Message.CLIENT else None
        person_id = people[0] if people else None
        company_id = companies[0] if companies else None
        if conversation is not None and not person_id and not company_id:
            person_id, company_id = conversation.person_id, conversation.company_id
        if item.sent and conversation is None:
            # What a user wrote to someone who is not a client (a friend, a supplier not in
            # Accord) is theirs: a CRM keeps the mail of its clients only.
            results.append(Received(None, False))
            continue
        message = Message(
            direction=Message.IN, state=Message.RECEIVED, kind=kind,
            message_id=found.message_id, conversation=conversation, mailbox=mailbox,
            person_id=person_id, company_id=company_id,
            deal_id=conversation.deal_id if conversation else None,
            from_name=found.from_name, from_address=found.from_address[:254],
            to=found.to, cc=found.cc, subject=found.subject, html=found.html,
            text=found.text, in_reply_to=found.in_reply_to,
            references=" ".join(found.references), problems="\n".join(found.problems),
            size=found.size, created_at=written, sent_at=written,
        )  # fmt: skip
        if item.sent:  # written in the user's mail program: outgoing, gone
            message.direction, message.state = Message.OUT, Message.SENT
            message.author_id = mailbox.owner_id if mailbox else None
        earlier[found.message_id] = message  # the same message twice in one batch: once
        new.append(_New(found, message, clients, people, companies))
        results.append(Received(message, True))
    threads.save()
    for item in new:
        item.message.conversation = item.message.conversation  # its id, now it is saved
    Message.objects.bulk_create([item.message for item in new])
    for item in new:
        _attachments(item.message, item.found)
    _copies(mailbox, [(r.message, f) for r, f in zip(results, fetched, strict=True)])
    for item in new:
        if item.message.kind == Message.BOUNCE:
            _bounced(item.found, item.message, now)
    mail = [item for item in new if item.message.kind == Message.CLIENT]
    # Their counts, "waiting for an answer", the last message, the Inbox's assignee (the
    # incoming ones a batch at once; what the user sent from their mail program after).
    conversations_messages_received(messages=[item.message for item in mail])
    _sent_joined([item.message for item in mail if item.message.direction == Message.OUT])
    _on_timelines_many(mail)
    mail = [item for item in mail if item.message.direction == Message.IN]
    emit_many("message.received", [
        {"message_id": item.message.pk, "person_ids": item.people,
         "company_id": item.message.company_id, "deal_id": item.message.deal_id,
         "mailbox_id": mailbox.pk if mailbox else None,
         "unknown_sender": not any(c[0] == item.found.from_address for c in item.clients)}
        for item in mail
    ])  # fmt: skip
    return results


class _Threads:
    """The conversations a batch's messages join: the one of a message they answer
    (In-Reply-To, then References — stored earlier or in this batch), else a recent one
    with the same client on the same subject, else a new one."""

    def __init__(self, reads: list, by_address: dict, now) -> None:
        answered = {mid for found in reads for mid in [found.in_reply_to, *found.references] if mid}
        self.by_id: dict[str, Conversation] = {}
        rows = (
            Message.objects.filter(message_id__in=answered)
            .exclude(conversation=None)
            .select_related("conversation")
            .order_by("created_at")
        )
        for row in rows:
            self.by_id[row.message_id] = row.conversation
        people = {c[2] for found in by_address.values() for c in found if c[1] == "person"}
        companies = {c[2] for found in by_address.values() for c in found if c[1] == "company"}
        recent = Conversation.objects.filter(last_message_at__gte=now - THREAD_WINDOW * 2)
        self.by_subject: dict[tuple, Conversation] = {}
        newest_first = recent.filter(
            Q(person_id__in=people) | Q(company_id__in=companies)
        ).order_by("-last_message_at")[:20_000]
        for conversation in reversed(list(newest_first)):  # the newest of a subject wins
            self._remember(conversation)
        self.made: list[Conversation] = []
        self.latest: dict[int, datetime] = {}

    def _remember(self, conversation: Conversation) -> None:
        key = subject_key(conversation.subject)
        if conversation.person_id:
            self.by_subject[("person", conversation.person_id, key)] = conversation
        if conversation.company_id:
            self.by_subject[("company", conversation.company_id, key)] = conversation

    def of(self, found: reading.Read, clients: list, written: datetime) -> Conversation | None:
        for mid in [found.in_reply_to, *reversed(found.references)]:
            if mid and mid in self.by_id:
                return self._joined(found, self.by_id[mid])
        if not clients:
            return None
        key = subject_key(found.subject)
        if key:
            for _a, what, cid, _c in clients:
                conversation = self.by_subject.get((what, cid, key))
                if conversation and conversation.last_message_at >= written - THREAD_WINDOW:
                    return self._joined(found, conversation)
        people = [cid for _a, what, cid, _c in clients if what == "person"]
        companies = [cid for _a, what, cid, _c in clients if what == "company"]
        company_id = companies[0] if companies else next((c for *_r, c in clients if c), None)
        conversation = Conversation(
            subject=found.subject, person_id=people[0] if people else None,
            company_id=company_id, started_at=written, last_message_at=written,
        )  # fmt: skip
        self.made.append(conversation)
        self._remember(conversation)
        return self._joined(found, conversation)

    def _joined(self, found: reading.Read, conversation: Conversation) -> Conversation:
        self.by_id[found.message_id] = conversation  # a later message of the batch answers it
        return conversation

    def save(self) -> None:
        Conversation.objects.bulk_create(self.made)


@transaction.atomic
def message_attach_client(*, message: Message, person: Person) -> Message:
    """An unmatched message given to a client (a rule made one from its sender): it joins
    the client's conversations and timeline."""
    updated = Message.objects.filter(pk=message.pk, person=None).update(
        person=person, company_id=person.company_id
    )
    if not updated:
        return message
    conversation = Conversation.objects.create(
        subject=message.subject, person=person, company_id=person.company_id,
        started_at=message.created_at, last_message_at=message.created_at,
    )  # fmt: skip
    Message.objects.filter(pk=message.pk).update(conversation=conversation)
    message.refresh_from_db()
    conversation_message_received(message=message)
    found = reading.Read(message_id=message.message_id)
    found.attachments = list(message.attachments.all())
    companies = [person.company_id] if person.company_id else []
    _on_timelines_many([_New(found, message, [], [person.pk], companies)])
    return message


def _sent_joined(messages: list[Message]) -> None:
    """Messages the user sent from their mail program: each counts in its conversation
    (which then waits for no answer, if it is the last) and says it was sent."""
    for message in messages:
        if message.conversation is not None:
            joined(message.conversation, message)
    emit_many("message.sent", [
        {"message_id": message.pk, "person_id": message.person_id,
         "company_id": message.company_id, "deal_id": message.deal_id,
         "mailbox_id": message.mailbox_id, "actor_id": message.author_id, "fetched": True}
        for message in messages
    ])  # fmt: skip


def _copies(mailbox: Mailbox | None, pairs: list[tuple[Message, Fetched]]) -> None:
    if mailbox is None:
        return
    MessageCopy.objects.bulk_create(
        [MessageCopy(message=message, mailbox=mailbox, folder=item.folder,
                     uidvalidity=item.uidvalidity, uid=item.uid)
         for message, item in pairs
         if message is not None and item.uid is not None and item.uidvalidity is not None],
        ignore_conflicts=True,
    )  # fmt: skip


def _attachments(message: Message, found: reading.Read) -> None:
    for attachment in found.attachments:
        kept = Attachment(
            message=message,
            name=attachment.name,
            content_type=attachment.content_type,
            size=len(attachment.content),
        )
        kept.file.save(attachment.name, ContentFile(attachment.content), save=False)
        kept.save()


def _kind(found: reading.Read, ours: set[str]) -> str:
    if found.bounce:
        return Message.BOUNCE
    if found.auto_reply:
        return Message.AUTO_REPLY
    if found.from_address and found.from_address in ours:
        return Message.OWN
    return Message.CLIENT


def _ordered(ids: list[int], first: list[int] = ()) -> list[int]:
    return list(dict.fromkeys([*first, *ids]))


def _on_timelines_many(mail: list[_New]) -> None:
    """Each message on the timelines of its people, companies and deal (one statement),
    and each client's last contact moved forward."""
    kinds = {model: ContentType.objects.get_for_model(model) for model in (Person, Company)}
    deal_type = ContentType.objects.get_for_model(Message.deal.field.related_model)
    entries, contacted = [], {}
    for item in mail:
        message = item.message
        summary = {
            "message_id": message.pk, "direction": message.direction,
            "subject": message.subject,
            "from": message.from_address, "from_name": message.from_name, "to": message.to,
            "cc": message.cc, "attachments": len(item.found.attachments),
        }  # fmt: skip
        subjects = [(kinds[Person], pk) for pk in item.people]
        subjects += [(kinds[Company], pk) for pk in item.companies]
        subjects += [(deal_type, message.deal_id)] if message.deal_id else []
        for subject_type, pk in subjects:
            entries.append(TimelineEvent(subject_type=subject_type, subject_id=pk, kind="email",
                                         occurred_at=message.created_at, data=summary))  # fmt: skip
        for model, ids in ((Person, item.people), (Company, item.companies)):
            for pk in ids:
                key = (model, pk)
                contacted[key] = max(contacted.get(key, message.created_at), message.created_at)
    TimelineEvent.objects.bulk_create(entries)
    for model in (Person, Company):
        times = {pk: at for (kind, pk), at in contacted.items() if kind is model}
        clients_contacted(model=model, times=times)


def _bounced(found: reading.Read, report: Message, now: datetime) -> None:
    """A delivery report: our message it returns is marked bounced with the server's
    reason (hard failures, 5.x.x), and each address it failed for for good is marked as
    bouncing, for mailings to skip. A temporary failure (4.x.x: the server goes on trying)
    is only said on our message, which stays sent."""
    if not found.failures:
        return
    original = (
        Message.objects.filter(message_id=found.bounced_id, direction=Message.OUT).first()
        if found.bounced_id
        else None
    )
    hard = [failure for failure in found.failures if failure.hard]
    if not hard:
        if original is not None:
            delayed = _("Delayed, the mail server goes on trying: %(reason)s") % {
                "reason": _reason(found.failures)
            }
            Message.objects.filter(pk=original.pk, state=Message.SENT).update(error=delayed)
        return
    reason = _reason(hard)
    if original is not None and original.state != Message.BOUNCED:
        Message.objects.filter(pk=original.pk).update(
            state=Message.BOUNCED, error=reason, failed_at=now
        )
        # A mailing's recipient whose message came back: the mailing's page says so.
        Recipient.objects.filter(message=original, state=Recipient.SENT).update(
            state=Recipient.BOUNCED
        )
        emit(
            "message.bounced",
            message_id=original.pk,
            person_id=original.person_id,
            company_id=original.company_id,
            deal_id=original.deal_id,
            mailbox_id=original.mailbox_id,
            reason=reason,
        )
    for failure in hard:
        BouncingAddress.objects.update_or_create(
            address=failure.address[:254],
            defaults={"status": failure.status, "reason": failure.diagnostic,
                      "bounced_at": now, "message": original or report},
        )  # fmt: skip


def _reason(failures: list) -> str:
    return "; ".join(
        f"{failure.address}: {failure.status} {failure.diagnostic}".strip() for failure in failures
    )[:2000]


# --- What the fetching worker saw ---------------------------------------------------------


@transaction.atomic
def mailbox_fetch_progress(
    *,
    mailbox: Mailbox,
    uidvalidity: int,
    last_uid: int,
    fetched: int,
    problems: list[dict],
    sent: bool = False,
) -> None:
    """A batch of a folder is in (the receiving one, or the sent one): where the next one
    starts, and what could not be read well (the page shows the last ones)."""
    folder = "sent" if sent else "sync"
    changes = {f"{folder}_uidvalidity": uidvalidity, f"{folder}_last_uid": last_uid,
               "sync_fetched_total": F("sync_fetched_total") + fetched}  # fmt: skip
    if problems:
        mailbox.refresh_from_db(fields=["sync_problems"])
        changes["sync_problems"] = (problems[::-1] + list(mailbox.sync_problems))[:PROBLEMS_KEPT]
    Mailbox.objects.filter(pk=mailbox.pk).update(**changes)


@transaction.atomic
def mailbox_fetched(
    *,
    mailbox: Mailbox,
    at: datetime,
    fetched: int,
    more: bool = False,
    sent_folder: str = "",
    sent_problem: str = "",
) -> None:
    """A fetch went through: the mailbox works (again: its people are told, once). `more`:
    the pass stopped for time with messages left, so the next one comes at once.
    `sent_folder`: the folder of sent mail it found ("" none); `sent_problem`: why the
    server would not let it be read (one line among the page's problems, kept while it
    lasts, gone once the folder is read again)."""
    mailbox.refresh_from_db(fields=["sync_failures", "sync_problems"])  # with this pass's own
    problems = [p for p in mailbox.sync_problems if not p.get("folder")]
    if sent_problem:
        problems.insert(0, {
            "at": at.isoformat(), "folder": sent_folder, "from": "", "message": None,
            "subject": _("The sent folder “%(folder)s” could not be read: the mail you send "
                         "from a mail program does not come in.") % {"folder": sent_folder},
            "problem": sent_problem[:1000],
        })  # fmt: skip
    Mailbox.objects.filter(pk=mailbox.pk).update(
        sent_folder=sent_folder,
        synced_at=at,
        sync_fetched_last=fetched,
        sync_error="",
        sync_failures=0,
        sync_problems=problems[:PROBLEMS_KEPT],
        sync_due_at=at if more else at + timedelta(seconds=settings.ACCORD_EMAIL_FETCH_SECONDS),
        sync_claimed_until=None,
    )
    if mailbox.sync_failures:  # it was failing
        for user in _told(mailbox):
            notify(user, Notification.MAILBOX, f"mailbox-ok:{mailbox.pk}:{at:%s}",
                   mailbox=mailbox.name, recovered=True)  # fmt: skip


@transaction.atomic
def mailbox_fetch_failed(*, mailbox: Mailbox, reason: str, at: datetime) -> None:
    """A fetch failed (the server away, the password refused, TLS broken): tried again
    after a growing wait; the first failure of a run of them is told to the mailbox's
    owner (the administrators for a shared one), once."""
    mailbox.refresh_from_db(fields=["sync_failures"])
    failures = mailbox.sync_failures + 1
    wait = BACKOFF[min(failures, len(BACKOFF)) - 1]
    Mailbox.objects.filter(pk=mailbox.pk).update(
        sync_error=reason,
        sync_error_at=at,
        sync_failures=failures,
        sync_due_at=at + wait,
        sync_claimed_until=None,
    )
    if failures == 1:
        for user in _told(mailbox):
            notify(user, Notification.MAILBOX, f"mailbox-failing:{mailbox.pk}:{at:%s}",
                   mailbox=mailbox.name, error=reason[:500])  # fmt: skip


@transaction.atomic
def mailbox_fetch_now(*, mailbox: Mailbox) -> None:
    """ "Fetch now": due at once, whatever its back-off."""
    Mailbox.objects.filter(pk=mailbox.pk).update(sync_due_at=timezone.now())


def _told(mailbox: Mailbox) -> list[User]:
    if mailbox.owner_id:
        return [mailbox.owner] if mailbox.owner.is_active else []
    users = User.objects.filter(is_active=True).select_related("role").order_by("pk")
    return [user for user in users if user.sets_up_company]
