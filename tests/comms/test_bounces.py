# ruff: noqa: F811 (the mailings' `offer` and `segment` fixtures are imported, then requested by name)
"""Delivery reports written as text (not multipart/report), as Exim, qmail, Postfix,
Sendmail, Exchange and Gmail send them, fetched from a real IMAP server (dovecot): a
permanent failure marks our message bounced and the address as bouncing, for mailings to
leave out; a temporary one is said on our message and marks nothing; none is client mail."""

import pytest

from accord.comms import fetching, mailings
from accord.comms.models import BouncingAddress, Message, Recipient
from accord.comms.services import mailing_counts, mailing_start, message_send
from accord.core.models import OutboxEvent, TimelineEvent
from tests.comms.conftest import IMAP_USER, mail
from tests.comms.test_mailings import make_mailing, offer, person, segment  # noqa: F401

pytestmark = pytest.mark.django_db

# The message a report returns, copied at its end (after the lines each server adds).
RETURNED = """\
From: sales@window-shop.example
To: vera@example.com
Subject: Offer
Message-ID: {message_id}

Here.
"""

EXIM = (
    """\
Return-path: <>
From: Mail Delivery System <Mailer-Daemon@mx.example.com>
To: sales@window-shop.example
Subject: Mail delivery failed: returning message to sender
Date: Sat, 05 Dec 2026 10:00:00 +0000
Message-Id: <E1kXyZ-0001aB-Cd@mx.example.com>
Auto-Submitted: auto-replied

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  Vera@Example.com
    host mx.example.com [192.0.2.25]
    SMTP error from remote mail server after RCPT TO:<vera@example.com>:
    550 5.1.1 <vera@example.com>: Recipient address rejected: User unknown in virtual mailbox table

------ This is a copy of the message, including all the headers. ------

Return-path: <sales@window-shop.example>
Received: from [198.51.100.7] (helo=mail.window-shop.example)
\tby mx.example.com with esmtp (Exim 4.96)
"""
    + RETURNED
)

EXIM_DELAYED = """\
Return-path: <>
From: Mail Delivery System <Mailer-Daemon@mx.example.com>
To: sales@window-shop.example
Subject: Warning: message 1kXyZ-0001aB-Cd delayed 24 hours
Date: Sat, 05 Dec 2026 10:00:00 +0000
Message-Id: <E1kXzz-0001aB-Cd@mx.example.com>
Auto-Submitted: auto-replied

This message was created automatically by mail delivery software.
A message that you sent has not yet been delivered to one or more of its
recipients after more than 24 hours on the queue on mx.example.com.

The message identifier is:     1kXyZ-0001aB-Cd
The subject of the message is: Offer
The date of the message is:    Fri, 04 Dec 2026 10:00:00 +0000

The address to which the message has not yet been delivered is:

  vera@example.com
    host mx2.example.com [192.0.2.26]: 452 4.2.2 <vera@example.com>: Mailbox full

No action is required on your part. Delivery attempts will continue for
some time, and this warning may be repeated at intervals if the message
remains undelivered. Eventually the mail delivery software will give up,
and when that happens, the message will be returned to you.

------ This is a copy of the message's headers. ------

From: Window Shop <sales@window-shop.example>
To: vera@example.com
Subject: Offer
Message-ID: {message_id}
"""

QMAIL = (
    """\
Return-Path: <>
From: MAILER-DAEMON@mail.example.com
To: sales@window-shop.example
Subject: failure notice
Date: 5 Dec 2026 10:00:00 -0000
Message-ID: <20261205100000.12345.qmail@mail.example.com>

Hi. This is the qmail-send program at mail.example.com.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<vera@example.com>:
192.0.2.25 does not like recipient.
Remote host said: 550 5.1.1 <vera@example.com>... User unknown
Giving up on 192.0.2.25.

--- Below this line is a copy of the message.

Return-Path: <sales@window-shop.example>
Received: (qmail 12340 invoked from network); 5 Dec 2026 09:59:59 -0000
"""
    + RETURNED
)

