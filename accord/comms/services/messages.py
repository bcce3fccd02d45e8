"""Every write of messages: one written to a client is stored queued (on the client's and
the deal's timeline at once) and sent by the worker; what the worker saw — sent, a failure
to retry later, a failure for good — is recorded here, with its events."""

import re
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accord.accounts.models import User
from accord.comms import bodies, replies, unsubscribe
from accord.comms.attachments import check_files
from accord.comms.models import Attachment, Conversation, LinkClick, Mailbox, Message
from accord.comms.queries import mailboxes_to_send_from, manages_mailboxes
from accord.comms.services import threads
from accord.comms.services.templates import language_for
from accord.contacts.models import Company, Person
from accord.contacts.services import client_contacted, clients_contacted
from accord.core.events import emit
from accord.core.models import TimelineEvent
from accord.core.timeline import timeline_record
from accord.core.visibility import NONE, WRITE, effective_level
from accord.work.services import sees

MAX_RECIPIENTS = 50
# One address of a list: a quoted name may hold a comma ("Lang, Vera" <v@x.org>).
ADDRESS_PARTS = re.compile(r'(?:"[^"]*"|<[^>]*>|[^,;])+')
MAX_SUBJECT = 300
MAX_TEXT = 100_000
MAX_HTML = 500_000
# Waits before the next try after a temporary failure (a 4xx answer, a server away);
# after the last, the message fails with the server's last answer.
RETRIES = [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15),
           timedelta(hours=1), timedelta(hours=4)]  # fmt: skip
# A message `sending` for this long was being sent by a worker that died.
STALE = timedelta(minutes=15)


# --- Writing to a client ------------------------------------------------------------------


