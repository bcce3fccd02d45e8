"""The Inbox, a client's e-mail card, a thread opened and the threads API cost the same
number of queries for 3 conversations as for 30 (no query per row)."""

from django.core.files.uploadedfile import SimpleUploadedFile

from accord.comms.services import message_reply, message_send
from tests.comms.conftest import receive
from tests.comms.test_sending import PDF
from tests.conftest import ApiClient
from tests.test_query_counts import queries_of


def add_threads(owner, mailbox, vera, count: int) -> None:
    for n in range(count):
        sent = message_send(actor=owner, mailbox=mailbox, person=vera, to=["vera@example.com"],
                            subject=f"Offer {n}", text="Hello",
                            attachments=[SimpleUploadedFile("a.pdf", PDF)])  # fmt: skip
        answer = receive(sent, text=f"Question {n}", files=[("plan.pdf", PDF)])
        if n % 2:
            message_reply(actor=owner, original=answer, kind="reply", mailbox=mailbox, text="Yes")


def grows(client, owner, mailbox, vera, url_of) -> tuple[int, int]:
    add_threads(owner, mailbox, vera, 3)
    few, page = queries_of(client, url_of())
    assert "Offer 2" in page or "Question" in page
    add_threads(owner, mailbox, vera, 27)
    many, _page = queries_of(client, url_of())
    return few, many


def test_the_inbox_costs_the_same_for_many_threads(manager_client, owner, mailbox, vera):
    few, many = grows(manager_client, owner, mailbox, vera, lambda: "/inbox/?box=all")
    assert few == many


def test_the_inbox_of_one_channel_costs_the_same_for_many_threads(
    manager_client, owner, mailbox, vera
):
    few, many = grows(manager_client, owner, mailbox, vera,
                      lambda: "/inbox/?box=all&channel=email")  # fmt: skip
    assert few == many


def test_the_client_card_costs_the_same_for_many_threads(manager_client, owner, mailbox, vera):
    few, many = grows(manager_client, owner, mailbox, vera,
                      lambda: f"/mail/threads/?person={vera.pk}")  # fmt: skip
    assert few == many


def test_a_thread_costs_the_same_for_many_messages(manager_client, owner, mailbox, vera):
    sent = message_send(actor=owner, mailbox=mailbox, person=vera, to=["vera@example.com"],
                        subject="Long talk", text="Hello")  # fmt: skip
    url = f"/mail/threads/{sent.conversation_id}/"
    last = sent
    for n in range(2):
        last = receive(last, text=f"Answer {n}", files=[("plan.pdf", PDF)])
    few, _page = queries_of(manager_client, url)
    for n in range(20):
        last = receive(last, text=f"More {n}", files=[("plan.pdf", PDF)])
    many, _page = queries_of(manager_client, url)
    assert few == many


def test_the_threads_api_costs_the_same_for_many(api: ApiClient, owner, mailbox, vera):
    few, many = grows(api, owner, mailbox, vera, lambda: "/api/v1/threads?box=all")
    assert few == many
