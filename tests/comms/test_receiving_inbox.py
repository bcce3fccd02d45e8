"""Received mail in the Inbox, through a real IMAP server: a fetched batch counts in its
conversations, the client waits for an answer, a message that arrives late changes
neither the order nor the news, a conversation nobody answers goes to its client's owner,
and each message says `conversation.waiting`."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accord.comms import fetching
from accord.comms.models import Conversation, Message
from accord.comms.queries import INBOX_SORT, unread_of
from accord.comms.queries import inbox as box_of
from accord.comms.services import conversation_assign, conversation_mark_read, message_reply
from accord.comms.services import message_send as send
from accord.comms.services.receiving import Fetched, messages_receive
from accord.contacts.services import person_create
from accord.core.models import OutboxEvent
from tests.comms.conftest import IMAP_USER, mail

pytestmark = pytest.mark.django_db
MORNING = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def at(hours: float) -> datetime:
    return MORNING + timedelta(hours=hours)


def fetch(mailbox) -> int:
    mailbox.refresh_from_db()
    return fetching.fetch(mailbox)


def answer_to(message, *, date, text="A question", subject=None):
    return mail(
        subject=subject or f"Re: {message.subject}", text=text, date=date,
        headers={"In-Reply-To": message.message_id, "References": message.message_id},
    )  # fmt: skip


def offer(owner, inbox_mailbox, vera, subject="Your offer"):
    return send(actor=owner, mailbox=inbox_mailbox, person=vera, to=["vera@example.com"],
                subject=subject, text="Here it is.")  # fmt: skip


def waiting_events() -> list[dict]:
    rows = OutboxEvent.objects.filter(name="conversation.waiting").order_by("pk")
    return [row.payload for row in rows]


def test_a_fetched_batch_counts_in_each_conversation_and_the_client_waits(
    inbox, dovecot, vera, owner
):
    with time_machine.travel(at(0), tick=False):
        ours = offer(owner, inbox, vera)
    # One fetch, one batch: the later answer first in the folder, then an earlier one,
    # and a new question on a subject of its own.
    dovecot.append(IMAP_USER, answer_to(ours, date=at(2), text="Second"),
                   answer_to(ours, date=at(1), text="First"),
                   mail(subject="Another matter", date=at(1.5)))  # fmt: skip
    with time_machine.travel(at(3), tick=False):
        assert fetch(inbox) == 3

    thread = Conversation.objects.get(pk=ours.conversation_id)
    assert thread.message_count == 3 and thread.awaiting_reply
    assert thread.last_message_at == at(2) and thread.last_incoming_at == at(2)
    new = Conversation.objects.exclude(pk=thread.pk).get()
    assert new.subject == "Another matter" and new.message_count == 1 and new.awaiting_reply
    assert new.last_incoming_at == at(1.5) and new.assignee == owner  # the client's owner
    rows = box_of(owner, "mine").order_by(*INBOX_SORT.split(","))  # the Inbox's order
    assert [(row.subject, row.unread) for row in rows] == [("Your offer", 2),
                                                           ("Another matter", 1)]  # fmt: skip
    assert unread_of(owner) == 2
    received = {m.pk: m.conversation_id for m in Message.objects.filter(direction=Message.IN)}
    assert waiting_events() == [
        {"conversation_id": cid, "message_id": pk, "assignee_id": owner.pk}
        for pk, cid in sorted(received.items())
    ]


def test_a_message_that_arrives_late_hides_no_news_and_moves_nothing_back(
    inbox, dovecot, vera, owner
):
    with time_machine.travel(at(0), tick=False):
        ours = offer(owner, inbox, vera)
    dovecot.append(IMAP_USER, answer_to(ours, date=at(1), text="First"))
    with time_machine.travel(at(1.1), tick=False):
        fetch(inbox)
    with time_machine.travel(at(1.2), tick=False):  # Olivia reads it
        conversation_mark_read(actor=owner, conversation=ours.conversation)
    dovecot.append(IMAP_USER, answer_to(ours, date=at(2), text="News"))
    with time_machine.travel(at(2.1), tick=False):
        fetch(inbox)
    assert unread_of(owner) == 1
    # A message written in the morning, held by a server, comes in after the news.
    dovecot.append(IMAP_USER, answer_to(ours, date=at(0.5), text="Held up"))
    with time_machine.travel(at(3), tick=False):
        fetch(inbox)

    thread = Conversation.objects.get(pk=ours.conversation_id)
    assert thread.message_count == 4 and thread.awaiting_reply
    assert thread.last_message_at == at(2) and thread.last_incoming_at == at(2)
    assert unread_of(owner) == 1  # the news is still news
    [row] = box_of(owner, "mine")
    assert row.unread == 1


def test_a_late_message_does_not_make_an_answered_conversation_wait(inbox, dovecot, vera, owner):
    with time_machine.travel(at(0), tick=False):
        ours = offer(owner, inbox, vera)
    dovecot.append(IMAP_USER, answer_to(ours, date=at(1)))
    with time_machine.travel(at(1.1), tick=False):
        fetch(inbox)
        question = Message.objects.get(direction=Message.IN)
    with time_machine.travel(at(2), tick=False):
        message_reply(actor=owner, original=question, kind="reply", mailbox=inbox,
                      text="Answered.")  # fmt: skip
    dovecot.append(IMAP_USER, answer_to(ours, date=at(0.5), text="Written before your answer"))
    with time_machine.travel(at(3), tick=False):
        fetch(inbox)

    thread = Conversation.objects.get(pk=ours.conversation_id)
    assert thread.message_count == 4 and not thread.awaiting_reply
    assert thread.last_message_at == at(2) and thread.last_incoming_at == at(1)


def test_a_conversation_nobody_answers_goes_to_the_clients_owner_and_a_given_one_stays(
    inbox, dovecot, vera, owner, admin
):
    nobodys = offer(owner, inbox, vera, subject="Nobody's")
    conversation_assign(actor=owner, conversation=nobodys.conversation, assignee=None)
    given = offer(owner, inbox, vera, subject="Given")
    conversation_assign(actor=owner, conversation=given.conversation, assignee=admin)
    karl = person_create(actor=admin, data={"first_name": "Karl", "emails": ["karl@example.com"]})
    dovecot.append(IMAP_USER, answer_to(nobodys, date=None), answer_to(given, date=None),
                   mail(sender="karl@example.com", subject="Hello"))  # fmt: skip
    fetch(inbox)

    by_subject = {c.subject: c for c in Conversation.objects.all()}
    assert by_subject["Nobody's"].assignee == owner
    assert by_subject["Given"].assignee == admin
    assert by_subject["Hello"].assignee == admin and by_subject["Hello"].person == karl
    assignees = {e["conversation_id"]: e["assignee_id"] for e in waiting_events()}
    assert assignees == {by_subject["Nobody's"].pk: owner.pk, by_subject["Given"].pk: admin.pk,
                         by_subject["Hello"].pk: admin.pk}  # fmt: skip
    assert box_of(admin, "unassigned").count() == 0


def test_a_batch_costs_as_many_statements_for_twenty_conversations_as_for_two(inbox, vera, owner):
    def batch(size: int) -> int:
        with time_machine.travel(at(0), tick=False):
            sent = [offer(owner, inbox, vera, subject=f"Offer {size}.{n}") for n in range(size)]
        fetched = [Fetched(answer_to(message, date=at(1))) for message in sent]
        with time_machine.travel(at(2), tick=False), CaptureQueriesContext(connection) as done:
            messages_receive(mailbox=inbox, fetched=fetched)
        return len(done)

    batch(1)  # what a process reads once (content types, caches) is read here
    assert batch(2) == batch(20)
    assert Conversation.objects.filter(awaiting_reply=True, message_count=2).count() == 23