@transaction.atomic
def message_send(
    *,
    actor: User | None,
    mailbox: Mailbox | None,
    to: Sequence[str] | str,
    subject: str,
    text: str = "",
    html: str = "",
    cc: Sequence[str] | str = (),
    bcc: Sequence[str] | str = (),
    attachments: Sequence = (),
    person=None,
    company=None,
    deal=None,
    idempotency_key: str | None = None,
    rule_name: str = "",
    marketing: bool = False,
    reply_to: Message | None = None,
    carry: Sequence[Attachment] = (),
    tracked: bool = False,
) -> Message:
    """Store a message to a client, queued: it is on the timelines of its person, company
    and deal at once, and the worker sends it. A second call with the same
    `idempotency_key` answers the first message. `rule_name`: an automation rule writes
    it (its author need not see the client; with no mailbox it goes from the company's
    mail server, ACCORD_EMAIL_URL). `reply_to`: the message this answers or forwards —
    the new one joins its conversation with the threading headers; `carry`: files of
    earlier messages sent again with it (a forward's); `tracked`: written from a template
    that tracks opens and clicks (accord/comms/tracking.py)."""
    if reply_to is not None and not any((person, company, deal)):
        thread = reply_to.conversation
        person = thread.person if thread else reply_to.person
        company = thread.company if thread else reply_to.company
        deal = thread.deal if thread else reply_to.deal
    if idempotency_key:
        earlier = Message.objects.filter(idempotency_key=idempotency_key).first()
        if earlier is not None:
            return earlier
    if not rule_name:
        _require_writer(actor, [person, company, deal])
    errors: dict[str, list[str]] = {}
    recipients = {
        name: _addresses(value, name, errors)
        for name, value in (("to", to), ("cc", cc), ("bcc", bcc))
    }
    if not recipients["to"] and "to" not in errors:
        errors["to"] = [_("Write to at least one address.")]
    if sum(len(found) for found in recipients.values()) > MAX_RECIPIENTS:
        errors["to"] = [_("At most %(count)s recipients.") % {"count": MAX_RECIPIENTS}]
    subject = _subject(subject, errors)
    html, text = _body(html, text, errors)
    sender = _sender(actor, mailbox, rule_name, errors)
    if not any((person, company, deal)):
        errors["person"] = [_("Choose the client or deal this is about.")]
    if marketing and _unsubscribed(person, recipients["to"]):
        errors["to"] = [_("The client unsubscribed from offers and news.")]
    if marketing and person is not None and not errors and recipients["to"]:
        html, text = unsubscribe.with_footer(
            html,
            text,
            unsubscribe.url(person_id=person.pk, address=recipients["to"][0]),
            language_for(person),
        )
    checked = []
    gone = [kept.name for kept in carry if not kept.stored]
    if gone:
        errors["attachments"] = [_gone(gone)]
    elif attachments or carry:
        try:
            checked = check_files([*attachments, *(_Carried(kept) for kept in carry)])
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    conversation = reply_to.conversation if reply_to is not None else None
    if conversation is None:
        conversation = Conversation.objects.create(
            subject=subject, person=person, company=company, deal=deal,
            started_at=now, last_message_at=now,
            assignee=threads.default_assignee(person, company, deal, actor),
        )  # fmt: skip
        if reply_to is not None:  # an old message of no conversation: both join this one
            Message.objects.filter(pk=reply_to.pk).update(conversation=conversation)
            threads.joined(conversation, reply_to)
    message, made = message_queue_once(
        # Short enough that the header is never folded (make_msgid's can pass
        # 78 characters with a long domain, and a folded id reads back with a
        # line break in front of it).
        message_id=f"<{uuid.uuid4().hex}@{sender['domain']}>",
        idempotency_key=idempotency_key or None,
        conversation=conversation,
        mailbox=mailbox,
        person=person,
        company=company,
        deal=deal,
        author=actor if actor is not None and actor.pk else None,
        rule_name=rule_name,
        marketing=marketing,
        tracked=tracked,
        from_name=sender["name"],
        from_address=sender["address"],
        subject=subject,
        html=html,
        text=text,
        created_at=now,
        due_at=now,
        in_reply_to=reply_to.message_id if reply_to is not None else "",
        references=replies.references_for(reply_to) if reply_to is not None else "",
        **recipients,
    )
    if not made:  # the same key, a moment before, in another request
        return message
    threads.joined(conversation, message, reader=actor)
    for upload, found in zip([*attachments, *carry], checked, strict=True):
        if isinstance(upload, Attachment):
            content = _Carried(upload).read()
        else:
            upload.seek(0)
            content = upload.read()
        kept = Attachment(message=message, name=found.name, content_type=found.content_type,
                          size=found.size)  # fmt: skip
        kept.file.save(found.name, ContentFile(content), save=False)
        kept.save()
    summary = {
        "message_id": message.pk,
        "subject": subject,
        "to": recipients["to"],
        "cc": recipients["cc"],
        "from": sender["address"],
        "attachments": len(checked),
        "conversation_id": conversation.pk,
    }
    if reply_to is not None:
        summary["reply_to"] = reply_to.pk
    for subject_record in _subjects(message):
        timeline_record(subject=subject_record, kind="email", actor=actor, data=summary)
    transaction.on_commit(lambda: _queue(message.pk), robust=True)
    return message


@transaction.atomic
def message_reply(
    *,
    actor: User,
    original: Message,
    kind: str,
    mailbox: Mailbox | None,
    text: str = "",
    html: str = "",
    to: Sequence[str] | str | None = None,
    cc: Sequence[str] | str | None = None,
    bcc: Sequence[str] | str = (),
    subject: str | None = None,
    attachments: Sequence = (),
    keep_attachments: bool = True,
    quote: bool = False,
    idempotency_key: str | None = None,
) -> Message:
    """Reply, reply to all or forward (`kind`): the answer joins the original's
    conversation with In-Reply-To and References. What is left out (None) is what the
    kind starts with: its recipients, "Re:"/"Fwd:" subject; `quote` adds the original
    below the text; a forward carries the original's files unless told not to."""
    if kind not in replies.KINDS:
        raise ValidationError({"kind": [_("Reply, reply_all or forward.")]})
    start = replies.prefill(original, kind)
    if quote:
        text = (text or "").rstrip("\n") + start["text"]
    carry = list(original.attachments.all()) if kind == "forward" and keep_attachments else []
    return message_send(
        actor=actor,
        mailbox=mailbox,
        to=start["to"] if to is None else to,
        cc=start["cc"] if cc is None else cc,
        bcc=bcc,
        subject=start["subject"] if subject is None else subject,
        text=text,
        html=html,
        attachments=attachments,
        carry=carry,
        reply_to=original,
        idempotency_key=idempotency_key,
    )


