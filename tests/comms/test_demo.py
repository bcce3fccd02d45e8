"""The demo company writes e-mail too: a shared mailbox marked as a demo, and a year of
messages on the clients' and deals' timelines."""

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection

from accord.cli import main
from accord.comms.models import Mailbox, Message
from accord.core.models import TimelineEvent


@pytest.fixture(scope="module")
def demo_company(django_db_setup, django_db_blocker):
    """The demo loaded once for this file's tests in each test process (xdist's groups do
    not hold with pytest 9): they only read it, and what one writes is rolled back."""
    with django_db_blocker.unblock():
        assert main(["demo", "--if-empty"]) == 0
        yield
        # As a transactional test's end does: the ids go on from where they were, and the
        # search entries (SQLite's FTS5 table is no model) go with the rows.
        call_command("flush", interactive=False, verbosity=0, reset_sequences=False)
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM search_fts")
        cache.clear()


def test_the_demo_has_a_marked_mailbox_and_a_history_of_e_mails(demo_company, db):
    mailbox = Mailbox.objects.get()
    assert mailbox.is_shared and mailbox.is_default and "demo" in mailbox.name
    assert (mailbox.smtp_host, mailbox.smtp_port) == ("127.0.0.1", 1025)
    sent = Message.objects.filter(state=Message.SENT)
    assert sent.count() >= 20 and Message.objects.filter(state=Message.FAILED).exists()
    assert not Message.objects.filter(state=Message.QUEUED).exists()  # nothing for the worker
    message = sent.filter(deal__isnull=False).first()
    entries = TimelineEvent.objects.filter(kind="email", data__message_id=message.pk)
    assert entries.count() == 2  # the person's and the deal's
    assert {entry.occurred_at for entry in entries} == {message.created_at}


def test_the_demo_has_templates_a_finished_mailing_and_a_draft(demo_company, db):
    from accord.comms.models import EmailTemplate, Mailing, Recipient, Unsubscribe

    assert EmailTemplate.objects.filter(marketing=True).exists()
    assert EmailTemplate.objects.count() >= 3
    done = Mailing.objects.get(state=Mailing.DONE, template__tracked=False)
    states = set(Recipient.objects.filter(mailing=done).values_list("state", flat=True))
    assert {"sent", "skipped", "unsubscribed"} <= states
    assert Unsubscribe.objects.filter(mailing=done).count() == 2
    assert Mailing.objects.filter(state=Mailing.DRAFT).exists()


def test_the_demo_has_a_tracked_mailing_with_opens_and_clicks(demo_company, db):
    from accord.comms.models import EmailTemplate, LinkClick, Mailing
    from accord.comms.tracking import mailing_tracking

    template = EmailTemplate.objects.get(tracked=True)
    tracked = Mailing.objects.get(template=template, state=Mailing.DONE)
    counts = mailing_tracking(tracked)
    assert counts["sent"] > counts["opened"] > counts["clicked"] > 0
    assert LinkClick.objects.filter(message__mailing=tracked).exists()
    assert not Message.objects.filter(mailing=tracked, state=Message.QUEUED).exists()


def test_the_demo_has_replies_in_threads_and_mail_that_is_not_a_clients(demo_company, db):
    replies = Message.objects.filter(direction=Message.IN, kind=Message.CLIENT)
    threaded = replies.exclude(person=None)
    assert threaded.count() >= 10
    reply = threaded.first()
    asked = Message.objects.get(message_id=reply.in_reply_to)
    assert reply.conversation_id == asked.conversation_id and reply.person == asked.person
    assert TimelineEvent.objects.filter(kind="email", data__message_id=reply.pk).exists()
    assert replies.filter(person=None, company=None).exists()  # a stranger's question
    assert Message.objects.filter(kind=Message.AUTO_REPLY).exists()
    assert Message.objects.filter(state=Message.BOUNCED).exists()