POSTFIX = (
    """\
Return-Path: <>
From: MAILER-DAEMON@mx.example.com (Mail Delivery System)
To: sales@window-shop.example
Subject: Undelivered Mail Returned to Sender
Date: Sat,  5 Dec 2026 10:00:00 +0000 (UTC)
Message-Id: <20261205100000.4F2A1C0123@mx.example.com>
Auto-Submitted: auto-replied

This is the mail system at host mx.example.com.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

For further assistance, please send mail to postmaster.

If you do so, please include this problem report. You can
delete your own text from the attached returned message.

                   The mail system

<vera@example.com>: host mx2.example.com[192.0.2.26] said: 550 5.1.1
    <vera@example.com>: Recipient address rejected: User unknown in local
    recipient table (in reply to RCPT TO command)

------ Undelivered message follows ------
Return-Path: <sales@window-shop.example>
"""
    + RETURNED
)

SENDMAIL = (
    """\
Return-Path: <>
From: Mail Delivery Subsystem <MAILER-DAEMON@relay.example.com>
To: <sales@window-shop.example>
Subject: Returned mail: see transcript for details
Date: Sat, 5 Dec 2026 10:00:00 GMT
Message-Id: <202612051000.0B5A0000012345@relay.example.com>
Auto-Submitted: auto-generated (failure)

The original message was received at Sat, 5 Dec 2026 09:59:58 GMT
from mail.window-shop.example [198.51.100.7]

   ----- The following addresses had permanent fatal errors -----
<vera@example.com>
    (reason: 550 5.1.1 <vera@example.com>... User unknown)

   ----- Transcript of session follows -----
... while talking to mx.example.com.:
>>> DATA
<<< 550 5.1.1 <vera@example.com>... User unknown
550 5.1.1 <vera@example.com>... User unknown
<<< 503 5.0.0 Need RCPT (recipient)

   ----- Original message follows -----

Return-Path: <sales@window-shop.example>
"""
    + RETURNED
)

EXCHANGE = (
    """\
Return-Path: <>
From: postmaster@example.com
To: sales@window-shop.example
Subject: Undeliverable: Offer
Date: Sat, 5 Dec 2026 10:00:00 +0000
Message-ID: <7a3c9e1b-aaaa-bbbb-cccc-0123456789ab@ex01.example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="X"

--X
Content-Type: text/plain; charset="us-ascii"

Your message did not reach some or all of the intended recipients.

      Subject:\tOffer
      Sent:\t05/12/2026 10:00

The following recipient(s) cannot be reached:

      vera@example.com on 05/12/2026 10:00
            The e-mail account does not exist at the organization this message was sent to.
            <ex01.example.com #5.1.1 smtp;550 5.1.1 RESOLVER.ADR.RecipNotFound; not found>

--X
Content-Type: message/rfc822

"""
    + RETURNED
    + "\n--X--\n"
)

GMAIL = (
    """\
Return-Path: <>
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: sales@window-shop.example
Subject: Delivery Status Notification (Failure)
Date: Sat, 05 Dec 2026 02:00:00 -0800
Message-ID: <5f1a2b3c.gmail-bounce@mx.google.com>

This is an automatically generated Delivery Status Notification

Delivery to the following recipient failed permanently:

     vera@example.com

Technical details of permanent failure:
Google tried to deliver your message, but it was rejected by the server for the recipient
domain example.com by mx.example.com. [192.0.2.25].

The error that the other server returned was:
550 5.1.1 <vera@example.com>: Recipient address rejected: User unknown

----- Original message -----

"""
    + RETURNED
)

GMAIL_DELAYED = """\
Return-Path: <>
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: sales@window-shop.example
Subject: Delivery Status Notification (Delay)
Date: Sat, 05 Dec 2026 02:00:00 -0800
Message-ID: <5f1a2b3d.gmail-delay@mx.google.com>

This is an automatically generated Delivery Status Notification

THIS IS A WARNING MESSAGE ONLY.

YOU DO NOT NEED TO RESEND YOUR MESSAGE.

Delivery to the following recipient has been delayed:

     vera@example.com

Message will be retried for 2 more day(s)

Technical details of temporary failure:
The recipient server did not accept our requests to connect.
[mx.example.com. 192.0.2.25: timed out]

----- Original message -----

Message-ID: {message_id}
Subject: Offer
"""

PERMANENT = {"exim": EXIM, "qmail": QMAIL, "postfix": POSTFIX, "sendmail": SENDMAIL,
             "exchange": EXCHANGE, "gmail": GMAIL}  # fmt: skip


def as_raw(sample: str, message_id: str) -> bytes:
    return sample.format(message_id=message_id).replace("\n", "\r\n").encode()


