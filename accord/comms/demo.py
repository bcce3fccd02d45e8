"""The demo company's e-mail: a shared sales mailbox, clearly marked as a demo (it hands
its mail to a test server on this machine, 127.0.0.1:1025, such as Mailpit; with none
there, what is written fails with the server's answer), a year of e-mails the
salespeople wrote to their clients, on the clients' and deals' timelines, and the
clients' answers — some answered, some waiting in the Inbox, some not read yet — with a
question from someone who is not a client yet, an out-of-office reply and a bounce, all
received through the same service as mail fetched over IMAP (no IMAP server needed); a
few templates (with their Russian and Hebrew variants where translated), a finished
mailing with its recipients' outcomes (two unsubscribed from it), a draft, and a mailing
of a template that tracks opens and clicks, some of its readers having opened it and
clicked its link."""

import random
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from django.conf import settings
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.comms import unsubscribe
from accord.comms.models import Conversation, ConversationRead, Mailbox, Mailing, Message, Recipient
from accord.comms.services import (
    conversation_assign,
    conversation_mark_read,
    mailbox_save,
    mailing_save,
    mailing_start,
    message_receive,
    message_reply,
    message_send,
    template_save,
    unsubscribe_by_token,
)
from accord.comms.services.mailings import mailing_claim, recipients_sync
from accord.comms.services.tracking import message_clicked, message_opened
from accord.contacts.models import Person
from accord.contacts.services import segment_save
from accord.core.models import TimelineEvent
from accord.sales.models import Deal

NAME, SELLER, COMPANY = "{{ client.first_name }}", "{{ user.name }}", "{{ our_company.name }}"
AUTUMN_LINK = "https://example.com/autumn-colours"
SUBJECTS = [
    ("Your offer for the new windows", "Hello {name},\n\nas promised, here is our offer for "
     "the windows we measured. The prices hold for thirty days.\n\nKind regards,\n{seller}"),
    ("Measurement on Friday", "Hello {name},\n\nour measurer comes on Friday between 10:00 "
     "and 12:00. Please call us if another time suits you better.\n\n{seller}"),
    ("Thank you for your order", "Hello {name},\n\nthank you for choosing us. Installation is "
     "planned for the week after next; we will call to agree on the day.\n\n{seller}"),
    ("How are the new windows?", "Hello {name},\n\nit has been a month since the installation. "
     "Is everything as it should be?\n\n{seller}"),
]  # fmt: skip


def populate() -> None:
    if Mailbox.objects.exists():
        return
    admin = User.objects.filter(role__slug="administrator").order_by("pk").first()
    if admin is None:
        return
    mailbox = mailbox_save(
        actor=admin,
        data={
            "name": "Sales (demo: a test server on this machine)",
            "address": "sales@example.com",
            "from_name": "Accord Windows",
            "is_default": True,
            "smtp_host": "127.0.0.1",
            "smtp_port": 1025,
            "smtp_security": "none",
        },
    )
    rng = random.Random(17)
    now = timezone.now()
    people = Person.objects.exclude(primary_email="").filter(owner__isnull=False)
    for person in people.select_related("owner").order_by("pk")[:40]:
        deal = Deal.objects.filter(person=person).order_by("pk").first()
        for _n in range(rng.randint(1, 3)):
            subject, text = rng.choice(SUBJECTS)
            message = message_send(
                actor=person.owner,
                mailbox=mailbox,
                to=[person.primary_email],
                subject=subject,
                text=text.format(
                    name=person.first_name or person.full_name, seller=person.owner.display_name
                ),
                person=person,
                deal=deal,
            )
            _as_sent(message, now - timedelta(days=rng.uniform(2, 330)), rng)
    _answers(mailbox, rng, now)
    last = Message.objects.filter(state=Message.SENT).aggregate(last=Max("sent_at"))["last"]
    Mailbox.objects.filter(pk=mailbox.pk).update(last_sent_at=last)
    _receive_others(mailbox, rng, now)
    _templates_and_mailings(admin, mailbox, rng, now)


