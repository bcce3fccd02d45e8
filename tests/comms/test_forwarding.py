"""Forwarding a message whose stored file is gone from the disk (a restore without the
files folder, a disk cleaned by hand): the form says so before anything is written, the
forward is refused with the file's name and what to do, nothing is queued or sent, and
the words alone can still go — through the page and the API."""

import pytest

from accord.comms import delivery
from accord.comms.models import Message
from tests.comms.conftest import receive
from tests.comms.test_inbox import browser, write
from tests.comms.test_sending import PDF

pytestmark = pytest.mark.django_db


@pytest.fixture
def answer(owner, mailbox, vera):
    """Vera's answer with two files, one of them since lost from the disk."""
    offer = write(owner, mailbox, vera, "vera@example.com")
    answer = receive(offer, text="The plan is attached.",
                     files=[("plan.pdf", PDF), ("photo.pdf", PDF)])  # fmt: skip
    lost = answer.attachments.get(name="plan.pdf")
    lost.file.storage.delete(lost.file.name)
    return answer


def forward_form(answer, **changes) -> dict:
    return {"reply": answer.pk, "kind": "forward", "mailbox": answer.mailbox_id,
            "to": "measurer@window-shop.example", "subject": "Fwd: Your offer",
            "text": "Please look at this.", "keep_attachments": "on", "key": "f1",
            **changes}  # fmt: skip


def test_the_page_refuses_a_forward_whose_file_is_gone_and_sends_the_words_alone(
    owner, answer, sink
):
    olivia = browser(owner)
    form = olivia.get(f"/mail/new/?reply={answer.pk}&kind=forward").content.decode()
    assert "plan.pdf" in form and "no longer stored" in form

    refused = olivia.post("/mail/new/", forward_form(answer))
    page = refused.content.decode()
    assert refused.status_code == 422
    assert "The original’s file plan.pdf is no longer stored" in page
    assert "Please look at this." in page  # the words are kept
    assert not Message.objects.filter(subject="Fwd: Your offer").exists()

    words = forward_form(answer, key="f2")
    del words["keep_attachments"]
    assert olivia.post("/mail/new/", words).status_code == 302
    delivery.deliver_due()
    [sent] = [m for m in sink if m["Subject"] == "Fwd: Your offer"]
    assert "Please look at this." in sent.as_string()
    assert not [part for part in sent.walk() if part.get_filename()]


def test_the_api_refuses_it_with_a_problem_naming_the_file(api, answer):
    url = f"/api/v1/messages/{answer.pk}/reply"
    forward = {"kind": "forward", "to": ["measurer@window-shop.example"], "text": "FYI"}

    refused = api.post_json(url, forward)
    assert refused.status_code == 422
    [error] = refused.json()["errors"]
    assert error["field"] == "attachments" and "plan.pdf" in error["message"]
    assert "photo.pdf" not in error["message"]
    assert not Message.objects.filter(subject="Fwd: Your offer").exists()

    words = api.post_json(url, {**forward, "keep_attachments": False})
    assert words.status_code == 201 and words.json()["attachments"] == []