@transaction.atomic
def message_retry(*, actor: User, message: Message) -> Message:
    """Queue a failed message again, at once (the button on a failed message)."""
    if not message.can_retry:
        raise ValidationError(_("Only a message that failed can be sent again."))
    if not may_retry(actor, message):
        raise PermissionDenied(_("You may not send this message again."))
    now = timezone.now()
    taken = Message.objects.filter(pk=message.pk, state=Message.FAILED).update(
        state=Message.QUEUED,
        due_at=now,
        attempts=0,
        failed_at=None,
        error="",
        claim="",
        maybe_sent=False,
    )
    if not taken:
        raise ValidationError(_("Only a message that failed can be sent again."))
    transaction.on_commit(lambda: _queue(message.pk), robust=True)
    message.refresh_from_db()
    return message


def may_retry(actor: User, message: Message) -> bool:
    """Its author, an administrator, or anyone who may send from its mailbox and write to
    its client."""
    if not message.can_retry or not actor.is_active:
        return False
    if message.author_id == actor.pk or manages_mailboxes(actor):
        return True
    mailbox_ok = message.mailbox_id is not None and (
        mailboxes_to_send_from(actor).filter(pk=message.mailbox_id).exists()
    )
    return mailbox_ok and may_write_to(actor, [message.person, message.company, message.deal])


def may_write_to(actor: User | None, records: list) -> bool:
    records = [record for record in records if record is not None]
    if actor is None or not records or effective_level(actor, "activities", WRITE) == NONE:
        return False
    return all(sees(actor, record) for record in records)


def _require_writer(actor: User | None, records: list) -> None:
    if actor is None or effective_level(actor, "activities", WRITE) == NONE:
        raise PermissionDenied(_("Your role does not allow writing to clients."))
    for record in records:
        if record is not None and not sees(actor, record):
            raise PermissionDenied(_("You cannot see this record."))


def _queue(message_id: int) -> None:
    from accord.comms.tasks import send_message  # the task module imports the services

    send_message.enqueue(message_id)


def _addresses(value, field: str, errors: dict) -> list[str]:
    """The addresses in "a@x.com, Name <b@y.org>" or a list of them, each checked."""
    items = [value] if isinstance(value, str) else list(value or [])
    if any("\r" in str(item) or "\n" in str(item) for item in items):
        errors[field] = [_("An address cannot hold a line break.")]
        return []
    found, bad = [], []
    for item in items:
        for part in ADDRESS_PARTS.findall(str(item)):
            part = part.strip()
            if not part:
                continue
            inside = re.search(r"<([^<>]*)>\s*$", part)
            address = (inside.group(1) if inside else part).strip()
            try:
                validate_email(address)
            except ValidationError:
                bad.append(part)
                continue
            if address.lower() not in {known.lower() for known in found}:
                found.append(address)
    if bad:
        errors[field] = [
            _("Not an e-mail address: %(addresses)s") % {"addresses": ", ".join(bad)[:300]}
        ]
    return found


def _subject(subject: str, errors: dict) -> str:
    subject = str(subject or "")
    if "\r" in subject or "\n" in subject:
        errors["subject"] = [_("The subject cannot hold a line break.")]
        return subject
    subject = subject.strip()
    if not subject:
        errors["subject"] = [_("Write the subject.")]
    elif len(subject) > MAX_SUBJECT:
        errors["subject"] = [_("At most %(limit)s characters.") % {"limit": MAX_SUBJECT}]
    return subject


def _body(html: str, text: str, errors: dict) -> tuple[str, str]:
    html, text = str(html or ""), str(text or "").replace("\r\n", "\n").strip("\n")
    if len(text) > MAX_TEXT or len(html) > MAX_HTML:
        errors["text"] = [_("The message is too long: at most %(limit)s characters.")
                          % {"limit": MAX_TEXT}]  # fmt: skip
        return "", ""
    html = bodies.clean(html) if html.strip() else ""
    if html and not text:
        text = bodies.to_text(html)
    elif text and not html:
        html = bodies.from_text(text)
    if not text.strip():
        errors["text"] = [_("Write the message.")]
    return html, text