def _template_texts() -> list[dict]:
    return [
        {
            "name": _("Spring offer"),
            "subject": _("Spring offer for %(name)s: 10%% off new windows") % {"name": NAME},
            "html": _(
                "<p>Dear %(name)s,</p><p>until the end of April, new windows and their "
                "installation are <strong>10%% off</strong>.</p><p>Reply to this e-mail or "
                "call us to book a measurement.</p><p>%(seller)s, %(company)s</p>"
            ) % {"name": NAME, "seller": SELLER, "company": COMPANY},
            "marketing": True,
        },
        {
            "name": _("After the measurement"),
            "subject": _("Your measurement results"),
            "html": _(
                "<p>Hello %(name)s,</p><p>thank you for having us. Our offer follows within two "
                "working days.</p><p>%(seller)s</p>"
            ) % {"name": NAME, "seller": SELLER},
            "marketing": False,
        },
        {
            "name": _("A month after the installation"),
            "subject": _("How are the new windows, %(name)s?") % {"name": NAME},
            "html": _(
                "<p>Hello %(name)s,</p><p>it has been a month since the installation. Is "
                "everything as it should be?</p><p>%(seller)s</p>"
            ) % {"name": NAME, "seller": SELLER},
            "marketing": False,
        },
        {
            "name": _("Autumn news"),
            "subject": _("New colours for your windows, %(name)s") % {"name": NAME},
            "html": _(
                '<p>Hello %(name)s,</p><p>our frames now come in six colours. <a href="%(link)s">'
                "See them on our site</a>.</p><p>%(company)s</p>"
            ) % {"name": NAME, "company": COMPANY, "link": AUTUMN_LINK},
            "marketing": True,
            "tracked": True,
        },
    ]  # fmt: skip


def _templates_and_mailings(admin, mailbox, rng, now) -> None:
    made = []
    texts = _template_texts()
    variants: list[dict] = [{} for _text in texts]
    for code, _language in settings.LANGUAGES:
        with translation.override(code):
            for index, found in enumerate(_template_texts()):
                if (
                    found["subject"] != texts[index]["subject"]
                    or found["html"] != texts[index]["html"]
                ):
                    variants[index][code] = {"subject": found["subject"], "html": found["html"]}
    for text, languages in zip(texts, variants, strict=True):
        made.append(template_save(actor=admin, variants=languages, **text))
    segment = segment_save(
        actor=admin,
        name=_("Newsletter: everyone with an e-mail"),
        record_type="person",
        filters={"has_email": "yes"},
        shared=True,
    )
    done = mailing_save(actor=admin, name=_("Spring offer, March"), template=made[0],
                        segment=segment, mailbox=mailbox)  # fmt: skip
    mailing_start(actor=admin, mailing=done)
    _as_finished(done, rng, now - timedelta(days=40))
    mailing_save(actor=admin, name=_("Spring offer, April"), template=made[0], segment=segment,
                 mailbox=mailbox)  # fmt: skip
    _tracked_mailing(admin, mailbox, made[3], segment, rng, now - timedelta(days=12))


def _tracked_mailing(admin, mailbox, template, segment, rng, when) -> None:
    """A mailing of the past from the template that tracks opens and clicks: its messages
    made by the worker's service and dated as sent then (seeding: nothing goes out), and
    about half of them opened, some clicked, through the tracking services — as the
    readers' mail programs would have."""
    mailing = mailing_save(actor=admin, name=_("Autumn news, October"), template=template,
                           segment=segment, mailbox=mailbox)  # fmt: skip
    mailing_start(actor=admin, mailing=mailing)
    waiting = Recipient.objects.filter(mailing=mailing, state=Recipient.QUEUED)
    at = when
    while waiting.exists() and at < when + timedelta(hours=12):
        mailing_claim(mailing_id=mailing.pk, now=at, size=100)
        at += timedelta(minutes=1)  # the mailbox's pace
    for message in Message.objects.filter(mailing=mailing).order_by("pk"):
        _as_sent(message, when + timedelta(seconds=rng.randint(0, 600)), rng)
    recipients_sync(mailing_id=mailing.pk, now=at)
    Mailing.objects.filter(pk=mailing.pk).update(started_at=when, finished_at=at)
    for message in Message.objects.filter(mailing=mailing, state=Message.SENT).order_by("pk"):
        if rng.random() < 0.5:
            opened = message.sent_at + timedelta(minutes=rng.randint(5, 2880))
            for _time in range(rng.choice([1, 1, 2, 3])):
                message_opened(message_id=message.pk, at=opened)
            if rng.random() < 0.35:
                clicked = opened + timedelta(seconds=rng.randint(10, 300))
                message_clicked(message_id=message.pk, url=AUTUMN_LINK, at=clicked)


