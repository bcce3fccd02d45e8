"""Writing to a client: the checks (addresses, header injection, attachments by content),
the message on the person's and the deal's timelines at once, one message per click,
and who may see it (a 404 for anyone who may not see the client)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accord.accounts.models import Role
from accord.accounts.services import role_save, user_create
from accord.comms.models import Attachment, Message
from accord.comms.services import message_send
from accord.core.timeline import timeline_of
from accord.core.visibility import RECORD_TYPES
from accord.sales.services import deal_create
from tests.comms.test_sending import PDF
from tests.conftest import PASSWORD, log_in


def send(owner, mailbox, **data):
    values = {"to": "vera@example.com", "subject": "Offer", "text": "Hello"}
    return message_send(actor=owner, mailbox=mailbox, **{**values, **data})


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("subject", "Offer\r\nBcc: victim@example.com", "The subject cannot hold a line break."),
        ("to", "vera@example.com\nBcc: victim@example.com", "An address cannot hold a line break."),
        ("cc", ["ok@example.com", "x@example.com\r\nX: y"], "An address cannot hold a line break."),
        ("to", "not an address", "Not an e-mail address: not an address"),
        ("to", "", "Write to at least one address."),
        ("subject", "   ", "Write the subject."),
        ("text", "", "Write the message."),
    ],
)
def test_bad_input_is_refused_with_a_reason_and_nothing_is_stored(
    owner, mailbox, vera, field, value, error
):
    with pytest.raises(ValidationError) as refused:
        send(owner, mailbox, person=vera, **{field: value})
    assert refused.value.message_dict[field] == [error]
    assert not Message.objects.exists() and not timeline_of(vera, kinds=["email"]).exists()


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("offer.pdf", b"MZ\x90\x00" + b"\x00" * 60, "it is a Windows program"),
        ("photo.png", PDF, "its content is PDF, but its name ends in “.png”"),
        ("tool.bin", b"\x00\x01\x02\x03binary", "its kind is not one Accord sends"),
    ],
)
def test_an_attachment_is_checked_by_its_content(owner, mailbox, vera, name, content, reason):
    with pytest.raises(ValidationError) as refused:
        send(owner, mailbox, person=vera, attachments=[SimpleUploadedFile(name, content)])
    [message] = refused.value.message_dict["attachments"]
    assert message.startswith(f"“{name}” is refused: ") and reason in message
    assert not Attachment.objects.exists()


def test_attachments_over_the_size_limit_are_refused(owner, mailbox, vera, settings):
    settings.ACCORD_EMAIL_ATTACHMENTS_MB = 1
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * (1024 * 1024))
    with pytest.raises(ValidationError) as refused:
        send(owner, mailbox, person=vera, attachments=[big])
    [problem] = refused.value.message_dict["attachments"]
    assert (
        problem == "Together the attachments weigh 1.0\xa0MB: over the 1 MB one e-mail may carry."
    )


def test_the_message_is_on_the_clients_and_the_deals_timeline_at_once(owner, mailbox, vera, stages):
    deal = deal_create(actor=owner, data={"title": "Balcony", "person": vera})
    message = send(owner, mailbox, deal=deal, person=vera, subject="Your balcony")
    for record in (vera, deal):
        [entry] = timeline_of(record, kinds=["email"])
        assert entry.data["message_id"] == message.pk and entry.data["subject"] == "Your balcony"
        assert entry.data["to"] == ["vera@example.com"] and entry.actor == owner


def test_html_is_sanitised_on_the_way_in(owner, mailbox, vera):
    message = send(
        owner, mailbox, person=vera, text="",
        html='<p onclick="x()">Hi <script>alert(1)</script><a href="javascript:x">a</a>'
             '<img src="https://tracker.example/p.gif"><b>bold</b></p>',
    )  # fmt: skip
    assert "script" not in message.html and "onclick" not in message.html
    assert "javascript" not in message.html and "img" not in message.html
    assert "<b>bold</b>" in message.html and message.text == "Hi abold"


def test_the_same_key_twice_is_one_message(owner, mailbox, vera):
    first = send(owner, mailbox, person=vera, idempotency_key="web:1:abc")
    again = send(owner, mailbox, person=vera, idempotency_key="web:1:abc")
    assert first.pk == again.pk and Message.objects.count() == 1
    assert timeline_of(vera, kinds=["email"]).count() == 1


def test_one_may_send_only_from_shared_mailboxes_and_ones_own(admin, owner, vera, sink):
    from tests.comms.conftest import make_mailbox

    someone = user_create(email="sam@example.com", password=PASSWORD, role="manager")
    sams = make_mailbox(admin, sink.port, address="sam@window-shop.example", owner=someone)
    with pytest.raises(ValidationError) as refused:
        send(owner, sams, person=vera)
    assert refused.value.message_dict["mailbox"] == ["You may not send from this mailbox."]


@pytest.fixture
def outsider(admin):
    access = {kind: {"read": "own", "write": "own"} for kind in RECORD_TYPES}
    role_save(actor=admin, name="Own only", access=access, capabilities=[])
    role = Role.objects.get(name="Own only")
    return user_create(email="otto@example.com", password=PASSWORD, role=role.slug)


def test_who_may_not_see_the_client_gets_404_for_its_messages(owner, mailbox, vera, outsider, sink):
    message = send(owner, mailbox, person=vera, attachments=[SimpleUploadedFile("a.pdf", PDF)])
    client = Client()
    assert log_in(client, outsider.email)
    for url in (
        f"/mail/messages/{message.pk}/",
        f"/mail/messages/{message.pk}/state/",
        f"/mail/files/{message.attachments.get().pk}/",
        f"/mail/new/?person={vera.pk}",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/mail/messages/{message.pk}/retry/").status_code == 404
    with pytest.raises(PermissionDenied):
        send(outsider, mailbox, person=vera)
    seer = Client()
    assert log_in(seer, owner.email)
    assert seer.get(f"/mail/messages/{message.pk}/").status_code == 200
    download = seer.get(f"/mail/files/{message.attachments.get().pk}/")
    assert b"".join(download.streaming_content) == PDF


@pytest.mark.django_db(transaction=True)
def test_erasing_a_person_erases_what_was_written_to_them(admin, owner, mailbox, vera, stages):
    from accord.contacts.services import person_erase

    deal = deal_create(actor=owner, data={"title": "Balcony", "person": vera})
    message = send(owner, mailbox, person=vera, deal=deal, subject="Your balcony, Vera",
                   attachments=[SimpleUploadedFile("a.pdf", PDF)])  # fmt: skip
    path = message.attachments.get().file.path
    person_erase(actor=admin, person=vera)
    message.refresh_from_db()
    assert (message.to, message.subject, message.text) == ([], "Erased on request", "")
    assert not Attachment.objects.exists() and not __import__("os").path.exists(path)
    [entry] = timeline_of(deal, kinds=["email"])
    assert entry.data["subject"] == "Erased on request" and entry.data["to"] == []