def _sender(actor, mailbox: Mailbox | None, rule_name: str, errors: dict) -> dict:
    if mailbox is None:
        if rule_name and settings.EMAIL_ENABLED:
            name, _lt, address = settings.DEFAULT_FROM_EMAIL.rpartition("<")
            address = address.rstrip(">").strip() or settings.DEFAULT_FROM_EMAIL
            return {"name": name.strip(' "'), "address": address,
                    "domain": address.rpartition("@")[2] or "localhost"}  # fmt: skip
        errors["mailbox"] = [_("Choose the mailbox to send from.")]
        return {"name": "", "address": "", "domain": "localhost"}
    if not mailbox.active:
        errors["mailbox"] = [_("This mailbox is not in use.")]
    elif not rule_name and not mailboxes_to_send_from(actor).filter(pk=mailbox.pk).exists():
        errors["mailbox"] = [_("You may not send from this mailbox.")]
    return {"name": mailbox.from_name, "address": mailbox.address, "domain": mailbox.domain}


def _unsubscribed(person, addresses: list[str]) -> bool:
    """Offers and news are not sent to a person or an address that unsubscribed."""
    if person is not None and unsubscribe.is_unsubscribed(person_id=person.pk):
        return True
    return any(unsubscribe.is_unsubscribed(address=address) for address in addresses)


class _Carried:
    """An attachment of an earlier message, read as an upload is (a forward's files are
    checked with the new ones: their kinds and the size of all together)."""

    def __init__(self, attachment: Attachment):
        self.name, self.size, self._attachment = attachment.name, attachment.size, attachment

    def read(self, size: int = -1) -> bytes:
        try:
            with self._attachment.file.open("rb") as stream:
                return stream.read(size)
        except OSError:  # gone since it was looked for: refused, nothing written
            raise ValidationError({"attachments": [_gone([self.name])]}) from None

    def seek(self, offset: int) -> None:
        pass  # each read opens the file from its start


def _gone(names: list[str]) -> str:
    """A forward's files that are no longer on the disk: it is refused rather than sent
    without them, which the recipient would miss and the user could not take back."""
    return ngettext(
        "The original’s file %(names)s is no longer stored, so it cannot go with this "
        "message: send it without the original’s files, or attach the file again.",
        "The original’s files %(names)s are no longer stored, so they cannot go with this "
        "message: send it without the original’s files, or attach the files again.",
        len(names),
    ) % {"names": ", ".join(names)}


def _subjects(message: Message) -> list:
    return [record for record in (message.person, message.company, message.deal) if record]


def _payload(message: Message) -> dict:
    return {
        "message_id": message.pk,
        "person_id": message.person_id,
        "company_id": message.company_id,
        "deal_id": message.deal_id,
        "mailbox_id": message.mailbox_id,
        "actor_id": message.author_id,
    }


# --- What the worker saw -------------------------------------------------------------------


@transaction.atomic
def message_sent(*, message: Message, at: datetime, refused: dict[str, str] | None = None) -> None:
    """The server took the message (for all, or all but the `refused` recipients)."""
    note = ""
    if refused:
        note = _("Not delivered to %(list)s") % {
            "list": "; ".join(f"{address}: {answer}" for address, answer in refused.items())
        }
    Message.objects.filter(pk=message.pk).update(
        state=Message.SENT, sent_at=at, error=note, claim="", due_at=None
    )
    if message.mailbox_id:
        Mailbox.objects.filter(pk=message.mailbox_id).update(last_sent_at=at)
    for record in (message.person, message.company):
        if record is not None:
            client_contacted(record=record, at=at)
    emit("message.sent", **_payload(message))


