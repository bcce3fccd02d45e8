"""Conversations: a reply, a reply to all and a forward from Accord join the thread with
the headers a mail program threads by (read from what reaches the SMTP server), the
original's files go with a forward, and the Inbox's order, unread counts and assignment."""

import pytest

from accord.comms import delivery
from accord.comms.models import Conversation
from accord.comms.queries import INBOX_SORT, inbox, unread_of
from accord.comms.replies import subject_for
from accord.comms.services import (
    conversation_mark_read,
    message_reply,
    message_send,
)
from accord.core.pagination import keyset_page
from accord.core.timeline import timeline_of
from tests.comms.conftest import make_mailbox, receive
from tests.comms.test_sending import PDF


def first_message(owner, mailbox, vera, **extra):
    data = {
        "to": ["vera@example.com"],
        "subject": "Your offer",
        "text": "Hello Vera,\n\nhere it is.",
    }
    return message_send(actor=owner, mailbox=mailbox, person=vera, **{**data, **extra})


def test_a_reply_from_accord_threads_in_the_clients_mail_program(owner, mailbox, vera, sink):
    offer = first_message(owner, mailbox, vera)
    delivery.deliver_due()
    answer = receive(offer, text="Could you come on Monday?")

    reply = message_reply(
        actor=owner, original=answer, kind="reply", mailbox=mailbox, text="Monday it is.",
        quote=True,
    )  # fmt: skip
    delivery.deliver_due()

    assert len(sink) == 2
    sent = sink[1]
    assert sent["Subject"] == "Re: Your offer"  # not "Re: Re: Your offer"
    assert sent["To"] == "vera@example.com"
    assert sent["In-Reply-To"] == answer.message_id
    assert sent["References"].split() == [offer.message_id, answer.message_id]
    text = next(p for p in sent.walk() if p.get_content_type() == "text/plain")
    body = text.get_payload(decode=True).decode()
    assert body.startswith("Monday it is.") and "> Could you come on Monday?" in body
    assert "Vera Lang <vera@example.com> wrote:" in body
    conversation = Conversation.objects.get()
    assert reply.conversation == answer.conversation == offer.conversation == conversation
    assert conversation.message_count == 3 and not conversation.awaiting_reply
    [entry, *_] = timeline_of(vera, kinds=["email"])
    assert entry.data["conversation_id"] == conversation.pk
    assert entry.data["reply_to"] == answer.pk


@pytest.mark.parametrize(
    ("subject", "kind", "expected"),
    [
        ("Your offer", "reply", "Re: Your offer"),
        ("Re: Your offer", "reply", "Re: Your offer"),
        ("RE: Re[2]: AW: Your offer", "reply", "Re: Your offer"),
        ("Fwd: Your offer", "forward", "Fwd: Your offer"),
        ("Re: Your offer", "forward", "Fwd: Your offer"),
        ("Ответ: Предложение", "reply", "Re: Предложение"),
        ("Reply needed", "reply", "Re: Reply needed"),
    ],
)
def test_the_subject_carries_one_prefix(subject, kind, expected):
    assert subject_for(subject, kind) == expected


def test_reply_to_all_writes_to_everyone_but_us(admin, owner, mailbox, vera, sink):
    make_mailbox(admin, sink.port, name="Sam", address="sam@window-shop.example")
    offer = first_message(owner, mailbox, vera)
    answer = receive(
        offer,
        to=["sales@window-shop.example", "boss@example.com"],
        cc=["Sam@window-shop.example", "vera@example.com", "accountant@example.com"],
    )

    reply = message_reply(actor=owner, original=answer, kind="reply_all", mailbox=mailbox,
                          text="Noted.")  # fmt: skip

    assert reply.to == ["vera@example.com"]
    assert reply.cc == ["boss@example.com", "accountant@example.com"]
    assert reply.from_address == "sales@window-shop.example"


def test_a_forward_carries_the_originals_files(owner, mailbox, vera, sink):
    offer = first_message(owner, mailbox, vera)
    answer = receive(offer, text="The plan is attached.", files=[("plan.pdf", PDF)])

    forward = message_reply(
        actor=owner, original=answer, kind="forward", mailbox=mailbox,
        to=["measurer@window-shop.example"], text="Please look at this.", quote=True,
    )  # fmt: skip
    without = message_reply(
        actor=owner, original=answer, kind="forward", mailbox=mailbox,
        to=["measurer@window-shop.example"], text="Only the words.", keep_attachments=False,
    )  # fmt: skip
    delivery.deliver_due()

    assert forward.subject == "Fwd: Your offer"
    assert [file.name for file in forward.attachments.all()] == ["plan.pdf"]
    assert not without.attachments.exists()
    sent = next(m for m in sink if "Please look" in m.as_string())
    [pdf] = [p for p in sent.walk() if p.get_content_type() == "application/pdf"]
    assert pdf.get_filename() == "plan.pdf" and pdf.get_payload(decode=True) == PDF
    text = next(p for p in sent.walk() if p.get_content_type() == "text/plain")
    assert "Forwarded message" in text.get_payload(decode=True).decode()
    assert forward.conversation == answer.conversation


def test_the_client_waits_for_an_answer_and_the_thread_counts_unread(owner, mailbox, vera):
    offer = first_message(owner, mailbox, vera)
    conversation = offer.conversation
    assert conversation.assignee == owner  # the client's owner answers it
    assert not inbox(owner, "all").exists()  # nothing came in yet

    receive(offer, text="One question.")
    receive(offer, text="And another.")

    [row] = inbox(owner, "mine")
    assert row.awaiting_reply and row.unread == 2
    assert unread_of(owner) == 1
    conversation_mark_read(actor=owner, conversation=conversation)
    [row] = inbox(owner, "mine")
    assert row.unread == 0 and unread_of(owner) == 0
    message_reply(actor=owner, original=offer, kind="reply", mailbox=mailbox, text="Answers.")
    [row] = inbox(owner, "mine")
    assert not row.awaiting_reply


def test_waiting_conversations_come_first_then_the_latest(owner, mailbox, vera):
    old = first_message(owner, mailbox, vera, subject="Old")
    new = first_message(owner, mailbox, vera, subject="New")
    later = first_message(owner, mailbox, vera, subject="Later")
    receive(old)
    receive(later)
    answered = receive(new)
    message_reply(actor=owner, original=answered, kind="reply", mailbox=mailbox, text="Done.")

    first = keyset_page(inbox(owner, "all"), sort=INBOX_SORT, limit=2)
    rest = keyset_page(inbox(owner, "all"), sort=INBOX_SORT, cursor=first.next_cursor, limit=2)
    assert [row.subject for row in first.items] == ["Later", "Old"]  # waiting, newest first
    assert [row.subject for row in rest.items] == ["New"] and rest.next_cursor is None