def _as_finished(mailing: Mailing, rng, when) -> None:
    """A mailing of the past: each recipient sent (a few refused by their server), two
    unsubscribed by its link. Seeding only: the worker sends real ones."""
    queued = Recipient.objects.filter(mailing=mailing, state=Recipient.QUEUED).order_by("pk")
    failed = [row.pk for row in queued if rng.random() < 0.05]
    Recipient.objects.filter(pk__in=failed).update(state=Recipient.FAILED)
    queued.update(state=Recipient.SENT)
    Mailing.objects.filter(pk=mailing.pk).update(
        state=Mailing.DONE, started_at=when, finished_at=when + timedelta(minutes=12)
    )
    for row in Recipient.objects.filter(mailing=mailing, state=Recipient.SENT).order_by("?")[:2]:
        token = unsubscribe.token(person_id=row.person_id, address=row.address,
                                  mailing_id=mailing.pk)  # fmt: skip
        unsubscribe_by_token(token=token, now=when + timedelta(hours=rng.randint(2, 60)))


def _receive_others(mailbox: Mailbox, rng: random.Random, now) -> None:
    """A few messages that are not a client's answer, as a mail program writes them
    (RFC 5322), through the receive service: a stranger's question, an out-of-office reply,
    a delivery report for the newest message sent."""
    sent = Message.objects.filter(direction=Message.OUT, state=Message.SENT, person__isnull=False)
    refused = sent.order_by("-pk").first()  # the newest: no reply to it came
    others = [
        _mail(sender="Mira Sol <mira.sol@example.net>", to=mailbox.address,
              subject="Price for three windows?", when=now - timedelta(hours=5),
              text="Hello, what would three PVC windows 120×140 cost, installed? Mira"),
        _mail(sender="Out of office <olga@example.org>", to=mailbox.address,
              subject="Automatic reply: Your offer", when=now - timedelta(days=3),
              text="I am away until Monday.", headers={"Auto-Submitted": "auto-replied"}),
    ]  # fmt: skip
    if refused is not None:
        others.append(_bounce(mailbox, refused, refused.created_at + timedelta(minutes=2)))
    for raw in others:
        message_receive(mailbox=mailbox, raw=raw, now=now)


def _mail(*, sender, to, subject, text, when, headers=None) -> bytes:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, to, subject
    mail["Date"] = format_datetime(when)
    mail["Message-ID"] = make_msgid("demo", domain="example.net")
    for name, value in (headers or {}).items():
        mail[name] = value
    mail.set_content(text)
    return bytes(mail)


BOUNCE = """\
From: Mail Delivery System <MAILER-DAEMON@mx.example.com>
To: {mailbox}
Subject: Undelivered Mail Returned to Sender
Date: {date}
Message-ID: <demo-bounce-{pk}@mx.example.com>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="report"

--report
Content-Type: text/plain

Your message could not be delivered to {address}.

--report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822; {address}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <{address}>: Recipient address rejected: User unknown

--report
Content-Type: text/rfc822-headers

Message-ID: {message_id}
Subject: {subject}

--report--
"""


def _bounce(mailbox: Mailbox, original: Message, when) -> bytes:
    """A delivery report for a message a client's server refused (RFC 3464)."""
    text = BOUNCE.format(mailbox=mailbox.address, date=format_datetime(when), pk=original.pk,
                         address=original.to[0], message_id=original.message_id,
                         subject=original.subject)  # fmt: skip
    return text.replace("\n", "\r\n").encode()