def test_the_demo_clients_answer_some_wait_and_some_are_unread(demo_company, db):
    from accord.accounts.models import User
    from accord.comms.models import Conversation
    from accord.comms.queries import inbox, unread_of

    received = Message.objects.filter(direction=Message.IN)
    assert received.exists() and not received.exclude(state=Message.RECEIVED).exists()
    threads = Conversation.objects.filter(last_incoming_at__isnull=False)
    assert threads.filter(awaiting_reply=True).exists()  # waiting in the Inbox
    assert threads.filter(awaiting_reply=False, message_count__gte=3).exists()  # answered
    answered = threads.filter(awaiting_reply=False, message_count__gte=3).first()
    reply = answered.messages.order_by("created_at").last()
    assert reply.in_reply_to == answered.messages.get(direction=Message.IN).message_id
    assert threads.filter(assignee__isnull=True).exists()
    managers = User.objects.filter(pk__in=threads.values("assignee"))
    assert any(unread_of(user) for user in managers)  # someone has news
    assert all(inbox(user, "mine").exists() for user in managers)


def test_the_demo_has_a_pbx_with_talks_returned_missed_calls_and_new_ones_waiting(demo_company, db):
    from accord.comms.models import Call, Telephony
    from accord.work.models import Task

    pbx = Telephony.objects.get()
    assert "demo" in pbx.name and pbx.extensions.count() >= 2
    assert Call.objects.filter(state=Call.ENDED).count() >= 20
    returned = Call.objects.filter(state=Call.MISSED, returned_at__isnull=False)
    assert returned.exists()
    assert not Task.objects.filter(pk__in=returned.values("task_id"), status=Task.OPEN).exists()
    waiting = Call.objects.filter(state=Call.MISSED, returned_at__isnull=True)
    assert waiting.count() == 3
    assert Task.objects.filter(pk__in=waiting.values("task_id"), status=Task.OPEN).exists()
    new = Call.objects.get(provider_call_id="demo-new")
    assert new.person.kind == "lead" and new.person.source
    talk = Call.objects.filter(state=Call.ENDED, person__isnull=False).first()
    assert TimelineEvent.objects.filter(kind="call", data__call_id=talk.pk).exists()


def test_the_demo_has_messenger_and_sms_conversations_some_waiting_today(demo_company, db):
    from datetime import timedelta

    from django.utils import timezone

    from accord.comms import demo_chats
    from accord.comms.models import ChatEvent, Conversation, Messenger
    from accord.comms.services.chat_sending import window_open
    from accord.contacts.models import Person

    connections = Messenger.objects.all()
    assert {m.provider for m in connections} == {"telegram", "sms", "whatsapp"}
    assert all("demo" in m.name for m in connections)
    assert len(Messenger.objects.get(provider="whatsapp").templates) == 2
    chats = Conversation.objects.exclude(channel="email")
    assert set(chats.values_list("channel", flat=True)) == {"telegram", "sms", "whatsapp"}
    assert chats.count() >= 10
    # By number: the demo's clients; by Telegram: two strangers, now leads.
    assert not chats.filter(channel__in=["sms", "whatsapp"], person__isnull=True).exists()
    leads = Person.objects.filter(source="Telegram", kind="lead")
    assert leads.count() == 2
    assert chats.filter(channel="telegram", person__in=leads).count() == 2
    waiting = chats.filter(awaiting_reply=True)
    assert waiting.count() == 3
    assert all(c.last_incoming_at > timezone.now() - timedelta(hours=3) for c in waiting)
    assert any(not window_open(c) for c in chats.filter(channel="whatsapp"))  # templates only
    ours = Message.objects.filter(direction=Message.OUT, messenger__isnull=False)
    assert {"sent", "delivered", "read"} <= set(ours.values_list("state", flat=True))
    assert not ours.exclude(state__in=["sent", "delivered", "read"]).exists()  # none went out
    assert ours.filter(subject="order_ready").exists()  # a template, past the window
    answer = ours.exclude(author=None).first()
    assert TimelineEvent.objects.filter(kind="chat", data__message_id=answer.pk,
                                        occurred_at=answer.created_at).exists()  # fmt: skip
    assert not ChatEvent.objects.exclude(state=ChatEvent.DONE).exists()
    count = Message.objects.count()
    demo_chats.populate()  # a second run changes nothing
    assert Message.objects.count() == count and Messenger.objects.count() == 3
