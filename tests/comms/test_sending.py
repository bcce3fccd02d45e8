"""Sending through a real SMTP server: queued → sent with the right headers and parts,
temporary failures retried with back-off, permanent ones failed with the server's reason,
and nothing sent twice when the worker dies mid-way."""

from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accord.comms import delivery
from accord.comms.models import Message
from accord.comms.services import message_retry, message_send
from accord.core.models import OutboxEvent
from tests.comms.conftest import make_mailbox

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def write(owner, mailbox, person, **extra):
    data = {
        "to": ["vera@example.com"],
        "subject": "Your offer",
        "text": "Hello Vera,\n\nhere it is.",
    }
    return message_send(actor=owner, mailbox=mailbox, person=person, **{**data, **extra})


def test_a_message_is_queued_at_once_and_the_worker_sends_it(owner, mailbox, vera, sink):
    message = write(
        owner, mailbox, vera,
        cc=["boss@example.com"], bcc=["archive@window-shop.example"],
        attachments=[SimpleUploadedFile("offer.pdf", PDF)],
    )  # fmt: skip
    assert message.state == Message.QUEUED and sink == []

    assert delivery.deliver_due() == 1

    message.refresh_from_db()
    assert message.state == Message.SENT and message.sent_at is not None
    [received] = sink
    assert received["From"] == "Window Shop <sales@window-shop.example>"
    assert received["To"] == "vera@example.com" and received["Cc"] == "boss@example.com"
    assert received["Bcc"] is None  # only the envelope carries it
    assert sorted(sink.envelopes[0]) == [
        "archive@window-shop.example", "boss@example.com", "vera@example.com",
    ]  # fmt: skip
    assert received["Message-ID"] == message.message_id
    assert message.message_id.endswith("@window-shop.example>")
    parts = {part.get_content_type(): part for part in received.walk()}
    assert "Hello Vera," in parts["text/plain"].get_payload(decode=True).decode()
    assert "<p>Hello Vera,</p>" in parts["text/html"].get_payload(decode=True).decode()
    assert parts["application/pdf"].get_filename() == "offer.pdf"
    assert parts["application/pdf"].get_payload(decode=True) == PDF
    mailbox.refresh_from_db()
    assert mailbox.last_sent_at == message.sent_at
    assert OutboxEvent.objects.filter(name="message.sent", payload__message_id=message.pk).exists()
    vera.refresh_from_db()
    assert vera.last_contact_at == message.sent_at  # an e-mail is contact with the client


def test_several_messages_of_a_mailbox_go_over_one_connection(owner, mailbox, vera, sink):
    for n in range(3):
        write(owner, mailbox, vera, subject=f"Offer {n}")
    delivery.deliver_due()
    assert len(sink) == 3 and sink.connections == 1


def test_a_temporary_refusal_is_retried_later_and_then_goes(
    admin, owner, vera, smtp_factory, settings
):
    busy = smtp_factory(data_answer="451 4.3.0 Mailbox busy, try later")
    mailbox = make_mailbox(admin, busy.port)
    message = write(owner, mailbox, vera)
    now = timezone.now()

    delivery.deliver_due(now)

    message.refresh_from_db()
    assert message.state == Message.QUEUED and message.attempts == 1
    assert (
        message.error == "The server did not accept the message: 451 4.3.0 Mailbox busy, try later"
    )
    assert message.due_at == pytest.approx(now + timedelta(minutes=1), abs=timedelta(seconds=5))
    assert delivery.deliver_due(now) == 0  # not before its wait is over
    working = smtp_factory()
    Message.objects.filter(pk=message.pk).update(mailbox=make_mailbox(admin, working.port,
                                                 address="second@window-shop.example"))  # fmt: skip
    assert delivery.deliver_due(now + timedelta(minutes=2)) == 1
    message.refresh_from_db()
    assert message.state == Message.SENT and message.attempts == 2 and len(working) == 1


def test_a_server_away_is_retried_with_back_off_until_it_fails(admin, owner, vera):
    mailbox = make_mailbox(admin, 9)  # the discard port: nothing listens on it
    message = write(owner, mailbox, vera)
    moment = timezone.now()
    waits = []
    for _try in range(6):
        with time_machine.travel(moment, tick=False):
            delivery.deliver_due()
        message.refresh_from_db()
        if message.state != Message.QUEUED:
            break
        waits.append(message.due_at - moment)
        moment = message.due_at
    assert [round(wait.total_seconds() / 60) for wait in waits] == [1, 5, 15, 60, 240]
    assert message.state == Message.FAILED and message.attempts == 6
    assert "refused the connection" in message.error and "127.0.0.1:9" in message.error
    assert OutboxEvent.objects.filter(
        name="message.failed", payload__message_id=message.pk
    ).exists()
    mailbox.refresh_from_db()
    assert "refused the connection" in mailbox.last_error and mailbox.last_sent_at is None