ANSWERS = [
    "Thank you! Could the measurer come on Saturday instead?",
    "Is the price with installation? And how long is the warranty?",
    "We would like white frames rather than brown. Does that change the price?",
    "Everything is fine, thank you. One window squeaks a little when it opens.",
    "Can you send the contract to my husband as well, please?",
]
FOLLOW_UPS = [
    "Of course — I have noted it and will confirm the time tomorrow.",
    "Yes, installation is included; the warranty is five years on the frames.",
]


def _answers(mailbox: Mailbox, rng: random.Random, now) -> None:
    """The clients' side: about two in three of the recent conversations got an answer;
    a salesperson replied to some, the rest wait in the Inbox, some not yet read."""
    recent = Conversation.objects.filter(last_message_at__gte=now - timedelta(days=90))
    answered = 0
    for conversation in recent.select_related("person", "assignee").order_by("pk"):
        first = conversation.messages.filter(state=Message.SENT).order_by("created_at").first()
        if first is None or rng.random() > 0.66:
            continue
        came = min(first.created_at + timedelta(hours=rng.uniform(2, 72)), now)
        answer = receive_demo_reply(first, rng.choice(ANSWERS), came)
        seller = conversation.assignee
        if seller is None:
            continue
        turn = answered % 5  # in five: not read yet, answered twice, read, nobody's yet
        answered += 1
        if turn in (1, 4):
            reply = message_reply(
                actor=seller, original=answer, kind="reply", mailbox=mailbox,
                text=rng.choice(FOLLOW_UPS) + f"\n\n{seller.display_name}", quote=True,
            )  # fmt: skip
            _as_sent(reply, min(came + timedelta(hours=rng.uniform(1, 20)), now), rng)
            Conversation.objects.filter(pk=conversation.pk).update(last_message_at=reply.created_at)
        elif turn == 2:  # read, still to answer
            conversation_mark_read(actor=seller, conversation=conversation)
        elif turn == 3:  # nobody's yet: for whoever picks it up
            conversation_assign(actor=seller, conversation=conversation, assignee=None)


def receive_demo_reply(original: Message, text: str, at) -> Message:
    """A client's answer to `original`, as their mail program writes it (In-Reply-To,
    References), stored by the receive service as a fetched one is."""
    sender = original.person.full_name if original.person else ""
    raw = _mail(
        sender=f"{sender} <{original.to[0]}>" if sender else original.to[0],
        to=original.from_address,
        subject=f"Re: {original.subject}",
        text=text,
        when=at,
        headers={"In-Reply-To": original.message_id,
                 "References": " ".join(filter(None, [original.references,
                                                      original.message_id]))},
    )  # fmt: skip
    return message_receive(mailbox=original.mailbox, raw=raw, now=at).message


def _as_sent(message: Message, when, rng) -> None:
    """A message of the past: sent then (one in twenty refused by the client's server),
    and its timeline entries dated so. Seeding only: no user path rewrites history."""
    refused = rng.random() < 0.05
    Message.objects.filter(pk=message.pk).update(
        created_at=when,
        due_at=None,
        attempts=1,
        state=Message.FAILED if refused else Message.SENT,
        sent_at=None if refused else when + timedelta(seconds=rng.randint(2, 40)),
        failed_at=when if refused else None,
        error="The server refused every recipient: "
        f"{message.to[0]}: 550 5.1.1 Recipient address rejected: User unknown"
        if refused
        else "",
    )
    TimelineEvent.objects.filter(kind="email", data__message_id=message.pk).update(occurred_at=when)
    if message.conversation_id:  # the conversation it starts (or joins) is dated so too
        Conversation.objects.filter(pk=message.conversation_id, started_at__gt=when).update(
            started_at=when
        )
        Conversation.objects.filter(pk=message.conversation_id, message_count=1).update(
            last_message_at=when
        )
        ConversationRead.objects.filter(
            conversation_id=message.conversation_id, read_at__gt=when
        ).update(read_at=when)