def sent_offer(owner, inbox, vera) -> Message:
    ours = message_send(actor=owner, mailbox=inbox, to=["vera@example.com"],
                        subject="Offer", text="Here.", person=vera)  # fmt: skip
    Message.objects.filter(pk=ours.pk).update(state=Message.SENT)
    return ours


def fetch(mailbox) -> int:
    mailbox.refresh_from_db()
    return fetching.fetch(mailbox)


@pytest.mark.parametrize("form", PERMANENT)
def test_a_permanent_failure_in_words_marks_our_message_and_the_address(
    form, inbox, dovecot, vera, owner
):
    ours = sent_offer(owner, inbox, vera)
    dovecot.append(IMAP_USER, as_raw(PERMANENT[form], ours.message_id))

    assert fetch(inbox) == 1

    ours.refresh_from_db()
    assert ours.state == Message.BOUNCED
    assert "vera@example.com: 5.1.1" in ours.error
    row = BouncingAddress.objects.get()
    assert (row.address, row.status) == ("vera@example.com", "5.1.1")
    report = Message.objects.get(direction=Message.IN)
    assert report.kind == Message.BOUNCE and report.person is None
    assert OutboxEvent.objects.filter(name="message.bounced").count() == 1
    assert not OutboxEvent.objects.filter(name="message.received").exists()
    assert not TimelineEvent.objects.filter(kind="email", data__direction="in").exists()


@pytest.mark.parametrize("sample", [EXIM_DELAYED, GMAIL_DELAYED], ids=["exim", "gmail"])
def test_a_delay_in_words_is_said_on_our_message_and_marks_nothing(
    sample, inbox, dovecot, vera, owner, client
):
    ours = sent_offer(owner, inbox, vera)
    dovecot.append(IMAP_USER, as_raw(sample, ours.message_id))

    assert fetch(inbox) == 1

    ours.refresh_from_db()
    assert ours.state == Message.SENT
    assert ours.error.startswith("Delayed, the mail server goes on trying: vera@example.com: 4.")
    assert not BouncingAddress.objects.exists()
    assert Message.objects.get(direction=Message.IN).kind == Message.BOUNCE
    assert not OutboxEvent.objects.filter(name__in=["message.bounced", "message.received"])
    client.force_login(owner)
    page = client.get(f"/mail/messages/{ours.pk}/").content.decode()
    assert "Delayed, the mail server goes on trying" in page


def test_the_exim_delay_says_the_servers_status(inbox, dovecot, vera, owner):
    ours = sent_offer(owner, inbox, vera)
    dovecot.append(IMAP_USER, as_raw(EXIM_DELAYED, ours.message_id))
    fetch(inbox)
    ours.refresh_from_db()
    assert "4.2.2" in ours.error and "Mailbox full" in ours.error


def test_a_text_bounce_of_a_mailing_marks_its_recipient_and_later_mailings_leave_it_out(
    owner, offer, segment, inbox, dovecot, sink
):
    person(owner, "Anna", "anna@example.com")
    person(owner, "Vera", "vera@example.com")
    mailing = mailing_start(actor=owner, mailing=make_mailing(owner, offer, segment, inbox))
    assert mailings.send(mailing.pk) == 2
    gone = Recipient.objects.get(mailing=mailing, address="vera@example.com")
    dovecot.append(IMAP_USER, as_raw(QMAIL, gone.message.message_id),
                   as_raw(EXIM_DELAYED, Recipient.objects.get(
                       mailing=mailing, address="anna@example.com").message.message_id
                   ).replace(b"vera@", b"anna@"))  # fmt: skip

    assert fetch(inbox) == 2

    assert mailing_counts(mailing)["bounced"] == 1 and mailing_counts(mailing)["sent"] == 1
    assert list(BouncingAddress.objects.values_list("address", flat=True)) == ["vera@example.com"]
    from accord.comms.services import audience

    later = audience(segment, owner)
    assert later.receive == 1 and later.left_out == {"bouncing": 1}


def test_a_client_who_writes_undeliverable_is_still_a_client(inbox, dovecot, vera):
    dovecot.append(
        IMAP_USER,
        mail(subject="Undeliverable: the parcel you sent",
             text="Hi, the courier says the windows could not be delivered: 550 problems."),
    )  # fmt: skip
    assert fetch(inbox) == 1
    (message,) = Message.objects.filter(direction=Message.IN)
    assert message.kind == Message.CLIENT and message.person == vera
    assert not BouncingAddress.objects.exists()
