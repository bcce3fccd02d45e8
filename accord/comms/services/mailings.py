"""Mailings: a template sent to a segment's people from a mailbox. Who will receive it
and why the others won't (`audience`), the draft, start (a row per recipient, inserted in
batches), pause, resume, cancel; the worker's part — taking the next recipients at the
mailbox's pace and making their messages (`mailing_claim`), reading back what became of
them (`recipients_sync`) — and unsubscribing."""

import itertools
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import (
    CharField,
    Count,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Concat, Lower, Trim
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.accounts.models import User
from accord.comms import merge, unsubscribe
from accord.comms.models import (
    BouncingAddress,
    EmailTemplate,
    Mailbox,
    Mailing,
    Message,
    Messenger,
    Recipient,
    Unsubscribe,
)
from accord.comms.queries import mailboxes_to_send_from
from accord.comms.services.chat_sending import chat_queue_marketing
from accord.comms.services.templates import Compiled, language_for
from accord.contacts.models import Person, Segment
from accord.contacts.queries import filter_clients, people_visible_to, segments_visible_to
from accord.contacts.services import person_unsubscribe
from accord.core.company import default_language
from accord.core.events import emit
from accord.core.models import TimelineEvent
from accord.core.texts import compile_text, problem, render_compiled
from accord.core.visibility import NONE, WRITE, effective_level

# Why a person of the segment is left out, in the order they are checked: a person is
# counted under the first that holds.
REASONS = {
    "no_email": gettext_lazy("No e-mail address"),
    "no_phone": gettext_lazy("No phone number"),
    "unsubscribed": gettext_lazy("Unsubscribed"),
    "not_agreed": gettext_lazy("Did not agree to offers and news"),
    "bouncing": gettext_lazy("The address bounces"),
    "duplicate": gettext_lazy("The same address as another recipient"),
}
SMS_TEXT_LIMIT = 1000
INSERT_BATCH = 5000
WINDOW = timedelta(minutes=1)


@dataclass
class Audience:
    total: int
    receive: int
    left_out: dict[str, int]  # reason -> how many

    def as_dict(self) -> dict:
        return {"total": self.total, "receive": self.receive, "left_out": self.left_out}

    def reasons(self) -> list[tuple[str, str, int]]:
        """(code, words, count) of each reason, in their order, those that hold."""
        return [(code, str(words), self.left_out[code]) for code, words in REASONS.items()
                if self.left_out.get(code)]  # fmt: skip


def segment_people(segment: Segment, actor: User):
    """The people of a segment the actor may see."""
    if segment.record_type != "person":
        raise ValidationError({"segment": [_("Choose a segment of people.")]})
    return filter_clients(people_visible_to(actor), "person", segment.filters, user=actor)


def audience_rows(
    segment: Segment, actor: User, *, sms: bool = False
) -> Iterator[tuple[int, str, str]]:
    """(person id, address, reason or "") of each person of the segment, by address then
    id: whether an address is unsubscribed or bounces is asked of the database for each
    row (EXISTS), and a person whose address an earlier receiver has is next to them, so
    memory stays flat however many unsubscribe, bounce or share an address. `sms`: the
    address is the person's phone (E.164); a number that replied STOP is unsubscribed."""
    address = Trim("primary_phone") if sms else Lower(Trim("primary_email"))
    people = (
        segment_people(segment, actor)
        .filter(erased_at=None)
        .annotate(
            lowered=address,
            unsubscribed=Exists(Unsubscribe.objects.filter(person=OuterRef("pk"))),
            unsubscribed_address=Exists(Unsubscribe.objects.filter(address=OuterRef("lowered"))),
            bouncing=Exists(BouncingAddress.objects.filter(address=OuterRef("lowered"))),
        )
        .order_by(address, "pk")
        .values_list(
            "pk", "lowered", "marketing_consent", "unsubscribed", "unsubscribed_address", "bouncing"
        )
    )
    receiving = ""  # the address of the last person to receive it
    rows = people.iterator(chunk_size=5000)
    for pk, email, consent, unsubscribed, unsubscribed_address, bouncing in rows:
        email = email or ""
        if not email:
            reason = "no_phone" if sms else "no_email"
        elif unsubscribed or unsubscribed_address:
            reason = "unsubscribed"
        elif not consent:
            reason = "not_agreed"
        elif bouncing:
            reason = "bouncing"
        elif email == receiving:
            reason = "duplicate"
        else:
            reason, receiving = "", email
        yield pk, email, reason


def audience(segment: Segment, actor: User, *, sms: bool = False) -> Audience:
    """How many of the segment will receive the mailing, and why the others won't."""
    rows = audience_rows(segment, actor, sms=sms)
    counted: Counter = Counter(reason for _pk, _address, reason in rows)
    receive = counted.pop("", 0)
    return Audience(total=receive + sum(counted.values()), receive=receive, left_out=dict(counted))


def may_send_mailings(user) -> bool:
    return bool(getattr(user, "is_active", False)) and (
        effective_level(user, "activities", WRITE) != NONE
    )


def _check(
    actor: User, *, name: str, template, segment, mailbox, errors: dict,
    messenger: Messenger | None = None, text: str = "",
) -> str:  # fmt: skip
    name = str(name or "").strip()
    if not name:
        errors["name"] = [_("Give the mailing a name.")]
    elif len(name) > 200:
        errors["name"] = [_("At most %(limit)s characters.") % {"limit": 200}]
    if messenger is not None:  # an SMS mailing: its connection and text, no mailbox
        if not messenger.active or not messenger.is_sms:
            errors["messenger"] = [_("Choose an SMS connection in use.")]
        if not str(text or "").strip():
            errors["text"] = [_("Write the SMS.")]
        elif found := problem(str(text), limit=SMS_TEXT_LIMIT):
            errors["text"] = [found]
        mailbox = template = True  # not asked of an SMS mailing
    if template is None:
        errors["template"] = [_("Choose the template to send.")]
    if segment is None:
        errors["segment"] = [_("Choose the segment to send to.")]
    elif not segments_visible_to(actor).filter(pk=segment.pk).exists():
        errors["segment"] = [_("You cannot see this segment.")]
    elif segment.record_type != "person":
        errors["segment"] = [_("Choose a segment of people.")]
    if mailbox is None:
        errors["mailbox"] = [_("Choose the mailbox to send from.")]
    elif mailbox is not True and not mailboxes_to_send_from(actor).filter(pk=mailbox.pk).exists():
        errors["mailbox"] = [_("You may not send from this mailbox.")]
    return name


# The campaigns a user may name on a mailing: marketing (a floor above) registers them.
MAILING_CAMPAIGNS: dict[str, Callable[[User], QuerySet]] = {}


def campaign_choices(actor: User) -> QuerySet:
    visible = MAILING_CAMPAIGNS.get("visible")
    return visible(actor) if visible else Mailing.campaign.field.related_model.objects.none()


@transaction.atomic
def mailing_save(
    *,
    actor: User,
    name: str,
    template: EmailTemplate | None,
    segment: Segment | None,
    mailbox: Mailbox | None,
    mailing: Mailing | None = None,
    messenger: Messenger | None = None,
    text: str = "",
    campaign=None,
) -> Mailing:
    """A new mailing (a draft) or a draft changed: an e-mail one (a template from a
    mailbox), or with `messenger` an SMS one (its `text`, merge fields allowed)."""
    if not may_send_mailings(actor):
        raise PermissionDenied(_("Your role does not allow writing to clients."))
    if mailing is not None and mailing.state != Mailing.DRAFT:
        raise ValidationError(_("Only a draft can be changed."))
    errors: dict[str, list[str]] = {}
    name = _check(actor, name=name, template=template, segment=segment, mailbox=mailbox,
                  errors=errors, messenger=messenger, text=text)  # fmt: skip
    if campaign is not None and not campaign_choices(actor).filter(pk=campaign.pk).exists():
        errors["campaign"] = [_("You cannot see this campaign.")]
    if errors:
        raise ValidationError(errors)
    mailing = mailing or Mailing(created_by=actor)
    if messenger is not None:
        template, mailbox, text = None, None, str(text).strip()
    else:
        text = ""
    mailing.name, mailing.template, mailing.segment, mailing.mailbox = (
        name, template, segment, mailbox,
    )  # fmt: skip
    mailing.messenger, mailing.text, mailing.campaign = messenger, text, campaign
    mailing.segment_name = segment.name if segment else ""
    mailing.save()
    emit("mailing.saved", mailing_id=mailing.pk, actor_id=actor.pk)
    return mailing


@transaction.atomic
def mailing_start(*, actor: User, mailing: Mailing) -> Mailing:
    """Start a draft: a row per person of the segment (those left out with the reason),
    inserted in batches, then the worker sends at the mailbox's pace."""
    _require_runner(actor, mailing)
    mailing = Mailing.objects.select_for_update().get(pk=mailing.pk)
    if mailing.state != Mailing.DRAFT:
        raise ValidationError(_("This mailing has started already."))
    errors: dict[str, list[str]] = {}
    sms = mailing.messenger_id is not None or bool(mailing.text)
    _check(actor, name=mailing.name, template=mailing.template, segment=mailing.segment,
           mailbox=mailing.mailbox, errors=errors,
           messenger=mailing.messenger if sms else None, text=mailing.text)  # fmt: skip
    if sms and mailing.messenger is None:
        errors["messenger"] = [_("Choose an SMS connection in use.")]
    if errors:
        raise ValidationError(errors)
    counted: Counter = Counter()
    rows = (
        Recipient(
            mailing_id=mailing.pk,
            person_id=pk,
            address=address,
            state=Recipient.SKIPPED if reason else Recipient.QUEUED,
            reason=reason,
        )
        for pk, address, reason in _counting(
            audience_rows(mailing.segment, actor, sms=sms), counted
        )
    )
    while batch := list(itertools.islice(rows, INSERT_BATCH)):
        Recipient.objects.bulk_create(batch)
    receive = counted.pop("", 0)
    if not receive:
        raise ValidationError(
            {"segment": [_("Nobody in this segment may receive it: see why above.")]}
        )
    now = timezone.now()
    mailing.audience = Audience(receive + sum(counted.values()), receive, dict(counted)).as_dict()
    mailing.state, mailing.started_at = Mailing.SENDING, now
    mailing.version += 1
    mailing.save()
    emit("mailing.started", mailing_id=mailing.pk, actor_id=actor.pk)
    transaction.on_commit(lambda: _queue(mailing.pk), robust=True)
    return mailing


def _counting(rows, counted: Counter):
    for row in rows:
        counted[row[2]] += 1
        yield row


@transaction.atomic
def mailing_pause(*, actor: User, mailing: Mailing) -> Mailing:
    """Stop taking recipients (the messages already handed to the server are gone)."""
    return _move(actor, mailing, Mailing.SENDING, Mailing.PAUSED, "mailing.paused")


@transaction.atomic
def mailing_resume(*, actor: User, mailing: Mailing) -> Mailing:
    mailing = _move(actor, mailing, Mailing.PAUSED, Mailing.SENDING, "mailing.resumed")
    transaction.on_commit(lambda: _queue(mailing.pk), robust=True)
    return mailing


@transaction.atomic
def mailing_cancel(*, actor: User, mailing: Mailing) -> Mailing:
    """Give up on whoever has not been sent to: they are marked not sent, for good."""
    mailing = _move(
        actor, mailing, (Mailing.SENDING, Mailing.PAUSED), Mailing.CANCELLED, "mailing.cancelled"
    )
    waiting = Recipient.objects.filter(mailing=mailing, state=Recipient.QUEUED)
    waiting.update(state=Recipient.CANCELLED)
    # Messages made but not yet taken by the worker are not sent either.
    unsent = Message.objects.filter(mailing=mailing, state=Message.QUEUED)
    Recipient.objects.filter(message__in=unsent.values("pk")).update(state=Recipient.CANCELLED)
    unsent.update(state=Message.FAILED, failed_at=timezone.now(), due_at=None,
                  error=_("The mailing was cancelled before it was sent."))  # fmt: skip
    Mailing.objects.filter(pk=mailing.pk).update(finished_at=timezone.now())
    mailing.refresh_from_db()
    return mailing


def _move(actor, mailing: Mailing, from_states, to_state: str, event: str) -> Mailing:
    _require_runner(actor, mailing)
    states = from_states if isinstance(from_states, tuple) else (from_states,)
    moved = Mailing.objects.filter(pk=mailing.pk, state__in=states).update(
        state=to_state, updated_at=timezone.now()
    )
    if not moved:
        current = Mailing.objects.get(pk=mailing.pk)
        raise ValidationError(
            _("The mailing is %(state)s: it cannot do that now.")
            % {"state": current.get_state_display().lower()}
        )
    emit(event, mailing_id=mailing.pk, actor_id=actor.pk)
    return Mailing.objects.get(pk=mailing.pk)


def _require_runner(actor: User, mailing: Mailing) -> None:
    if not may_send_mailings(actor):
        raise PermissionDenied(_("Your role does not allow writing to clients."))
    if mailing.created_by_id != actor.pk and not getattr(actor, "sets_up_company", False):
        raise PermissionDenied(_("Only its author or an administrator runs a mailing."))


def _queue(mailing_id: int) -> None:
    from accord.comms.tasks import send_mailing  # the task module imports the services

    send_mailing.enqueue(mailing_id)


# --- The worker's part ---------------------------------------------------------------------


def allowance(mailbox: Mailbox, now: datetime, wanted: int) -> int:
    """How many more the mailbox may send this minute (its `per_minute`); counts them."""
    if not mailbox.per_minute:
        return wanted
    if mailbox.window_start is None or now - mailbox.window_start >= WINDOW:
        mailbox.window_start, mailbox.window_count = now, 0
    granted = max(0, min(wanted, mailbox.per_minute - mailbox.window_count))
    mailbox.window_count += granted
    Mailbox.objects.filter(pk=mailbox.pk).update(
        window_start=mailbox.window_start, window_count=mailbox.window_count
    )
    return granted


@transaction.atomic
def mailing_claim(*, mailing_id: int, now: datetime, size: int) -> list[int]:
    """Take the next queued recipients of a sending mailing, as many as the mailbox's pace
    allows, and make each its message (queued, on the person's timeline): a recipient has
    its message, or none, in one transaction, so a crash anywhere sends nobody twice.
    Those who unsubscribed or withdrew consent since the start are skipped. Answers the
    messages' ids, for the delivery to send."""
    mailing = (
        Mailing.objects.select_for_update(of=("self",)).select_related("template", "created_by")
        .filter(pk=mailing_id, state=Mailing.SENDING).first()
    )  # fmt: skip
    if mailing is None:
        return []
    if mailing.messenger_id is not None or mailing.text:
        return _claim_sms(mailing, now, size)
    mailbox = Mailbox.objects.select_for_update().filter(pk=mailing.mailbox_id).first()
    if mailbox is None or not mailbox.active:
        Mailing.objects.filter(pk=mailing.pk).update(state=Mailing.PAUSED)
        return []
    waiting = Recipient.objects.filter(mailing=mailing, state=Recipient.QUEUED).order_by("pk")
    rows = list(waiting.select_related("person")[:size])
    if not rows:
        return []
    rows = _still_welcome(rows)
    granted = allowance(mailbox, now, len(rows))
    rows = rows[:granted]
    if not rows:
        return []
    compiled = Compiled(mailing.template)
    views = merge.views("person", [row.person_id for row in rows])
    shared = merge.shared_values(mailing.created_by)
    messages = []
    for row in rows:
        language = language_for(row.person)
        rendered = compiled.render({**views.get(row.person_id, {}), **shared}, language)
        link = unsubscribe.url(person_id=row.person_id, address=row.address, mailing_id=mailing.pk)
        html, text = unsubscribe.with_footer(rendered.html, rendered.text, link, language)
        messages.append(Message(
            message_id=f"<{uuid.uuid4().hex}@{mailbox.domain}>",
            idempotency_key=f"mailing:{mailing.pk}:{row.pk}",
            mailbox=mailbox, person_id=row.person_id, author=mailing.created_by,
            marketing=True, mailing=mailing, tracked=mailing.template.tracked,
            from_name=mailbox.from_name,
            from_address=mailbox.address, to=[row.address], subject=rendered.subject,
            html=html, text=text, created_at=now, due_at=now,
        ))  # fmt: skip
    Message.objects.bulk_create(messages)
    person_type = ContentType.objects.get_for_model(Person)
    TimelineEvent.objects.bulk_create(
        TimelineEvent(
            subject_type=person_type, subject_id=row.person_id, kind="email",
            actor=mailing.created_by, occurred_at=now,
            data={"message_id": message.pk, "subject": message.subject, "to": message.to,
                  "cc": [], "from": mailbox.address, "attachments": 0,
                  "mailing": mailing.name},
        )
        for row, message in zip(rows, messages, strict=True)
    )  # fmt: skip
    # Each row takes its message (found by the key made of the row's id): one statement.
    key = Concat(Value(f"mailing:{mailing.pk}:"), Cast(OuterRef("pk"), CharField()))
    Recipient.objects.filter(pk__in=[row.pk for row in rows]).update(
        state=Recipient.SENDING,
        message=Subquery(Message.objects.filter(idempotency_key=key).values("pk")[:1]),
    )
    return [message.pk for message in messages]


SMS_PER_PASS = 60  # an SMS mailing's messages made at a time (gateways cap their pace)


def _claim_sms(mailing: Mailing, now: datetime, size: int) -> list[int]:
    """`mailing_claim` for an SMS mailing: each recipient's text filled in for them, with
    how to say STOP in their language, queued in their SMS conversation on the
    connection (begun if need be) and on their timeline."""
    messenger = Messenger.objects.filter(pk=mailing.messenger_id, active=True).first()
    if messenger is None:
        Mailing.objects.filter(pk=mailing.pk).update(state=Mailing.PAUSED)
        return []
    waiting = Recipient.objects.filter(mailing=mailing, state=Recipient.QUEUED).order_by("pk")
    rows = _still_welcome(list(waiting.select_related("person")[: min(size, SMS_PER_PASS)]))
    if not rows:
        return []
    compiled = compile_text(mailing.text)
    views = merge.views("person", [row.person_id for row in rows])
    shared = merge.shared_values(mailing.created_by)
    made = []
    for row in rows:
        language = language_for(row.person)
        with translation.override(language):
            text = render_compiled(compiled, {**views.get(row.person_id, {}), **shared}).strip()
            text = f"{text}\n{_('Reply STOP to unsubscribe.')}"
        message = chat_queue_marketing(
            messenger=messenger, person=row.person, address=row.address, text=text,
            author=mailing.created_by, mailing=mailing,
            idempotency_key=f"mailing:{mailing.pk}:{row.pk}", at=now,
        )  # fmt: skip
        Recipient.objects.filter(pk=row.pk).update(state=Recipient.SENDING, message=message)
        made.append(message.pk)
    return made


def _still_welcome(rows: list[Recipient]) -> list[Recipient]:
    """The rows whose person still agrees and did not unsubscribe; the others skipped."""
    people = [row.person_id for row in rows]
    addresses = [row.address for row in rows]
    gone = set(
        Unsubscribe.objects.filter(Q(person_id__in=people) | Q(address__in=addresses))
        .values_list("person_id", "address")
    )  # fmt: skip
    gone_people = {pk for pk, _address in gone}
    gone_addresses = {address for _pk, address in gone}
    kept, skipped = [], []
    for row in rows:
        if row.person is None or row.person.erased_at is not None:
            row.state, row.reason = Recipient.SKIPPED, "no_email"
        elif row.person_id in gone_people or row.address in gone_addresses:
            row.state, row.reason = Recipient.SKIPPED, "unsubscribed"
        elif not row.person.marketing_consent:
            row.state, row.reason = Recipient.SKIPPED, "not_agreed"
        else:
            kept.append(row)
            continue
        skipped.append(row)
    if skipped:
        Recipient.objects.bulk_update(skipped, ["state", "reason"])
    return kept


@transaction.atomic
def recipients_sync(*, mailing_id: int, now: datetime) -> bool:
    """Read back what became of the recipients' messages (sent, failed); a mailing with
    nobody left to send to is done. Answers whether it is still sending."""
    sending = Recipient.objects.filter(mailing_id=mailing_id, state=Recipient.SENDING)
    for state in (Recipient.SENT, Recipient.FAILED):
        sending.filter(message__state=state).update(state=state)
    # An SMS delivered (or read) before this pass read it back was sent.
    sending.filter(message__state__in=(Message.DELIVERED, Message.READ)).update(
        state=Recipient.SENT
    )
    left = Recipient.objects.filter(
        mailing_id=mailing_id, state__in=[Recipient.QUEUED, Recipient.SENDING]
    )
    if left.exists():
        return True
    finished = Mailing.objects.filter(pk=mailing_id, state=Mailing.SENDING).update(
        state=Mailing.DONE, finished_at=now
    )
    if finished:
        emit("mailing.finished", mailing_id=mailing_id)
    return False


def mailing_counts(mailing: Mailing) -> dict[str, int]:
    """How many recipients are in each state (and in all)."""
    found = dict(
        Recipient.objects.filter(mailing=mailing).order_by()
        .values_list("state").annotate(n=Count("pk"))
    )  # fmt: skip
    counts = {state: found.get(state, 0) for state, _label in Recipient.STATES}
    counts["total"] = sum(found.values())
    return counts


# --- Unsubscribing -------------------------------------------------------------------------


@transaction.atomic
def unsubscribe_by_token(*, token: str, now: datetime | None = None) -> Unsubscribe | None:
    """Someone followed (posted) a message's unsubscribe link: the address is
    unsubscribed, the person's consent withdrawn (on their timeline), their row in the
    mailing marked. No login: the token is the proof. Answers None for a token that is
    not genuine; a repeat answers the first unsubscribe."""
    found = unsubscribe.read(token)
    if found is None:
        return None
    now = now or timezone.now()
    earlier = Unsubscribe.objects.filter(
        person_id=found["person_id"], address=found["address"]
    ).first()
    if earlier is not None:
        return earlier
    mailing = (
        Mailing.objects.filter(pk=found["mailing_id"]).first() if found["mailing_id"] else None
    )
    # The mailing's name, or "" for offers and news in general: each reader's language
    # says that (the unsubscribe page is in the client's language, not the team's).
    source = mailing.name if mailing else ""
    person = person_unsubscribe(person_id=found["person_id"], source=source, at=now)
    kept = Unsubscribe.objects.create(
        address=found["address"], person=person, mailing=mailing, source=source, at=now
    )
    if mailing is not None:
        Recipient.objects.filter(
            mailing=mailing, person_id=found["person_id"], state=Recipient.SENT
        ).update(state=Recipient.UNSUBSCRIBED)
    emit("contact.unsubscribed", unsubscribe_id=kept.pk, person_id=found["person_id"])
    return kept


def language_of_token(token: str) -> str:
    """The language the unsubscribe page speaks for this token: the person's."""
    found = unsubscribe.read(token)
    person = Person.objects.filter(pk=found["person_id"]).first() if found else None
    return language_for(person) if person else default_language()
