"""The threads API: the Inbox's boxes with their counts, a client's threads, one thread
with its messages, read marks, assignment, and reply/forward — problem details on bad
input, 404 for what the caller may not see, keyset pages."""

import base64

from accord.accounts.services import token_create
from accord.comms import delivery
from accord.comms.models import Conversation, Message
from accord.comms.services import message_send
from tests.comms.conftest import receive
from tests.comms.test_inbox import many_threads, ottos_client  # noqa: F401 (fixtures)
from tests.comms.test_sending import PDF
from tests.conftest import ApiClient


def api_of(user) -> ApiClient:
    _token, key = token_create(user=user, name="tests")
    return ApiClient(key)


def waiting(owner, mailbox, person, subject="Your offer", address="vera@example.com"):
    sent = message_send(actor=owner, mailbox=mailbox, person=person, to=[address],
                        subject=subject, text="Hello")  # fmt: skip
    return receive(sent, sender=address, text="A question")


def test_the_inbox_lists_waiting_threads_with_counts_and_pages(api, owner, mailbox, vera):
    for n in range(3):
        waiting(owner, mailbox, vera, subject=f"Offer {n}")
    first = api.get("/api/v1/threads?box=mine&limit=2").json()
    assert [item["subject"] for item in first["items"]] == ["Offer 2", "Offer 1"]
    assert first["items"][0]["awaiting_reply"] is True and first["items"][0]["unread"] == 1
    assert first["items"][0]["assignee"] == str(owner.pk)
    assert first["counts"] == {"mine": 3, "unassigned": 0, "waiting": 3, "all": 3, "unread": 3}
    rest = api.get(f"/api/v1/threads?box=mine&limit=2&cursor={first['next_cursor']}").json()
    assert [item["subject"] for item in rest["items"]] == ["Offer 0"] and rest[
        "next_cursor"
    ] is None
    assert api.get("/api/v1/threads?box=unassigned").json()["items"] == []
    assert len(api.get("/api/v1/threads?box=waiting").json()["items"]) == 3
    mine = api.get(f"/api/v1/threads?person={vera.pk}").json()["items"]
    assert len(mine) == 3


def test_bad_filters_get_problem_details(api, vera):
    wrong = api.get("/api/v1/threads?box=everything")
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "box"
    both = api.get(f"/api/v1/threads?box=all&person={vera.pk}")
    assert both.status_code == 400 and both.json()["errors"][0]["field"] == "box"
    assert api.get("/api/v1/threads?cursor=garbage").status_code == 400
    assert api.get("/api/v1/threads?person=999999").status_code == 404


