"""The sent folder of a mailbox, fetched from a real IMAP server (dovecot): what a user
writes to a client from their own mail program reaches the client's timeline as sent
mail, threaded with the rest, stored once, and it answers the client in the Inbox."""

import pytest

from accord.comms import fetching
from accord.comms.models import Conversation, Mailbox, Message, MessageCopy
from accord.comms.services import message_send
from accord.core.models import OutboxEvent, TimelineEvent
from tests.comms.conftest import IMAP_USER, mail, make_mailbox

pytestmark = pytest.mark.django_db


def fetch(mailbox) -> int:
    mailbox.refresh_from_db()
    return fetching.fetch(mailbox)


def written(**data) -> bytes:
    """A message as a user's mail program keeps it in Sent: from the mailbox, to a client."""
    return mail(**{"sender": "Window Shop <sales@window-shop.example>",
                   "to": "Vera Lang <vera@example.com>", **data})  # fmt: skip


def test_mail_written_in_a_mail_program_is_on_the_clients_timeline_as_sent(
    inbox, dovecot, vera, admin, client
):
    dovecot.append(IMAP_USER, written(subject="Your measurement on Friday"), folder="Sent")

    assert fetch(inbox) == 1

    (message,) = Message.objects.all()
    assert (message.direction, message.state, message.kind) == ("out", "sent", "")
    assert message.person == vera and message.conversation.person == vera
    assert message.conversation.awaiting_reply is False
    assert message.conversation.last_incoming_at is None  # not in the Inbox: nobody wrote in
    entry = TimelineEvent.objects.get(kind="email", subject_id=vera.pk)
    assert entry.data["direction"] == "out" and entry.data["to"] == ["vera@example.com"]
    vera.refresh_from_db()
    assert vera.last_contact_at == message.created_at
    assert not OutboxEvent.objects.filter(name="message.received").exists()
    assert OutboxEvent.objects.get(name="message.sent").payload["fetched"] is True
    assert MessageCopy.objects.get().folder == "Sent"
    client.force_login(admin)
    page = client.get(f"/settings/email/{inbox.pk}/").content.decode()
    assert "Folders fetched" in page and "mail sent from a mail program" in page
    card = client.get(f"/clients/people/{vera.pk}/").content.decode()
    assert "Your measurement on Friday" in card


def test_mail_written_to_someone_who_is_not_a_client_stays_out_of_accord(inbox, dovecot, vera):
    """A user's own mailbox holds mail to friends and suppliers too: only what goes to a
    client (or answers a client's thread) is kept; the rest is not even counted."""
    dovecot.append(IMAP_USER, written(to="Tom <tom@friends.example>", subject="Beer on Friday?"),
                   folder="Sent")  # fmt: skip
    dovecot.append(IMAP_USER, written(subject="Your measurement"), folder="Sent")

    assert fetch(inbox) == 1
    assert list(Message.objects.values_list("subject", flat=True)) == ["Your measurement"]
    assert MessageCopy.objects.count() == 1
    assert fetch(inbox) == 0  # and not taken again


def test_an_answer_from_the_mail_program_joins_the_thread_and_the_client_waits_no_more(
    inbox, dovecot, vera
):
    question = mail(subject="When can you measure?", message_id="<q-1@example.com>")
    dovecot.append(IMAP_USER, question)
    assert fetch(inbox) == 1
    conversation = Conversation.objects.get()
    assert conversation.awaiting_reply is True

    dovecot.append(
        IMAP_USER,
        written(subject="Re: When can you measure?",
                headers={"In-Reply-To": "<q-1@example.com>", "References": "<q-1@example.com>"}),
        folder="Sent",
    )  # fmt: skip
    assert fetch(inbox) == 1

    answer = Message.objects.get(direction=Message.OUT)
    assert answer.conversation_id == conversation.pk
    conversation.refresh_from_db()
    assert conversation.awaiting_reply is False and conversation.message_count == 2


