"""Receiving e-mail from a real IMAP server (dovecot): stored once, matched to clients,
threaded, our own mail, automatic replies and bounces told apart, the sync's state."""

import pytest
from django.utils import timezone

from accord.comms import fetching
from accord.comms.models import BouncingAddress, Mailbox, Message, MessageCopy
from accord.comms.queries import bouncing
from accord.comms.services import message_send
from accord.core.models import OutboxEvent, TimelineEvent
from accord.work.models import Notification
from tests.comms.conftest import IMAP_PASSWORD, IMAP_USER, mail, make_mailbox

pytestmark = pytest.mark.django_db


def fetch(mailbox) -> int:
    mailbox.refresh_from_db()
    return fetching.fetch(mailbox)


def received() -> list[Message]:
    return list(Message.objects.filter(direction=Message.IN).order_by("pk"))


def test_a_client_message_is_on_the_clients_timeline(inbox, dovecot, vera):
    dovecot.append(IMAP_USER, mail(subject="When can you measure?"))
    assert fetch(inbox) == 1
    (message,) = received()
    assert message.person == vera
    assert message.state == Message.RECEIVED
    assert message.from_address == "vera@example.com"
    assert message.conversation.person == vera
    entry = TimelineEvent.objects.get(kind="email", data__message_id=message.pk)
    assert entry.data["direction"] == "in"
    assert entry.data["subject"] == "When can you measure?"
    vera.refresh_from_db()
    assert vera.last_contact_at is not None
    event = OutboxEvent.objects.filter(name="message.received").latest("pk")
    assert event.payload["person_ids"] == [vera.pk]
    assert event.payload["unknown_sender"] is False


def test_a_message_fetched_twice_and_through_two_mailboxes_is_stored_once(
    admin, inbox, dovecot, sink, vera
):
    raw = mail(subject="Twice", message_id="<same-one@example.com>")
    dovecot.add_user("anna@window-shop.example", "anna-pass")
    dovecot.append(IMAP_USER, raw)
    dovecot.append("anna@window-shop.example", raw)
    anna = make_mailbox(
        admin, sink.port, name="Anna", address="anna@window-shop.example",
        imap_host="127.0.0.1", imap_port=dovecot.port, imap_security="none",
        imap_username="anna@window-shop.example", imap_password="anna-pass",
    )  # fmt: skip
    assert fetch(inbox) == 1
    assert fetch(anna) == 0
    Mailbox.objects.update(sync_last_uid=0)  # as if the position were lost: fetched again
    assert fetch(inbox) == 0
    assert Message.objects.filter(message_id="<same-one@example.com>").count() == 1
    assert MessageCopy.objects.count() == 2
    assert TimelineEvent.objects.filter(kind="email", subject_id=vera.pk).count() == 1


def test_a_changed_uidvalidity_fetches_again_without_duplicates(inbox, dovecot, vera):
    first, second = mail(subject="One"), mail(subject="Two")
    dovecot.append(IMAP_USER, first, second)
    assert fetch(inbox) == 2
    old = dovecot.uidvalidity(IMAP_USER)
    dovecot.recreate(IMAP_USER)
    dovecot.append(IMAP_USER, first, second, mail(subject="Three"))
    assert dovecot.uidvalidity(IMAP_USER) != old
    assert fetch(inbox) == 1
    assert sorted(m.subject for m in received()) == ["One", "Three", "Two"]
    inbox.refresh_from_db()
    assert inbox.sync_uidvalidity == dovecot.uidvalidity(IMAP_USER)
    assert set(MessageCopy.objects.values_list("uidvalidity", flat=True)) == {
        inbox.sync_uidvalidity
    }
    assert inbox.sync_fetched_total == 3


def test_nothing_new_fetches_nothing(inbox, dovecot, vera):
    dovecot.append(IMAP_USER, mail())
    assert fetch(inbox) == 1
    assert fetch(inbox) == 0
    inbox.refresh_from_db()
    assert inbox.sync_fetched_last == 0
    assert inbox.sync_fetched_total == 1
    assert inbox.synced_at is not None


def test_a_reply_to_a_message_accord_sent_joins_its_conversation(
    inbox, dovecot, vera, owner, pipeline
):
    from accord.sales.services import deal_create

    deal = deal_create(actor=owner, data={"title": "Windows", "person": vera,
                                          "pipeline": pipeline})  # fmt: skip
    ours = message_send(
        actor=owner, mailbox=inbox, to=["vera@example.com"], subject="Your offer",
        text="Here it is.", person=vera, deal=deal,
    )  # fmt: skip
    dovecot.append(
        IMAP_USER,
        mail(sender="Vera <vera.lang@work.example>", subject="AW: Your offer",
             headers={"In-Reply-To": ours.message_id, "References": ours.message_id}),
    )  # fmt: skip
    assert fetch(inbox) == 1
    (reply,) = received()
    assert reply.conversation_id == ours.conversation_id
    assert reply.in_reply_to == ours.message_id
    assert reply.deal == deal
    assert TimelineEvent.objects.filter(kind="email", subject_id=deal.pk,
                                        data__message_id=reply.pk).exists()  # fmt: skip