def test_one_thread_with_its_messages_read_and_assigned(api, admin, owner, mailbox, vera):
    answer = waiting(owner, mailbox, vera)
    thread = answer.conversation
    body = api.get(f"/api/v1/threads/{thread.pk}").json()
    assert [m["direction"] for m in body["messages"]] == ["out", "in"]
    assert body["messages"][1]["state"] == "received" and body["unread"] == 1
    assert body["earlier_messages"] is False

    read = api.post_json(f"/api/v1/threads/{thread.pk}/read", {})
    assert read.status_code == 200 and read.json()["unread"] == 0
    unread = api.post_json(f"/api/v1/threads/{thread.pk}/read", {"read": False})
    assert unread.json()["unread"] == 1

    given = api.post_json(f"/api/v1/threads/{thread.pk}/assign", {"assignee": str(admin.pk)})
    assert given.status_code == 200 and given.json()["assignee"] == str(admin.pk)
    nobody = api.post_json(f"/api/v1/threads/{thread.pk}/assign", {"assignee": None})
    assert nobody.json()["assignee"] is None
    unknown = api.post_json(f"/api/v1/threads/{thread.pk}/assign", {"assignee": "999999"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "assignee"


def test_reply_and_forward_through_the_api(api, owner, mailbox, vera, sink):
    answer = waiting(owner, mailbox, vera)
    replied = api.post_json(f"/api/v1/messages/{answer.pk}/reply", {"text": "Here you go."},
                            HTTP_IDEMPOTENCY_KEY="r-1")  # fmt: skip
    assert replied.status_code == 201, replied.content
    body = replied.json()
    assert body["subject"] == "Re: Your offer" and body["to"] == ["vera@example.com"]
    assert body["mailbox"] == str(mailbox.pk) and "> A question" in body["text"]
    again = api.post_json(f"/api/v1/messages/{answer.pk}/reply", {"text": "Here you go."},
                          HTTP_IDEMPOTENCY_KEY="r-1")  # fmt: skip
    assert again.json()["id"] == body["id"]  # one reply per key

    pdf = base64.b64encode(PDF).decode()
    forwarded = api.post_json(f"/api/v1/messages/{answer.pk}/reply", {
        "kind": "forward", "to": ["measurer@window-shop.example"], "text": "FYI",
        "attachments": [{"name": "plan.pdf", "content_base64": pdf}],
    })  # fmt: skip
    assert forwarded.status_code == 201 and forwarded.json()["subject"] == "Fwd: Your offer"
    delivery.deliver_due()
    sent = {message["Subject"]: message for message in sink}
    assert sent["Re: Your offer"]["In-Reply-To"] == answer.message_id
    assert Conversation.objects.get().message_count == 4

    no_one = api.post_json(f"/api/v1/messages/{answer.pk}/reply", {"kind": "forward", "text": "x"})
    assert no_one.status_code == 422 and no_one.json()["errors"][0]["field"] == "to"
    bad_kind = api.post_json(f"/api/v1/messages/{answer.pk}/reply", {"kind": "shout"})
    assert bad_kind.status_code == 422


def test_what_the_caller_may_not_see_is_404(owner, otto, mailbox, vera):
    answer = waiting(owner, mailbox, vera)
    ottos = api_of(otto)
    assert ottos.get("/api/v1/threads?box=all").json()["items"] == []
    assert ottos.get(f"/api/v1/threads/{answer.conversation_id}").status_code == 404
    assert ottos.post_json(f"/api/v1/threads/{answer.conversation_id}/read", {}).status_code == 404
    assert ottos.post_json(f"/api/v1/messages/{answer.pk}/reply", {"text": "x"}).status_code == 404
    assert Message.objects.count() == 2


def test_a_thread_given_through_the_api_is_in_the_colleagues_notifications(
    api, admin, owner, mailbox, vera
):
    thread = waiting(owner, mailbox, vera).conversation
    api.post_json(f"/api/v1/threads/{thread.pk}/assign", {"assignee": str(admin.pk)})
    api.post_json(f"/api/v1/threads/{thread.pk}/assign", {"assignee": str(admin.pk)})  # again

    [notice] = api_of(admin).get("/api/v1/notifications").json()["items"]
    assert notice["kind"] == "assigned" and notice["link"] == f"/mail/threads/{thread.pk}/"
    assert notice["text"] == "Olivia Owner gave you the conversation “Your offer”"
    mine = api_of(admin).post_json(f"/api/v1/threads/{thread.pk}/assign", {"assignee": None})
    assert mine.status_code == 200
    api_of(admin).post_json(f"/api/v1/threads/{thread.pk}/assign", {"assignee": str(admin.pk)})
    assert len(api_of(admin).get("/api/v1/notifications").json()["items"]) == 1  # took it


def test_past_ten_thousand_the_counts_stop_and_say_which_boxes_have_more(api, owner, vera):
    many_threads(vera, owner, 10_001)
    body = api.get("/api/v1/threads?limit=1").json()
    assert body["counts"] == {"mine": 10_000, "unassigned": 0, "waiting": 10_000, "all": 10_000,
                              "unread": 10_001}  # fmt: skip
    assert body["counts_capped"] == ["mine", "waiting", "all"]