def test_a_permanent_refusal_fails_at_once_with_the_servers_reason(
    admin, owner, vera, smtp_factory
):
    strict = smtp_factory(
        rcpt_answers={"vera@example.com": "550 5.1.1 <vera@example.com>: no such user"}
    )
    message = write(owner, make_mailbox(admin, strict.port), vera)
    delivery.deliver_due()
    message.refresh_from_db()
    assert message.state == Message.FAILED and message.attempts == 1
    assert message.error == (
        "The server refused every recipient: vera@example.com: 550 5.1.1 "
        "<vera@example.com>: no such user"
    )
    event = OutboxEvent.objects.get(name="message.failed")
    assert event.payload["reason"] == message.error and event.payload["person_id"] == vera.pk


def test_a_refused_recipient_among_others_is_noted_on_the_sent_message(
    admin, owner, vera, smtp_factory
):
    strict = smtp_factory(rcpt_answers={"gone@example.com": "550 5.1.1 No such user"})
    message = write(owner, make_mailbox(admin, strict.port), vera,
                    to=["vera@example.com", "gone@example.com"])  # fmt: skip
    delivery.deliver_due()
    message.refresh_from_db()
    assert message.state == Message.SENT and strict.envelopes == [["vera@example.com"]]
    assert message.error == "Not delivered to gone@example.com: 550 5.1.1 No such user"


def test_a_refused_login_fails_with_the_servers_words(admin, owner, vera, smtp_factory):
    guarded = smtp_factory(users={"sales": "right-password"})
    mailbox = make_mailbox(admin, guarded.port, smtp_username="sales", smtp_password="wrong")
    message = write(owner, mailbox, vera)
    delivery.deliver_due()
    message.refresh_from_db()
    assert message.state == Message.FAILED
    assert message.error.startswith("The server refused the login: 535")
    assert guarded == []
    mailbox_ok = make_mailbox(admin, guarded.port, address="ok@window-shop.example",
                              smtp_username="sales", smtp_password="right-password")  # fmt: skip
    good = write(owner, mailbox_ok, vera)
    delivery.deliver_due()
    good.refresh_from_db()
    assert good.state == Message.SENT and len(guarded) == 1


def test_tls_on_a_plain_server_fails_saying_so(admin, owner, vera, sink):
    message = write(owner, make_mailbox(admin, sink.port, smtp_security="tls"), vera)
    delivery.deliver_due()
    message.refresh_from_db()
    assert message.state == Message.FAILED
    assert message.error.startswith("The secure connection to 127.0.0.1:")
    plain = write(owner, make_mailbox(admin, sink.port, smtp_security="starttls",
                                      address="b@window-shop.example"), vera)  # fmt: skip
    delivery.deliver_due()
    plain.refresh_from_db()
    assert plain.state == Message.FAILED and "does not offer STARTTLS" in plain.error


class WorkerKilled(BaseException):
    """The worker process dies (a SIGKILL, the machine off): nothing runs after it."""


def test_a_worker_killed_between_sending_and_recording_never_sends_twice(
    owner, mailbox, vera, sink, monkeypatch
):
    message = write(owner, mailbox, vera)

    def die(**kwargs):
        raise WorkerKilled

    with monkeypatch.context() as patched:
        patched.setattr(delivery, "message_sent", die)
        with pytest.raises(WorkerKilled):
            delivery.deliver_due()
    assert len(sink) == 1  # the server has it; Accord did not get to write that down

    now = timezone.now()
    for minutes in (0, 1, 5, 14):  # other workers' passes, and the same again
        delivery.tick(now + timedelta(minutes=minutes))
    message.refresh_from_db()
    assert message.state == Message.SENDING and len(sink) == 1

    delivery.tick(now + timedelta(minutes=16))  # the worker is taken for dead
    message.refresh_from_db()
    assert message.state == Message.FAILED and message.maybe_sent
    assert message.error.startswith("Sending was interrupted")
    delivery.tick(now + timedelta(hours=5))
    assert len(sink) == 1

    message_retry(actor=owner, message=message)  # a person checked and sends it again
    delivery.deliver_due()
    message.refresh_from_db()
    assert message.state == Message.SENT and len(sink) == 2
    assert sink[0]["Message-ID"] == sink[1]["Message-ID"]  # mail programs see one message


def test_a_connection_lost_while_the_message_goes_over_is_not_retried_by_itself(
    admin, owner, vera, smtp_factory
):
    flaky = smtp_factory(vanish_after_data=True)
    message = write(owner, make_mailbox(admin, flaky.port), vera)
    delivery.deliver_due()
    message.refresh_from_db()
    assert message.state == Message.FAILED and message.maybe_sent
    assert "it may have gone out" in message.error
    delivery.tick(timezone.now() + timedelta(hours=5))
    assert len(flaky) == 1


def test_two_workers_never_take_the_same_message(owner, mailbox, vera, sink):
    message = write(owner, mailbox, vera)
    first = delivery.claim(timezone.now())
    second = delivery.claim(timezone.now())
    assert [m.pk for m in first] == [message.pk] and second == []
    delivery.deliver(first)
    assert len(sink) == 1


def test_retry_by_hand_only_for_a_failed_message(owner, mailbox, vera):
    from django.core.exceptions import ValidationError

    message = write(owner, mailbox, vera)
    with pytest.raises(ValidationError):
        Message.objects.filter(pk=message.pk).update(state=Message.SENT)
        message.refresh_from_db()
        message.state = Message.FAILED  # as the page last showed it
        message_retry(actor=owner, message=message)