def test_a_reply_without_its_headers_joins_by_subject(inbox, dovecot, vera, owner):
    ours = message_send(actor=owner, mailbox=inbox, to=["vera@example.com"],
                        subject="Measurement on Friday", text="At ten.", person=vera)  # fmt: skip
    dovecot.append(IMAP_USER, mail(subject="Ответ: RE: Measurement on Friday"),
                   mail(subject="A new question"))  # fmt: skip
    assert fetch(inbox) == 2
    by_subject, new = received()
    assert by_subject.conversation_id == ours.conversation_id
    assert new.conversation_id != ours.conversation_id
    assert new.conversation.person == vera


def test_our_own_messages_and_automatic_replies_are_not_client_mail(inbox, dovecot, vera, owner):
    ours = message_send(actor=owner, mailbox=inbox, to=["vera@example.com"],
                        subject="Offer", text="Here.", person=vera)  # fmt: skip
    dovecot.append(
        IMAP_USER,
        mail(sender="sales@window-shop.example", to="vera@example.com", subject="Offer",
             message_id=ours.message_id),
        mail(sender="Sales <SALES@window-shop.example>", to="vera@example.com",
             subject="Written in my mail program"),
        mail(subject="Out of office", headers={"Auto-Submitted": "auto-replied"}),
        mail(subject="Away", headers={"X-Autoreply": "yes"}),
        mail(subject="Newsletter", headers={"Precedence": "bulk"}),
        mail(subject="Exchange away", headers={"X-Auto-Response-Suppress": "All"}),
    )  # fmt: skip
    assert fetch(inbox) == 5  # the first is the message Accord sent: stored already
    assert Message.objects.filter(message_id=ours.message_id).count() == 1
    kinds = [m.kind for m in received()]
    assert kinds == [Message.OWN] + [Message.AUTO_REPLY] * 4
    assert not TimelineEvent.objects.filter(kind="email", data__direction="in").exists()
    assert not OutboxEvent.objects.filter(name="message.received").exists()


BOUNCE = """\
From: Mail Delivery System <MAILER-DAEMON@mx.example.com>
To: sales@window-shop.example
Subject: Undelivered Mail Returned to Sender
Date: Sat, 05 Dec 2026 10:00:00 +0000
Message-ID: <bounce-1@mx.example.com>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822; Vera@Example.com
Original-Recipient: rfc822; vera@example.com
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <vera@example.com>: Recipient address rejected: User unknown

--B
Content-Type: text/rfc822-headers

From: sales@window-shop.example
To: vera@example.com
Subject: Offer
Message-ID: {message_id}

--B--
"""


def test_a_bounce_marks_our_message_and_the_address(inbox, dovecot, vera, owner, client):
    ours = message_send(actor=owner, mailbox=inbox, to=["vera@example.com"],
                        subject="Offer", text="Here.", person=vera)  # fmt: skip
    Message.objects.filter(pk=ours.pk).update(state=Message.SENT)
    report = BOUNCE.format(message_id=ours.message_id).replace("\n", "\r\n").encode()
    dovecot.append(IMAP_USER, report)
    assert fetch(inbox) == 1
    ours.refresh_from_db()
    assert ours.state == Message.BOUNCED
    assert "5.1.1" in ours.error and "User unknown" in ours.error
    assert received()[0].kind == Message.BOUNCE
    row = BouncingAddress.objects.get()
    assert (row.address, row.status) == ("vera@example.com", "5.1.1")
    assert bouncing(["VERA@example.com", "vera.lang@work.example"]) == {"vera@example.com"}
    # The client's timeline shows the message bounced, with the server's reason.
    client.force_login(owner)
    page = client.get(f"/clients/people/{vera.pk}/").content.decode()
    assert "Bounced" in page


def test_a_delayed_delivery_report_marks_nothing(inbox, dovecot, vera, owner):
    ours = message_send(actor=owner, mailbox=inbox, to=["vera@example.com"],
                        subject="Offer", text="Here.", person=vera)  # fmt: skip
    delayed = BOUNCE.replace("Action: failed", "Action: delayed").replace("5.1.1", "4.4.1")
    dovecot.append(IMAP_USER, delayed.format(message_id=ours.message_id).encode())
    assert fetch(inbox) == 1
    ours.refresh_from_db()
    assert ours.state == Message.QUEUED
    assert not BouncingAddress.objects.exists()