@transaction.atomic
def messages_sent(*, sent: list[tuple[Message, dict[str, str] | None]], at: datetime) -> None:
    """Many messages the server took (a mailing's batch over one connection), recorded in
    one transaction: their state, their clients' last contact, their events."""
    plain = [message.pk for message, refused in sent if not refused]
    Message.objects.filter(pk__in=plain).update(
        state=Message.SENT, sent_at=at, error="", claim="", due_at=None
    )
    for message, refused in sent:
        if refused:
            message_sent(message=message, at=at, refused=refused)
    mailboxes = {message.mailbox_id for message, _refused in sent if message.mailbox_id}
    Mailbox.objects.filter(pk__in=mailboxes).update(last_sent_at=at)
    for model, column in ((Person, "person_id"), (Company, "company_id")):
        ids = {getattr(message, column) for message, _r in sent} - {None}
        clients_contacted(model=model, times=dict.fromkeys(ids, at))
    for message, refused in sent:
        if not refused:
            emit("message.sent", **_payload(message))


@transaction.atomic
def message_queue_once(**fields) -> tuple[Message, bool]:
    """A queued outgoing message with these fields, or — when its `idempotency_key` was
    taken a moment before by another request — that earlier one: (message, made)."""
    key = fields.get("idempotency_key")
    try:
        with transaction.atomic():
            return Message.objects.create(**fields), True
    except IntegrityError:
        earlier = Message.objects.filter(idempotency_key=key).first() if key else None
        if earlier is None:
            raise
        return earlier, False


def message_attempt_failed(
    *, message: Message, reason: str, temporary: bool, at: datetime, uncertain: bool = False
) -> bool:
    """A try that failed: queued again after the next wait when the failure is temporary
    and tries are left, else failed for good with the reason. Answers whether it failed
    for good."""
    final = not temporary or message.attempts > len(RETRIES)
    # Only while the try that failed still holds it (not after it was given up as stale).
    mine = Message.objects.filter(pk=message.pk, state=Message.SENDING, claim=message.claim)
    if final:
        changed = mine.update(
            state=Message.FAILED,
            failed_at=at,
            error=reason,
            claim="",
            due_at=None,
            maybe_sent=uncertain,
        )
    else:
        wait = RETRIES[message.attempts - 1]
        changed = mine.update(state=Message.QUEUED, due_at=at + wait, error=reason, claim="")
    if not changed:
        return False
    if message.mailbox_id:
        Mailbox.objects.filter(pk=message.mailbox_id).update(last_error=reason, last_error_at=at)
    if final:
        emit("message.failed", **_payload(message), reason=reason)
    return final


@transaction.atomic
def messages_abandon_stale(*, now: datetime) -> int:
    """Messages left `sending` by a worker that died: the server may have taken them, so
    none is sent again by itself (at most once); each fails, saying so, for a person to
    check and send again."""
    stale = list(
        Message.objects.select_related("person", "company", "deal").filter(
            state=Message.SENDING, claimed_at__lt=now - STALE
        )[:500]
    )
    reason = _("Sending was interrupted (the worker stopped), so it may or may not have gone "
               "out. Check with the recipient before sending it again.")  # fmt: skip
    for message in stale:
        message_attempt_failed(
            message=message, reason=reason, temporary=False, at=now, uncertain=True
        )
    return len(stale)


@transaction.atomic
def messages_erase_person(*, person_id: int) -> int:
    """Erasure on request: the messages to an erased person keep only that they were
    written and their state — no address, subject, text or file, nor what tracking saw
    (and it sees nothing more) — here and on every timeline that shows them. Answers how
    many."""
    ids = list(Message.objects.filter(person_id=person_id).values_list("pk", flat=True))
    for attachment in Attachment.objects.filter(message_id__in=ids):
        attachment.file.delete(save=False)
    Attachment.objects.filter(message_id__in=ids).delete()
    LinkClick.objects.filter(message_id__in=ids).delete()
    erased = _("Erased on request")
    Message.objects.filter(pk__in=ids).update(
        to=[], cc=[], bcc=[], subject=erased, html="", text="", error="",
        tracked=False, opened_at=None, opens=0, clicked_at=None, clicks=0,
    )  # fmt: skip
    for entry in TimelineEvent.objects.filter(kind="email", data__message_id__in=ids):
        entry.data = {**entry.data, "subject": erased, "to": [], "cc": [], "attachments": 0}
        entry.save(update_fields=["data"])
    return len(ids)


def on_person_erased(event) -> None:
    messages_erase_person(person_id=event.payload["person_id"])


def claim_token() -> str:
    return uuid.uuid4().hex
