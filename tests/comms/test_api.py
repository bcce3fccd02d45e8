"""The e-mail API: mailboxes without secrets (passwords write-only), messages listed per
client and deal, sent (queued at once, Idempotency-Key honoured) and retried."""

import base64

from accord.accounts.services import token_create
from accord.comms import delivery
from accord.comms.models import Mailbox, Message
from accord.core.secrets import unseal
from tests.comms.test_sending import PDF
from tests.conftest import ApiClient


def admin_api(admin) -> ApiClient:
    _token, key = token_create(user=admin, name="tests")
    return ApiClient(key)


def test_mailboxes_are_made_and_changed_without_ever_answering_a_password(admin, sink):
    api = admin_api(admin)
    made = api.post_json("/api/v1/mailboxes", {
        "name": "Sales", "address": "sales@window-shop.example", "smtp_host": "127.0.0.1",
        "smtp_port": sink.port, "smtp_security": "none", "smtp_password": "pa55-word-xyz",
        "is_default": True,
    })  # fmt: skip
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["kind"] == "shared" and body["smtp_password_set"] is True
    assert "pa55-word-xyz" not in made.content.decode() and "smtp_password" not in body
    mailbox = Mailbox.objects.get(pk=body["id"])
    assert unseal(mailbox.smtp_password_sealed) == "pa55-word-xyz"

    changed = api.patch_json(f"/api/v1/mailboxes/{mailbox.pk}", {"from_name": "Window Shop"},
                             HTTP_IF_MATCH=made["ETag"])  # fmt: skip
    assert changed.status_code == 200 and changed.json()["from_name"] == "Window Shop"
    mailbox.refresh_from_db()
    assert unseal(mailbox.smtp_password_sealed) == "pa55-word-xyz"  # kept
    stale = api.patch_json(f"/api/v1/mailboxes/{mailbox.pk}", {"name": "X"},
                           HTTP_IF_MATCH=made["ETag"])  # fmt: skip
    assert stale.status_code == 412
    bad = api.post_json("/api/v1/mailboxes", {"name": "B", "address": "nope",
                                              "smtp_host": "h", "smtp_port": 70000})  # fmt: skip
    assert bad.status_code == 422
    assert {error["field"] for error in bad.json()["errors"]} == {"smtp_port"}
    worse = api.post_json("/api/v1/mailboxes", {"name": "B", "address": "nope", "smtp_host": "h"})
    assert worse.status_code == 422 and worse.json()["errors"] == [
        {"field": "address", "message": "Enter an e-mail address, like sales@example.com."}
    ]
    tested = api.post_json(f"/api/v1/mailboxes/{mailbox.pk}/test", {"what": "sending"})
    assert tested.json()["ok"] is True and len(sink) == 1


def test_a_manager_sees_shared_mailboxes_and_keeps_only_their_own(owner, api, mailbox, sink):
    listed = api.get("/api/v1/mailboxes").json()["items"]
    assert [item["address"] for item in listed] == ["sales@window-shop.example"]
    assert api.patch_json(f"/api/v1/mailboxes/{mailbox.pk}", {"name": "Mine"}).status_code == 404
    own = api.post_json("/api/v1/mailboxes", {
        "name": "Olivia", "address": "olivia@window-shop.example", "smtp_host": "127.0.0.1",
        "smtp_port": sink.port, "smtp_security": "none", "is_default": True,
    })  # fmt: skip
    assert own.status_code == 201
    assert own.json()["kind"] == "personal" and own.json()["owner"] == str(owner.pk)
    assert own.json()["is_default"] is False


def test_a_message_is_sent_through_the_api_once_per_key(api, mailbox, vera, sink):
    payload = {
        "mailbox": str(mailbox.pk), "person": str(vera.pk), "to": ["vera@example.com"],
        "subject": "Your offer", "html": "<p>Hello <b>Vera</b></p><script>x()</script>",
        "attachments": [{"name": "offer.pdf", "content_base64": base64.b64encode(PDF).decode()}],
    }  # fmt: skip
    sent = api.post_json("/api/v1/messages", payload, HTTP_IDEMPOTENCY_KEY="offer-1")
    assert sent.status_code == 201, sent.content
    body = sent.json()
    assert body["state"] == "queued" and body["html"] == "<p>Hello <b>Vera</b></p>"
    assert body["text"] == "Hello Vera" and body["attachments"][0]["name"] == "offer.pdf"
    again = api.post_json("/api/v1/messages", payload, HTTP_IDEMPOTENCY_KEY="offer-1")
    assert again.json()["id"] == body["id"] and Message.objects.count() == 1

    delivery.deliver_due()
    answer = api.get(f"/api/v1/messages/{body['id']}").json()
    assert answer["state"] == "sent" and answer["sent_at"] and len(sink) == 1
    listed = api.get(f"/api/v1/messages?person={vera.pk}").json()["items"]
    assert [item["id"] for item in listed] == [body["id"]]
    assert api.get("/api/v1/messages?person=999999").json()["items"] == []
    assert api.get("/api/v1/messages?colour=red").status_code == 400


def test_bad_messages_are_refused_naming_the_field(api, mailbox, vera):
    base = {"mailbox": str(mailbox.pk), "person": str(vera.pk), "to": ["vera@example.com"],
            "subject": "Hi", "text": "Hello"}  # fmt: skip
    injected = api.post_json("/api/v1/messages", {**base, "subject": "Hi\r\nBcc: x@example.com"})
    assert injected.status_code == 422
    assert injected.json()["errors"] == [
        {"field": "subject", "message": "The subject cannot hold a line break."}
    ]
    unknown = api.post_json("/api/v1/messages", {**base, "person": "424242"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "person"
    garbled = api.post_json("/api/v1/messages", {
        **base, "attachments": [{"name": "a.pdf", "content_base64": "%%%"}],
    })  # fmt: skip
    assert garbled.status_code == 422
    assert garbled.json()["errors"][0]["field"] == "attachments.0.content_base64"
    assert not Message.objects.exists()


def test_a_failed_message_is_retried_through_the_api(admin, api, vera, smtp_factory):
    from tests.comms.conftest import make_mailbox

    strict = smtp_factory(data_answer="554 5.7.1 Spam suspected")
    mailbox = make_mailbox(admin, strict.port)
    payload = {"mailbox": str(mailbox.pk), "person": str(vera.pk), "to": ["vera@example.com"],
               "subject": "Hi", "text": "Hello"}  # fmt: skip
    message_id = api.post_json("/api/v1/messages", payload).json()["id"]
    delivery.deliver_due()
    failed = api.get(f"/api/v1/messages/{message_id}").json()
    assert failed["state"] == "failed"
    assert failed["error"] == "The server did not accept the message: 554 5.7.1 Spam suspected"
    retried = api.post_json(f"/api/v1/messages/{message_id}/retry", {})
    assert retried.status_code == 200 and retried.json()["state"] == "queued"
    assert api.post_json(f"/api/v1/messages/{message_id}/retry", {}).status_code == 409
