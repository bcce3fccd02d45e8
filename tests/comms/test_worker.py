"""The click only queues: a worker sends the message, from the database queue or from
Redis (django_tasks_rq), through the `send_message` task."""

import pytest
import redis
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from accord.comms.models import Message
from accord.comms.services import message_send
from accord.core import periodic

pytestmark = pytest.mark.django_db(transaction=True)
REDIS_URL = "redis://127.0.0.1:6379/7"  # a database of its own


@pytest.fixture
def only_the_task(monkeypatch):
    # The worker's periodic pass would send the message too; these tests prove the task does.
    monkeypatch.setattr(periodic, "JOBS", [])


def write(owner, mailbox, vera) -> Message:
    return message_send(actor=owner, mailbox=mailbox, person=vera, to="vera@example.com",
                        subject="Your offer", text="Hello")  # fmt: skip


def test_the_database_queue_worker_sends_it(owner, mailbox, vera, sink, only_the_task):
    message = write(owner, mailbox, vera)
    [job] = DBTaskResult.objects.all()
    assert job.task_path == "accord.comms.tasks.send_message" and job.args_kwargs["args"] == [
        message.pk
    ]
    assert sink == []
    call_command("worker", batch=True, verbosity=0)
    message.refresh_from_db()
    assert message.state == Message.SENT and len(sink) == 1


def test_the_redis_worker_sends_it(owner, mailbox, vera, sink, only_the_task, settings):
    settings.RQ_QUEUES = {"default": {"URL": REDIS_URL}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    try:
        message = write(owner, mailbox, vera)
        assert not DBTaskResult.objects.exists() and sink == []
        call_command("worker", batch=True, verbosity=0)
        message.refresh_from_db()
        assert message.state == Message.SENT and len(sink) == 1
    finally:
        connection = redis.Redis.from_url(REDIS_URL)
        for key in connection.scan_iter("rq:*"):
            connection.delete(key)


def test_a_started_mailing_is_sent_by_the_worker_pass_after_pass(
    admin, owner, mailbox, sink, only_the_task, monkeypatch
):
    from accord.comms import mailings
    from accord.comms.models import Mailing
    from accord.comms.services import mailing_save, mailing_start, template_save
    from accord.contacts.services import person_create, segment_save

    for index in range(3):
        person_create(actor=owner, data={"first_name": f"P{index}", "tags": ["news"],
                                         "emails": [f"p{index}@example.com"],
                                         "marketing_consent": True})  # fmt: skip
    offer = template_save(actor=admin, name="Offer", subject="Offer", html="<p>Hi</p>",
                          marketing=True)  # fmt: skip
    segment = segment_save(actor=owner, name="News", record_type="person", filters={"tag": "news"})
    mailing = mailing_save(actor=owner, name="May", template=offer, segment=segment,
                           mailbox=mailbox)  # fmt: skip
    monkeypatch.setattr(mailings, "BATCH", 1)  # a pass of one message...
    monkeypatch.setattr(mailings, "PASS_SECONDS", 0.0)  # ...that is out of time at once
    mailing_start(actor=owner, mailing=mailing)
    assert DBTaskResult.objects.get().task_path == "accord.comms.tasks.send_mailing"

    call_command("worker", batch=True, verbosity=0)

    assert sorted(message["To"] for message in sink) == [
        "p0@example.com", "p1@example.com", "p2@example.com",
    ]  # fmt: skip
    assert Mailing.objects.get().state == Mailing.DONE