def test_a_message_is_stored_once_whether_accord_sent_it_or_it_lies_in_inbox_and_sent(
    inbox, dovecot, vera, owner
):
    ours = message_send(actor=owner, mailbox=inbox, to=["vera@example.com"],
                        subject="Offer", text="Here.", person=vera)  # fmt: skip
    copied = written(subject="Copy to myself", message_id="<both@window-shop.example>",
                     headers={"Cc": "sales@window-shop.example"})  # fmt: skip
    dovecot.append(IMAP_USER, written(subject="Offer", message_id=ours.message_id), copied,
                   folder="Sent")  # fmt: skip
    dovecot.append(IMAP_USER, copied)  # the copy the user sent themselves came in too

    assert fetch(inbox) == 1

    assert Message.objects.count() == 2
    both = Message.objects.get(message_id="<both@window-shop.example>")
    assert both.direction == Message.OUT and both.person == vera
    assert sorted(both.copies.values_list("folder", flat=True)) == ["INBOX", "Sent"]
    assert ours.copies.get().folder == "Sent"
    assert TimelineEvent.objects.filter(kind="email", data__message_id=both.pk).count() == 1


def test_the_sent_folder_is_fetched_by_its_own_uids_and_a_rebuilt_one_again_without_duplicates(
    inbox, dovecot, vera
):
    one, two = written(subject="Out 1"), written(subject="Out 2")
    dovecot.append(IMAP_USER, mail(subject="In"))
    dovecot.append(IMAP_USER, one, two, folder="Sent")
    assert fetch(inbox) == 3
    assert fetch(inbox) == 0
    inbox.refresh_from_db()
    assert inbox.sent_folder == "Sent" and inbox.sent_last_uid == 2
    assert inbox.sent_uidvalidity == dovecot.uidvalidity(IMAP_USER, "Sent")
    assert inbox.sync_last_uid == 1  # the inbox keeps its own place

    old = inbox.sent_uidvalidity
    dovecot.recreate(IMAP_USER, "Sent")
    dovecot.append(IMAP_USER, one, two, written(subject="Out 3"), folder="Sent")
    assert dovecot.uidvalidity(IMAP_USER, "Sent") != old
    assert fetch(inbox) == 1
    sent = Message.objects.filter(direction=Message.OUT)
    assert sorted(sent.values_list("subject", flat=True)) == ["Out 1", "Out 2", "Out 3"]
    assert set(MessageCopy.objects.filter(folder="Sent").values_list("uidvalidity", flat=True)) == {
        dovecot.uidvalidity(IMAP_USER, "Sent")
    }
    assert MessageCopy.objects.filter(folder="INBOX").count() == 1


@pytest.mark.parametrize("dovecot", [None], indirect=True)
def test_a_server_without_special_use_has_its_sent_folder_found_by_name(inbox, dovecot, vera):
    dovecot.create(IMAP_USER, "Archive")
    dovecot.create(IMAP_USER, "Sent Items")
    dovecot.append(IMAP_USER, written(subject="From Outlook"), folder="Sent Items")
    assert fetch(inbox) == 1
    inbox.refresh_from_db()
    assert inbox.sent_folder == "Sent Items"
    assert Message.objects.get().direction == Message.OUT


@pytest.mark.parametrize("dovecot", ["Gesendete Objekte"], indirect=True)
def test_the_folder_the_server_marks_sent_is_taken_whatever_its_name(inbox, dovecot, vera):
    dovecot.create(IMAP_USER, "Sent")  # a folder a user made, not the mail program's
    dovecot.append(IMAP_USER, written(subject="Gesendet"), folder="Gesendete Objekte")
    dovecot.append(IMAP_USER, written(subject="Not this one"), folder="Sent")
    assert fetch(inbox) == 1
    assert list(Message.objects.values_list("subject", flat=True)) == ["Gesendet"]