def test_an_unknown_sender_stays_an_unmatched_message_on_the_mailbox_page(
    inbox, dovecot, admin, client
):
    dovecot.append(IMAP_USER, mail(sender="Stranger <new@nowhere.example>", subject="Prices?"))
    assert fetch(inbox) == 1
    (message,) = received()
    assert message.person is None and message.company is None
    event = OutboxEvent.objects.filter(name="message.received").latest("pk")
    assert event.payload["unknown_sender"] is True
    client.force_login(admin)
    page = client.get(f"/settings/email/{inbox.pk}/").content.decode()
    assert "Prices?" in page and "new@nowhere.example" in page


def test_a_wrong_password_is_said_on_the_page_and_told_once(inbox, dovecot, admin, client):
    Mailbox.objects.filter(pk=inbox.pk).update(sync_due_at=None)
    dovecot.add_user(IMAP_USER, "changed")  # the password changed on the server
    assert fetch(inbox) == 0
    inbox.refresh_from_db()
    assert "refused the login" in inbox.sync_error
    assert inbox.sync_due_at > timezone.now()
    for _n in range(3):  # retried, failing again: nobody is told again
        Mailbox.objects.filter(pk=inbox.pk).update(sync_due_at=timezone.now())
        fetching.tick(timezone.now())
    inbox.refresh_from_db()
    assert inbox.sync_failures == 4
    notices = Notification.objects.filter(user=admin, kind=Notification.MAILBOX)
    assert notices.count() == 1
    client.force_login(admin)
    page = client.get(f"/settings/email/{inbox.pk}/").content.decode()
    assert "The server refused the login" in page
    assert "Authentication failed" in page  # the server's own words
    # It works again: one more notice, saying so.
    dovecot.add_user(IMAP_USER, IMAP_PASSWORD)
    Mailbox.objects.filter(pk=inbox.pk).update(sync_due_at=timezone.now())
    fetching.tick(timezone.now())
    inbox.refresh_from_db()
    assert inbox.sync_error == "" and inbox.sync_failures == 0
    assert notices.count() == 2
    assert notices.latest("pk").data["recovered"] is True


def test_an_unreachable_server_is_said_in_words(inbox):
    Mailbox.objects.filter(pk=inbox.pk).update(imap_port=1)
    assert fetch(inbox) == 0
    inbox.refresh_from_db()
    assert "refused the connection" in inbox.sync_error


def test_the_api_lists_received_mail_and_the_mailboxs_fetch_state(inbox, dovecot, vera, admin):
    from tests.comms.test_api import admin_api

    dovecot.append(IMAP_USER, mail(subject="Via the API"),
                   mail(subject="Away", headers={"Auto-Submitted": "auto-replied"}))  # fmt: skip
    assert fetch(inbox) == 2
    api = admin_api(admin)
    listed = api.get(f"/api/v1/messages?direction=in&kind=client&person={vera.pk}").json()
    assert [m["subject"] for m in listed["items"]] == ["Via the API"]
    item = listed["items"][0]
    assert (item["state"], item["direction"], item["kind"]) == ("received", "in", "client")
    assert item["conversation"] is not None
    assert [m["subject"] for m in api.get("/api/v1/messages?kind=auto").json()["items"]] == ["Away"]
    assert api.get("/api/v1/messages?kind=nonsense").status_code == 400
    body = api.get(f"/api/v1/mailboxes/{inbox.pk}")
    assert IMAP_PASSWORD not in body.content.decode()
    receiving = body.json()["receiving"]
    assert receiving["fetched_total"] == 2 and receiving["error"] == ""
    answer = api.post_json(f"/api/v1/mailboxes/{inbox.pk}/fetch", {})
    assert answer.status_code == 202
    assert answer.json()["receiving"]["next_fetch_at"] is not None


def test_fetch_now_on_the_page_brings_the_mail_in(inbox, dovecot, vera, admin, client, settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    dovecot.append(IMAP_USER, mail(subject="Fetched by the button"))
    client.force_login(admin)
    answer = client.post(f"/settings/email/{inbox.pk}/fetch/", follow=True)
    page = answer.content.decode()
    assert "Fetching new mail now" in page
    assert Message.objects.filter(subject="Fetched by the button").exists()


def test_the_mailbox_list_says_fetching_fails(inbox, admin, client):
    Mailbox.objects.filter(pk=inbox.pk).update(imap_port=1)
    fetch(inbox)
    client.force_login(admin)
    assert "fetching fails" in client.get("/settings/email/").content.decode()
