"""Automation on received e-mail: "An e-mail is received" (from a client, from an unknown
address, containing words) and "Create a client from the sender"."""

import pytest

from accord.automation.models import Run
from accord.automation.services import rule_save
from accord.comms.models import Message
from accord.comms.services import message_receive
from accord.contacts.models import Person
from accord.core.timeline import timeline_of
from accord.work.models import Task
from tests.comms.conftest import mail

pytestmark = pytest.mark.django_db(transaction=True)


def email_rule(admin, name="On e-mail", options=None, actions=None):
    task = {
        "type": "create_task",
        "params": {
            "title": "Answer “{{ trigger.subject }}”",
            "kind": "email",
            "assignee": {"to": "owner"},
            "due_in": {"amount": 1, "unit": "hours"},
        },
    }
    return rule_save(actor=admin, data={
        "name": name, "subject": "person", "trigger": "email_received", "enabled": True,
        "trigger_options": options or {}, "actions": actions or [task],
    })  # fmt: skip


def test_a_stranger_becomes_a_client_with_a_task_to_answer(admin, mailbox):
    email_rule(admin, "Leads from e-mail", {"sender": "unknown"},
               [{"type": "client_from_sender", "params": {}},
                {"type": "create_task", "params": {
                    "title": "Answer {{ client.first_name }}: {{ trigger.subject }}",
                    "kind": "email", "assignee": {"to": "owner"},
                    "due_in": {"amount": 15, "unit": "minutes"}}}])  # fmt: skip
    message_receive(mailbox=mailbox, raw=mail(sender="Nina Berg <nina@new.example>",
                                              subject="Windows for a cottage"))  # fmt: skip
    nina = Person.objects.get()
    assert (nina.first_name, nina.last_name, nina.primary_email) == ("Nina", "Berg",
                                                                    "nina@new.example")  # fmt: skip
    message = Message.objects.get(direction=Message.IN)
    assert message.person == nina and message.conversation.person == nina
    assert timeline_of(nina, kinds=["email"]).count() == 1
    task = Task.objects.get()
    assert task.title == "Answer Nina: Windows for a cottage"
    assert task.person == nina
    run = Run.objects.get()
    assert run.status == Run.DONE and run.subject_id == nina.pk


def test_a_client_rule_does_not_fire_for_strangers_and_words_must_match(admin, mailbox, vera):
    email_rule(admin, "Complaints", {"sender": "client", "words": "broken, leak"})
    message_receive(mailbox=mailbox, raw=mail(sender="nobody@else.example", subject="Broken"))
    message_receive(mailbox=mailbox, raw=mail(subject="Thanks for the windows"))
    assert not Task.objects.exists()
    message_receive(mailbox=mailbox, raw=mail(subject="Help", text="The window has a LEAK."))
    task = Task.objects.get()
    assert task.person == vera and task.title == "Answer “Help”"
    # Nobody made a client of the stranger: their message waits, unmatched.
    assert Message.objects.filter(person=None, direction=Message.IN).count() == 1


def test_the_rule_reads_in_words_on_its_page(admin, client):
    rule = email_rule(admin, "Leads", {"sender": "unknown", "words": "offer"},
                      [{"type": "client_from_sender", "params": {}}])  # fmt: skip
    client.force_login(admin)
    page = client.get(f"/settings/automation/{rule.pk}/").content.decode()
    assert "An e-mail is received" in page
    assert "from an unknown address" in page and "offer" in page
    assert "Create a client from the sender" in page