@pytest.mark.parametrize("dovecot", [None], indirect=True)
def test_a_mailbox_without_a_sent_folder_fetches_its_inbox(inbox, dovecot, vera, admin, client):
    dovecot.append(IMAP_USER, mail(subject="Only in"))
    assert fetch(inbox) == 1
    inbox.refresh_from_db()
    assert inbox.sent_folder == "" and inbox.sync_error == ""
    client.force_login(admin)
    page = client.get(f"/settings/email/{inbox.pk}/").content.decode()
    assert "Folders fetched" in page and "mail sent from a mail program" not in page


def test_a_sent_folder_the_server_cannot_read_leaves_the_inbox_coming_in(
    inbox, dovecot, vera, admin, client
):
    dovecot.append(IMAP_USER, written(subject="Sent meanwhile"), folder="Sent")
    dovecot.append(IMAP_USER, mail(subject="Still comes in"))
    dovecot.break_folder(IMAP_USER, "Sent")

    assert fetch(inbox) == 1
    assert list(Message.objects.values_list("subject", flat=True)) == ["Still comes in"]
    inbox.refresh_from_db()
    assert (inbox.sync_error, inbox.sync_failures) == ("", 0)  # the mailbox works
    client.force_login(admin)
    page = client.get(f"/settings/email/{inbox.pk}/").content.decode()
    assert "The sent folder “Sent” could not be read" in page and "SERVERBUG" in page
    assert fetch(inbox) == 0
    inbox.refresh_from_db()
    assert len(inbox.sync_problems) == 1  # said once, however many passes

    dovecot.break_folder(IMAP_USER, "Sent", broken=False)
    assert fetch(inbox) == 1
    assert Message.objects.filter(subject="Sent meanwhile", direction="out").exists()
    page = client.get(f"/settings/email/{inbox.pk}/").content.decode()
    assert "could not be read" not in page


def test_mail_a_user_sent_from_their_own_mailbox_is_theirs(admin, owner, sink, dovecot, vera):
    dovecot.add_user("anna@window-shop.example", "anna-pass")
    anna = make_mailbox(
        admin, sink.port, name="Anna", address="anna@window-shop.example", owner=owner,
        imap_host="127.0.0.1", imap_port=dovecot.port, imap_security="none",
        imap_username="anna@window-shop.example", imap_password="anna-pass",
    )  # fmt: skip
    dovecot.append("anna@window-shop.example",
                   written(sender="anna@window-shop.example", subject="From Anna"),
                   folder="Sent")  # fmt: skip
    assert fetch(anna) == 1
    message = Message.objects.get()
    assert message.author == owner and message.mailbox == anna
    assert Mailbox.objects.get(pk=anna.pk).sent_folder == "Sent"


def test_the_receiving_test_says_where_sent_mail_is_fetched_from(inbox, dovecot, admin_client):
    answer = admin_client.post(
        f"/settings/email/{inbox.pk}/test/receiving/", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Receiving works." in answer
    assert "Mail sent from a mail program is fetched from “Sent”." in answer


@pytest.mark.parametrize("dovecot", [None], indirect=True)
def test_the_receiving_test_says_when_there_is_no_sent_folder(inbox, dovecot, admin_client):
    answer = admin_client.post(
        f"/settings/email/{inbox.pk}/test/receiving/", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "No folder of sent mail was found: only mail that comes in is fetched." in answer


def test_the_api_says_which_folders_are_fetched_and_lists_sent_mail(inbox, dovecot, vera, admin):
    from tests.comms.test_api import admin_api

    dovecot.append(IMAP_USER, written(subject="Sent by hand"), folder="Sent")
    assert fetch(inbox) == 1
    api = admin_api(admin)
    receiving = api.get(f"/api/v1/mailboxes/{inbox.pk}").json()["receiving"]
    assert receiving["folders"] == ["INBOX", "Sent"] and receiving["sent_folder"] == "Sent"
    listed = api.get(f"/api/v1/messages?direction=out&person={vera.pk}").json()["items"]
    assert [(m["subject"], m["state"]) for m in listed] == [("Sent by hand", "sent")]
