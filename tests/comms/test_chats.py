"""Messengers and SMS end to end: the providers' deliveries as they send them (Telegram's
updates with its secret token, WhatsApp's signed payloads and verify handshake, Twilio's
signed form posts, a gateway's signed JSON), the worker's steps that turn them into
messages and send the replies, and the providers' APIs played by pytest-httpserver."""

import base64
import contextlib
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from datetime import time as hour
from urllib.parse import parse_qs, urlencode

import pytest
import time_machine
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from werkzeug import Response

from accord.accounts.services import schedule_save, team_save, token_create, user_create
from accord.comms import delivery
from accord.comms.messengers import MESSAGE, STATUS, ChatSignal, sms_length
from accord.comms.models import (
    ChannelDay,
    ChatContact,
    ChatEvent,
    Conversation,
    Message,
    Messenger,
    Unsubscribe,
)
from accord.comms.services.chat_sending import chat_send
from accord.comms.services.chats import chat_events_apply, chat_events_drain, chat_events_store
from accord.comms.services.messengers import messenger_delete, messenger_save
from accord.comms.services.threads import conversation_assign, replies_late, reply_due
from accord.comms.telephony import twilio_signature
from accord.contacts.models import Person
from accord.contacts.services import person_create, person_update
from accord.core import http
from accord.core.company import reply_minutes
from accord.core.models import TimelineEvent
from accord.work.models import Notification
from tests.conftest import ApiClient, log_in

BOT_TOKEN = "123456:bot-token"
APP_SECRET, WA_TOKEN, PHONE_ID = "meta-app-secret", "wa-access-token", "106540352242922"
TWILIO_SID, TWILIO_TOKEN = "AC0123456789abcdef0123456789abcdef", "twilio-auth-token"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def providers(settings, httpserver):
    """Every provider's API played by one local server."""
    settings.ACCORD_WEBHOOK_ALLOWED_HOSTS = [f"{httpserver.host}:{httpserver.port}"]
    base = httpserver.url_for("").rstrip("/")
    settings.ACCORD_TELEGRAM_API = base
    settings.ACCORD_WHATSAPP_API = base + "/v21.0"
    settings.ACCORD_TWILIO_API = base
    return httpserver


@pytest.fixture
def telegram(admin):
    return messenger_save(
        actor=admin, data={"name": "Shop bot", "provider": "telegram", "token": BOT_TOKEN}
    )


@pytest.fixture
def whatsapp(admin):
    return messenger_save(actor=admin, data={
        "name": "WhatsApp", "provider": "whatsapp", "token": WA_TOKEN, "secret": APP_SECRET,
        "account": PHONE_ID, "templates": "order_ready:en_US\nwelcome:ru",
    })  # fmt: skip


@pytest.fixture
def twilio_sms(admin):
    return messenger_save(actor=admin, data={
        "name": "SMS", "provider": "twilio_sms", "token": TWILIO_TOKEN, "account": TWILIO_SID,
        "sender": "+15005550006",
    })  # fmt: skip


def worker() -> int:
    """The worker's step: apply what the webhooks stored."""
    pending = ChatEvent.objects.filter(state=ChatEvent.PENDING).order_by("pk")
    return chat_events_apply(list(pending.values_list("pk", flat=True)))


def post_telegram(messenger, update: dict, *, secret: str | None = None):
    token = messenger.webhook_secret if secret is None else secret
    return Client().post(f"/hooks/chat/{messenger.hook_token}/", update,
                         content_type="application/json",
                         headers={"X-Telegram-Bot-Api-Secret-Token": token})  # fmt: skip


def telegram_update(update_id: int, text: str, *, chat: int = 777001, message_id: int = 1) -> dict:
    sender = {"id": chat, "is_bot": False, "first_name": "Ivan", "last_name": "Petrov",
              "username": "ivanp", "language_code": "ru"}  # fmt: skip
    return {"update_id": update_id, "message": {
        "message_id": message_id, "from": sender, "date": int(timezone.now().timestamp()),
        "chat": {"id": chat, "first_name": "Ivan", "last_name": "Petrov", "type": "private"},
        "text": text}}  # fmt: skip


def post_whatsapp(messenger, payload: dict, *, secret: str = APP_SECRET):
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return Client().post(f"/hooks/chat/{messenger.hook_token}/", body,
                         content_type="application/json",
                         headers={"X-Hub-Signature-256": signature})  # fmt: skip


def whatsapp_message(wamid: str, sender: str, text: str, *, name: str = "Kerry Fisher") -> dict:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": PHONE_ID},
        "contacts": [{"profile": {"name": name}, "wa_id": sender}],
        "messages": [{"from": sender, "id": wamid, "timestamp": str(int(time.time())),
                      "type": "text", "text": {"body": text}}],
    }  # fmt: skip
    change = {"field": "messages", "value": value}
    return {"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [change]}]}


def post_twilio(messenger, params: dict, *, token: str = TWILIO_TOKEN):
    path = f"/hooks/chat/{messenger.hook_token}/"
    signature = twilio_signature(token, django_settings.ACCORD_BASE_URL + path, params)
    return Client().post(path, urlencode(params), content_type=FORM,
                         headers={"X-Twilio-Signature": signature})  # fmt: skip


# --- Telegram ------------------------------------------------------------------------------


def test_a_message_from_a_new_telegram_chat_makes_a_client_and_a_conversation(telegram, admin):
    answer = post_telegram(telegram, telegram_update(1001, "Do you deliver to Haifa?"))
    assert answer.status_code == 200 and answer.json()["stored"] == 1
    assert Message.objects.count() == 0  # the webhook only stores; the worker applies
    assert worker() == 1
    person = Person.objects.get()
    assert (person.first_name, person.last_name, person.source) == ("Ivan", "Petrov", "Telegram")
    conversation = Conversation.objects.get()
    assert (conversation.channel, conversation.person_id, conversation.address) == (
        "telegram",
        person.pk,
        "777001",
    )
    assert conversation.awaiting_reply and conversation.assignee_id == admin.pk
    assert conversation.subject == "Ivan Petrov"  # who writes; the Inbox badges the channel
    message = Message.objects.get()
    assert (message.direction, message.text, message.from_name) == (
        "in",
        "Do you deliver to Haifa?",
        "Ivan Petrov",
    )
    assert TimelineEvent.objects.filter(subject_id=person.pk, kind="chat").count() == 1
    # The same chat again: the same client, the same conversation.
    post_telegram(telegram, telegram_update(1002, "Hello?", message_id=2))
    post_telegram(telegram, telegram_update(1002, "Hello?", message_id=2))  # Telegram's retry
    assert worker() == 1
    assert Person.objects.count() == 1 and Conversation.objects.count() == 1
    assert Conversation.objects.get().message_count == 2


def test_a_telegram_delivery_without_our_secret_is_refused_and_nothing_is_stored(telegram):
    answer = post_telegram(telegram, telegram_update(1, "hi"), secret="guess")
    assert answer.status_code == 403
    assert not ChatEvent.objects.exists()
    telegram.refresh_from_db()
    assert "secret token" in telegram.problems[0]["reason"]


def test_a_reply_from_the_inbox_reaches_telegram_with_the_chat_id(telegram, providers, admin):
    post_telegram(telegram, telegram_update(1, "Price?", chat=555))
    worker()
    conversation = Conversation.objects.get()
    providers.expect_oneshot_request(
        f"/bot{BOT_TOKEN}/sendMessage", method="POST",
        json={"chat_id": "555", "text": "4,200 ₪ with fitting."},
    ).respond_with_json({"ok": True, "result": {"message_id": 91}})  # fmt: skip
    client = Client()
    assert log_in(client, admin.email)
    answer = client.post(f"/mail/threads/{conversation.pk}/write/",
                         {"text": "4,200 ₪ with fitting.", "key": "k1"})  # fmt: skip
    assert answer.status_code == 302
    client.post(
        f"/mail/threads/{conversation.pk}/write/", {"text": "4,200 ₪ with fitting.", "key": "k1"}
    )  # a double click
    assert delivery.deliver_due() == 1
    providers.check_assertions()
    sent = Message.objects.get(direction="out")
    assert (sent.state, sent.provider_id) == ("sent", "555:91")
    conversation.refresh_from_db()
    assert not conversation.awaiting_reply and conversation.message_count == 2


def test_a_telegram_photo_is_kept_as_a_file_of_the_message(telegram, providers):
    update = telegram_update(7, "")
    update["message"].pop("text")
    update["message"] |= {"caption": "This window", "photo": [
        {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90},
        {"file_id": "big", "file_unique_id": "b", "width": 1280, "height": 960}]}  # fmt: skip
    providers.expect_request(f"/bot{BOT_TOKEN}/getFile", json={"file_id": "big"}).respond_with_json(
        {"ok": True, "result": {"file_id": "big", "file_path": "photos/file_9.jpg"}})  # fmt: skip
    providers.expect_request(f"/file/bot{BOT_TOKEN}/photos/file_9.jpg").respond_with_data(
        b"\xff\xd8jpeg", content_type="image/jpeg")  # fmt: skip
    post_telegram(telegram, update)
    worker()
    message = Message.objects.get()
    assert message.text == "This window"
    kept = message.attachments.get()
    assert (kept.name, kept.content_type, kept.file.read()) == (
        "photo.jpg",
        "image/jpeg",
        b"\xff\xd8jpeg",
    )


def test_saving_a_bot_sets_its_webhook_with_our_secret(admin, providers):
    providers.expect_oneshot_request(f"/bot{BOT_TOKEN}/setWebhook").respond_with_json(
        {"ok": True, "result": True, "description": "Webhook was set"}
    )
    client = Client()
    assert log_in(client, admin.email)
    answer = client.post("/settings/messengers/new/", {
        "name": "Shop bot", "provider": "telegram", "token": BOT_TOKEN, "active": "on",
        "gateway_method": "json"})  # fmt: skip
    assert answer.status_code == 302, answer.content.decode()[:3000]
    providers.check_assertions()
    bot = Messenger.objects.get()
    told = json.loads(providers.log[0][0].data)
    assert told["secret_token"] == bot.webhook_secret
    assert told["url"].endswith(f"/hooks/chat/{bot.hook_token}/")
    assert bot.webhook_set_at is not None
    page = client.get(f"/settings/messengers/{bot.pk}/").content.decode()
    assert BOT_TOKEN not in page and bot.hook_token in page


# --- WhatsApp ------------------------------------------------------------------------------


def test_whatsapps_verify_handshake_echoes_the_challenge_only_for_our_token(whatsapp):
    path = f"/hooks/chat/{whatsapp.hook_token}/"
    query = {"hub.mode": "subscribe", "hub.challenge": "1158201444"}
    ours = Client().get(path, query | {"hub.verify_token": whatsapp.webhook_secret})
    assert ours.status_code == 200 and ours.content == b"1158201444"
    assert Client().get(path, query | {"hub.verify_token": "nope"}).status_code == 403


def test_a_whatsapp_message_from_a_known_number_joins_that_client(whatsapp, owner):
    vera = person_create(actor=owner, data={"first_name": "Vera", "phones": ["+972544567890"]})
    assert (
        post_whatsapp(whatsapp, whatsapp_message("wamid.A1", "972544567890", "Hi")).status_code
        == 200
    )
    assert post_whatsapp(whatsapp, whatsapp_message("wamid.A2", "972544567890", "x"),
                         secret="wrong").status_code == 403  # fmt: skip
    worker()
    message = Message.objects.get()
    assert message.person_id == vera.pk and message.from_address == "+972544567890"
    assert Person.objects.count() == 1
    assert Conversation.objects.get().assignee_id == owner.pk  # the client's owner answers


def test_a_chat_is_called_by_its_client_s_name_as_it_is_now(whatsapp, admin):
    """A new number's chat begins under the name WhatsApp shows; once the manager names
    the client properly, the Inbox and the chat's page say the new name."""
    post_whatsapp(whatsapp, whatsapp_message("wamid.R1", "972541112233", "Hi", name="dan"))
    worker()
    person = Person.objects.get()
    person_update(actor=admin, person=person, data={"first_name": "Daniel", "last_name": "Levi"})
    client = Client()
    assert log_in(client, admin.email)
    inbox = client.get("/inbox/?box=all").content.decode()
    assert "Daniel Levi" in inbox
    conversation = Conversation.objects.get()
    assert "Daniel Levi" in client.get(f"/mail/threads/{conversation.pk}/").content.decode()


def test_a_batch_of_messages_is_applied_together_and_one_that_breaks_leaves_the_rest(
    whatsapp, owner
):
    """Five deliveries stored together: two from one new number, one from a client, a
    report about a message not known yet, and one that cannot be applied (a text longer
    than any message may be, as an older adapter let through). The batch is applied again one by
    one: the new number is one person with one conversation of two messages, the
    client's message joins them, the report waits (one try counted), the broken one
    stays pending with its error — and nothing is written twice."""
    vera = person_create(actor=owner, data={"first_name": "Vera", "phones": ["+972544567890"]})
    new = "+972544567891"
    signals = [
        ChatSignal(key="m:1", kind=MESSAGE, address=new, phone=new, name="Dan Levi", text="Hi"),
        ChatSignal(key="m:2", kind=MESSAGE, address=vera.primary_phone,
                   phone=vera.primary_phone, text="Is it ready?"),
        ChatSignal(key="m:3", kind=MESSAGE, address="+972544567892", phone="+972544567892",
                   text="x" * 100_001),
        ChatSignal(key="s:x:delivered", kind=STATUS, provider_id="wamid.unknown",
                   status="delivered"),
        ChatSignal(key="m:4", kind=MESSAGE, address=new, phone=new, text="Still there?"),
    ]  # fmt: skip
    chat_events_store(messenger=whatsapp, signals=signals, at=timezone.now())

    assert chat_events_drain(whatsapp.pk) == 3

    dan = Person.objects.get(primary_phone=new)
    assert Person.objects.count() == 2  # Vera and the new number's one person
    conversation = Conversation.objects.get(person=dan)
    assert conversation.message_count == 2 and conversation.awaiting_reply
    assert list(conversation.messages.order_by("pk").values_list("text", flat=True)) == [
        "Hi", "Still there?",
    ]  # fmt: skip
    assert Message.objects.get(person=vera).text == "Is it ready?"
    assert TimelineEvent.objects.filter(kind="chat").count() == 3
    waiting = {e.key: e for e in ChatEvent.objects.exclude(state=ChatEvent.DONE)}
    assert set(waiting) == {"m:3", "s:x:delivered"}
    assert all(e.state == ChatEvent.PENDING and e.attempts == 1 for e in waiting.values())
    assert "100" in waiting["m:3"].error  # "At most 100,000 characters."
    assert Person.objects.filter(primary_phone="+972544567892").count() == 0  # undone


def test_a_new_number_the_phone_rules_refuse_still_becomes_a_client(whatsapp, admin):
    """A sender whose number Accord would not store as a phone (a range not in use) is
    still made a client — without the phone, found again by their chat — and their
    message is kept."""
    odd = "+972541112233"
    for key in ("m:1", "m:2"):
        signal = ChatSignal(key=key, kind=MESSAGE, address=odd, phone=odd, text=key)
        chat_events_store(messenger=whatsapp, signals=[signal], at=timezone.now())
    assert chat_events_drain(whatsapp.pk) == 2
    person = Person.objects.get()
    assert person.owner == admin and not person.primary_phone
    assert list(Message.objects.values_list("person", flat=True)) == [person.pk, person.pk]
    assert not ChatEvent.objects.exclude(state=ChatEvent.DONE).exists()


def test_outside_the_24_hour_window_only_a_template_goes_to_whatsapp(whatsapp, providers, admin):
    post_whatsapp(whatsapp, whatsapp_message("wamid.B1", "972544567890", "Is it ready?"))
    worker()
    conversation = Conversation.objects.get()
    Conversation.objects.filter(pk=conversation.pk).update(
        last_incoming_at=timezone.now() - timedelta(hours=25)
    )
    conversation.refresh_from_db()
    with pytest.raises(Exception, match="approved template"):
        chat_send(actor=admin, conversation=conversation, text="Yes!")
    providers.expect_oneshot_request(
        f"/v21.0/{PHONE_ID}/messages", method="POST",
        headers={"Authorization": f"Bearer {WA_TOKEN}"},
        json={"messaging_product": "whatsapp", "to": "972544567890", "type": "template",
              "template": {"name": "order_ready", "language": {"code": "en_US"}}},
    ).respond_with_json({"messages": [{"id": "wamid.OUT1"}]})  # fmt: skip
    chat_send(actor=admin, conversation=conversation, template="order_ready")
    delivery.deliver_due()
    providers.check_assertions()
    sent = Message.objects.get(direction="out")
    assert (sent.state, sent.provider_id) == ("sent", "wamid.OUT1")
    # WhatsApp reports it delivered, then read.
    for said in ("delivered", "read", "delivered"):  # a late "delivered" does not undo "read"
        status = {"id": "wamid.OUT1", "status": said, "timestamp": "1733480000",
                  "recipient_id": "972544567890"}  # fmt: skip
        payload = whatsapp_message("x", "1", "")
        payload["entry"][0]["changes"][0]["value"] = {"messaging_product": "whatsapp",
                                                      "statuses": [status]}  # fmt: skip
        post_whatsapp(whatsapp, payload)
    worker()
    sent.refresh_from_db()
    assert sent.state == "read" and sent.delivered_at is not None


# --- SMS -----------------------------------------------------------------------------------


def test_an_sms_through_twilio_and_a_stop_reply(twilio_sms, providers, owner, admin):
    vera = person_create(actor=owner, data={"first_name": "Vera", "phones": ["+79161234567"]})
    inbound = {"MessageSid": "SM1", "AccountSid": TWILIO_SID, "From": "+79161234567",
               "To": "+15005550006", "Body": "When can you measure?", "NumMedia": "0"}  # fmt: skip
    answer = post_twilio(twilio_sms, inbound)
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/xml")
    assert post_twilio(twilio_sms, inbound | {"MessageSid": "SM2"}, token="x").status_code == 403
    worker()
    conversation = Conversation.objects.get()
    assert (conversation.channel, conversation.person_id) == ("sms", vera.pk)
    basic = "Basic " + base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
    providers.expect_oneshot_request(
        f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json", method="POST",
        headers={"Authorization": basic},
    ).respond_with_json({"sid": "SMout1", "status": "queued"}, status=201)  # fmt: skip
    chat_send(actor=owner, conversation=conversation, text="Tomorrow at 10?")
    delivery.deliver_due()
    providers.check_assertions()
    sent_form = parse_qs(providers.log[0][0].get_data(as_text=True))
    assert sent_form["To"] == ["+79161234567"] and sent_form["From"] == ["+15005550006"]
    assert sent_form["StatusCallback"][0].endswith(f"/hooks/chat/{twilio_sms.hook_token}/")
    post_twilio(twilio_sms, {"MessageSid": "SMout1", "MessageStatus": "delivered",
                             "AccountSid": TWILIO_SID})  # fmt: skip
    post_twilio(twilio_sms, inbound | {"MessageSid": "SM3", "Body": "STOP"})
    worker()
    assert Message.objects.get(provider_id="SMout1").state == "delivered"
    assert Unsubscribe.objects.filter(address="+79161234567", person=vera).exists()


def test_an_sms_gateway_is_called_as_the_admin_described_it(admin, providers):
    gateway = messenger_save(actor=admin, data={
        "name": "Local SMS", "provider": "sms", "secret": "gw-secret", "token": "KEY-1",
        "sender": "WindowShop", "gateway_method": "json",
        "gateway_url": providers.url_for("/api/send"),
        "gateway_body": '{"apikey": "{key}", "phone": "{to}", "msg": "{text}", "from": "{from}"}',
    })  # fmt: skip
    body = json.dumps({"id": "in-1", "from": "+79161234567", "text": 'Call me "later"'}).encode()
    signature = "sha256=" + hmac.new(b"gw-secret", body, hashlib.sha256).hexdigest()
    answer = Client().post(f"/hooks/chat/{gateway.hook_token}/", body,
                           content_type="application/json",
                           headers={"X-Accord-Signature": signature})  # fmt: skip
    assert answer.status_code == 200
    worker()
    conversation = Conversation.objects.get()
    providers.expect_oneshot_request("/api/send", method="POST", json={
        "apikey": "KEY-1", "phone": "+79161234567", "msg": 'Sure, "at 5"', "from": "WindowShop",
    }).respond_with_json({"id": "gw-77"})  # fmt: skip
    chat_send(actor=admin, conversation=conversation, text='Sure, "at 5"')
    delivery.deliver_due()
    providers.check_assertions()
    assert Message.objects.get(direction="out").provider_id == "gw-77"


def test_a_gateway_that_refuses_fails_the_message_with_its_answer(admin, providers):
    gateway = messenger_save(actor=admin, data={
        "name": "Local SMS", "provider": "sms", "secret": "s", "gateway_method": "get",
        "gateway_url": providers.url_for("/send") + "?to={to}&text={text}",
    })  # fmt: skip
    person = person_create(actor=admin, data={"first_name": "Ann", "phones": ["+79161234568"]})
    conversation = Conversation.objects.create(
        channel="sms", messenger=gateway, address="+79161234568", person=person,
        started_at=timezone.now(), last_message_at=timezone.now())  # fmt: skip
    providers.expect_request("/send").respond_with_data("no balance", status=402)
    chat_send(actor=admin, conversation=conversation, text="Hello")
    delivery.deliver_due()
    message = Message.objects.get()
    assert message.state == "failed" and "402" in message.error
    assert providers.log[0][0].args["text"] == "Hello"


def test_bad_connections_are_refused_with_the_field_named(admin):
    with pytest.raises(Exception) as refused:
        messenger_save(actor=admin, data={"name": "W", "provider": "whatsapp"})
    assert {"token", "secret", "account"} <= set(refused.value.message_dict)
    with pytest.raises(Exception) as refused:
        messenger_save(actor=admin, data={"name": "G", "provider": "sms", "secret": "s",
                                          "gateway_url": "http://10.0.0.5/send"})  # fmt: skip
    assert "gateway_url" in refused.value.message_dict


@pytest.mark.parametrize(
    ("text", "encoding", "parts"),
    [
        ("", "GSM-7", 0),
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("€" * 80, "GSM-7", 1),  # two units each
        ("Привет" * 11 + "Прив", "UCS-2", 1),  # 70
        ("Привет" * 12, "UCS-2", 2),  # 72
        ("😀" * 35, "UCS-2", 1),  # 70 units
    ],
)
def test_sms_parts_are_counted_as_the_network_bills_them(text, encoding, parts):
    found = sms_length(text)
    assert (found.encoding, found.parts) == (encoding, parts)


# --- The API -------------------------------------------------------------------------------


def test_the_api_lists_messenger_threads_and_writes_in_them(telegram, admin):
    post_telegram(telegram, telegram_update(1, "Hi there", chat=4242))
    worker()
    _token, key = token_create(user=admin, name="tests")
    client, headers = ApiClient(key), {}
    threads = client.get("/api/v1/threads?box=all&channel=telegram", headers=headers).json()
    [thread] = threads["items"]
    assert (thread["channel"], thread["address"], thread["reply_window_open"]) == (
        "telegram",
        "4242",
        True,
    )
    assert client.get("/api/v1/threads?box=all&channel=sms", headers=headers).json()["items"] == []
    written = client.post(f"/api/v1/threads/{thread['id']}/messages", {"text": ""},
                          content_type="application/json", headers=headers)  # fmt: skip
    assert written.status_code == 422 and written.json()["errors"][0]["field"] == "text"
    written = client.post(f"/api/v1/threads/{thread['id']}/messages", {"text": "Hello!"},
                          content_type="application/json", headers=headers)  # fmt: skip
    assert written.status_code == 201
    body = written.json()
    assert (body["channel"], body["state"], body["to"]) == ("telegram", "queued", ["4242"])
    listed = client.get(f"/api/v1/messages?messenger={telegram.pk}", headers=headers).json()
    assert {m["direction"] for m in listed["items"]} == {"in", "out"}
    connections = client.get("/api/v1/messengers", headers=headers).json()["items"]
    assert connections[0]["token_set"] is True and BOT_TOKEN not in json.dumps(connections)


# --- Writing first, from the card --------------------------------------------------------------


def test_a_salesperson_texts_a_client_from_their_card(admin, owner, telegram, providers):
    gateway = messenger_save(actor=admin, data={
        "name": "SMS", "provider": "sms", "secret": "s", "gateway_method": "get",
        "gateway_url": providers.url_for("/send") + "?to={to}&text={text}",
    })  # fmt: skip
    vera = person_create(actor=owner, data={"first_name": "Vera", "phones": ["+79161234567"]})
    client = Client()
    assert log_in(client, owner.email)
    card = client.get(f"/clients/people/{vera.pk}/").content.decode()
    assert 'data-testid="write-message"' in card
    form = client.get(f"/chats/new/?person={vera.pk}").content.decode()
    assert "+7 916 123-45-67" in form or "+79161234567" in form
    assert "Shop bot" not in form  # she never wrote to the bot: it cannot write first
    refused = client.post("/chats/new/", {"person": vera.pk, "messenger": gateway.pk,
                                          "address": "+70000000000", "text": "Hi"})  # fmt: skip
    assert refused.status_code == 422 and not Message.objects.exists()
    sent = client.post("/chats/new/", {"person": vera.pk, "messenger": gateway.pk,
                                       "address": "+79161234567", "text": "Your order is ready",
                                       "key": "once"})  # fmt: skip
    assert sent.status_code == 302
    conversation = Conversation.objects.get()
    assert (conversation.channel, conversation.person_id, conversation.assignee_id) == (
        "sms",
        vera.pk,
        owner.pk,
    )
    providers.expect_request("/send").respond_with_json({"id": "g1"})
    delivery.deliver_due()
    assert providers.log[0][0].args["text"] == "Your order is ready"
    assert Message.objects.get().state == "sent"


def test_someone_who_may_not_see_the_client_cannot_write_to_them(admin, telegram, otto):
    person = person_create(actor=admin, data={"first_name": "Hidden", "phones": ["+79161234567"]})
    client = Client()
    assert log_in(client, otto.email)
    assert client.get(f"/chats/new/?person={person.pk}").status_code == 404


# --- The first-answer clock -----------------------------------------------------------------


def test_a_client_nobody_answers_in_time_is_escalated_to_the_head_once(admin, owner, telegram):
    team_save(actor=admin, name="Sales", head=admin, members=[owner])
    owner.refresh_from_db()
    vera = person_create(actor=owner, data={"first_name": "Vera"})
    monday = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # 10:00 in London, the site's zone
    with time_machine.travel(monday, tick=False):
        post_telegram(telegram, telegram_update(1, "Hello?", chat=31))
        worker()
    conversation = Conversation.objects.get()
    ChatContact.objects.filter(address="31").update(person=vera)
    Conversation.objects.filter(pk=conversation.pk).update(person=vera, assignee=owner)
    conversation.refresh_from_db()
    assert conversation.waiting_since == monday
    assert reply_due(conversation) == monday + timedelta(minutes=30)
    assert replies_late(monday + timedelta(minutes=29)) == 0
    assert replies_late(monday + timedelta(minutes=31)) == 1
    assert replies_late(monday + timedelta(minutes=45)) == 0  # told once
    told = {
        n.user_id: n.kind
        for n in Notification.objects.filter(data__conversation_id=conversation.pk)
    }
    assert told == {owner.pk: "overdue", admin.pk: "escalation"}
    # An answer stops the clock; the client's next message starts it again.
    with time_machine.travel(monday + timedelta(minutes=50), tick=False):
        chat_send(actor=owner, conversation=conversation, text="Hello Vera!")
    conversation.refresh_from_db()
    assert conversation.waiting_since is None and conversation.reply_late_at is None


def test_a_waiting_client_given_to_a_colleague_is_due_in_the_colleague_s_hours(
    admin, owner, telegram
):
    """Vera writes at 17:50 on a Monday. The owner works till 18:00: 10 minutes that day,
    20 the next morning from 9:00. Given to a colleague who works till 20:00, the answer
    is due at 18:20 — in the colleague's hours, not the owner's."""
    schedule_save(actor=admin, user=owner, weekdays=[0, 1, 2, 3, 4], starts=hour(9),
                  ends=hour(18))  # fmt: skip
    late_shift = user_create(email="ian@example.com", password="x" * 12, role="manager",
                             full_name="Ian Late")  # fmt: skip
    schedule_save(actor=admin, user=late_shift, weekdays=[0, 1, 2, 3, 4], starts=hour(12),
                  ends=hour(20))  # fmt: skip
    monday = datetime(2026, 12, 7, 17, 50, tzinfo=UTC)  # London, the site's zone
    with time_machine.travel(monday, tick=False):
        post_telegram(telegram, telegram_update(1, "Hello?", chat=41))
        worker()
    conversation = Conversation.objects.get()
    Conversation.objects.filter(pk=conversation.pk).update(assignee=owner)
    replies_late(monday)  # the worker's pass works the deadline out
    conversation.refresh_from_db()
    assert conversation.reply_due_at == datetime(2026, 12, 8, 9, 20, tzinfo=UTC)

    conversation_assign(actor=admin, conversation=conversation, assignee=late_shift)

    conversation.refresh_from_db()
    assert conversation.reply_due_at == datetime(2026, 12, 7, 18, 20, tzinfo=UTC)
    assert replies_late(datetime(2026, 12, 7, 18, 21, tzinfo=UTC)) == 1  # late by its hours


def test_the_inbox_shows_each_waiting_clients_deadline_and_admins_set_it(admin, telegram):
    post_telegram(telegram, telegram_update(1, "Hi", chat=77))
    worker()
    client = Client()
    assert log_in(client, admin.email)
    page = client.get("/inbox/?box=all").content.decode()
    assert 'data-testid="reply-due"' in page and 'data-testid="reply-late"' not in page
    wrong = {"reply_email": "240", "reply_sms": "x", "reply_telegram": "5", "reply_whatsapp": "30"}
    assert client.post("/settings/messengers/", wrong).status_code == 422
    saved = client.post("/settings/messengers/", {"reply_email": "240", "reply_sms": "20",
                        "reply_telegram": "5", "reply_whatsapp": "30"})  # fmt: skip
    assert saved.status_code == 302
    conversation = Conversation.objects.get()
    assert reply_minutes("telegram") == 5
    assert reply_due(conversation) >= conversation.waiting_since


def test_a_burst_of_messages_queues_one_pass_that_applies_them_all(telegram):
    for n in range(1, 21):
        post_telegram(telegram, telegram_update(n, f"Message {n}", chat=900 + n % 3))
    telegram.refresh_from_db()
    queued = telegram.events_queued_at
    assert queued is not None and ChatEvent.objects.filter(state="pending").count() == 20
    passes = DBTaskResult.objects.filter(task_path__endswith="drain_chat_events")
    assert passes.count() == 1
    assert chat_events_drain(telegram.pk) == 20
    telegram.refresh_from_db()
    assert telegram.events_queued_at is None
    assert Person.objects.count() == 3 and Message.objects.count() == 20
    assert chat_events_drain(telegram.pk) == 0  # a second pass finds nothing


def test_connections_are_configured_through_the_api_without_showing_secrets(admin, providers):
    providers.expect_request(f"/bot{BOT_TOKEN}/setWebhook").respond_with_json({"ok": True})
    _token, key = token_create(user=admin, name="tests")
    api = ApiClient(key)
    made = api.post_json("/api/v1/messengers", {"name": "Bot", "provider": "telegram",
                                                 "token": BOT_TOKEN})  # fmt: skip
    assert made.status_code == 201 and BOT_TOKEN not in made.content.decode()
    body = made.json()
    assert body["token_set"] and body["webhook_url"].endswith("/")
    assert Messenger.objects.get().webhook_set_at is not None
    wrong = api.post_json("/api/v1/messengers", {"name": "WA", "provider": "whatsapp"})
    assert wrong.status_code == 422
    assert {e["field"] for e in wrong.json()["errors"]} >= {"token", "secret", "account"}
    changed = api.patch_json(f"/api/v1/messengers/{body['id']}", {"name": "Shop bot"})
    assert changed.status_code == 200 and changed.json()["name"] == "Shop bot"
    assert changed.json()["token_set"]  # kept


# --- What the review found ------------------------------------------------------------------


def test_someone_elses_contact_card_does_not_make_a_stranger_that_client(telegram, owner):
    vera = person_create(actor=owner, data={"first_name": "Vera", "phones": ["+972544567890"]})
    update = telegram_update(1, "", chat=999)
    update["message"].pop("text")
    update["message"]["contact"] = {
        "phone_number": "+972544567890",
        "first_name": "Vera",
        "user_id": 4242,
    }  # Vera's card, sent by someone else
    post_telegram(telegram, update)
    worker()
    assert Message.objects.get().person_id != vera.pk
    own = telegram_update(2, "", chat=1000)
    own["message"].pop("text")
    own["message"]["contact"] = {
        "phone_number": "972544567890",
        "first_name": "Vera",
        "user_id": 1000,
    }  # her own card, from her own chat
    post_telegram(telegram, own)
    worker()
    assert Message.objects.get(from_address="1000").person_id == vera.pk
    group = telegram_update(3, "hi all", chat=-100)
    group["message"]["chat"]["type"] = "group"
    post_telegram(telegram, group)
    assert worker() == 0  # a group's members are not one client


def test_a_bot_token_is_never_written_to_the_log(telegram, providers, admin, caplog):
    caplog.set_level("INFO")
    post_telegram(telegram, telegram_update(1, "Hi", chat=5))
    worker()
    providers.expect_request(f"/bot{BOT_TOKEN}/sendMessage").respond_with_json(
        {"ok": True, "result": {"message_id": 1}})  # fmt: skip
    chat_send(actor=admin, conversation=Conversation.objects.get(), text="Hello")
    delivery.deliver_due()
    assert Message.objects.get(direction="out").state == "sent"
    ours = [r.getMessage() for r in caplog.records if r.name != "werkzeug"]  # not the stub's
    assert not any(BOT_TOKEN in line for line in ours)


def test_a_provider_that_does_not_answer_in_time_is_not_sent_to_twice(
    twilio_sms, providers, owner, settings
):
    import time as clock

    person = person_create(actor=owner, data={"first_name": "Ann", "phones": ["+79161234568"]})
    conversation = Conversation.objects.create(
        channel="sms", messenger=twilio_sms, address="+79161234568", person=person,
        started_at=timezone.now(), last_message_at=timezone.now())  # fmt: skip

    calls = []

    def slow(_request):
        calls.append(1)
        clock.sleep(1.5)
        return Response('{"sid": "SMslow"}', status=201, content_type="application/json")

    providers.expect_request(
        f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
    ).respond_with_handler(slow)
    chat_send(actor=owner, conversation=conversation, text="Hello")
    with patch_timeout(0.3):
        delivery.deliver_due()
    message = Message.objects.get()
    assert (message.state, message.maybe_sent) == ("failed", True)
    delivery.deliver_due()
    assert calls == [1]  # never again by itself
    # The stub logs the request once its slow answer is out: wait for it here, not in the
    # next test that uses the stub.
    deadline = clock.monotonic() + 10
    while not providers.log and clock.monotonic() < deadline:
        clock.sleep(0.05)
    assert len(providers.log) == 1


def test_a_reply_whose_connection_was_removed_fails_without_stranding_others(
    telegram, admin, owner
):
    post_telegram(telegram, telegram_update(1, "Hi", chat=5))
    worker()
    chat_send(actor=admin, conversation=Conversation.objects.get(), text="Hello")
    messenger_delete(actor=admin, messenger=telegram)
    assert delivery.deliver_due() == 1
    message = Message.objects.get(direction="out")
    assert message.state == "failed" and "gone" in message.error


@pytest.mark.parametrize("body", [
    {"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {
        "messages": [{"id": "wamid.X", "from": "972544567890", "type": "text", "text": "hi"}]}}]}]},
    {"object": "whatsapp_business_account", "entry": [{"changes": 5}]},
    {"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {
        "contacts": 3, "messages": 4, "statuses": "x"}}]}]},
])  # fmt: skip
def test_odd_whatsapp_payloads_are_answered_without_a_server_error(whatsapp, body):
    assert post_whatsapp(whatsapp, body).status_code in (200, 400)


def test_a_length_that_is_not_a_number_is_refused(telegram):
    answer = Client().post(f"/hooks/chat/{telegram.hook_token}/", "{}",
                           content_type="application/json",
                           headers={"Content-Length": "abc"})  # fmt: skip
    assert answer.status_code in (400, 413)


@contextlib.contextmanager
def patch_timeout(seconds: float):
    """The provider's API given `seconds` to answer (its default is 10)."""
    original = http.send.__kwdefaults__["timeout"]
    http.send.__kwdefaults__["timeout"] = seconds
    try:
        yield
    finally:
        http.send.__kwdefaults__["timeout"] = original


def test_only_a_persons_answer_stops_the_first_answer_clock(telegram, admin, owner):
    post_telegram(telegram, telegram_update(1, "Hello?", chat=8))
    worker()
    conversation = Conversation.objects.get()
    chat_send(actor=admin, conversation=conversation, text="We got it!", rule_name="Thanks")
    conversation.refresh_from_db()
    assert conversation.awaiting_reply and conversation.waiting_since is not None
    assert ChannelDay.objects.filter(answered__gt=0).count() == 0  # not an answer
    chat_send(actor=admin, conversation=conversation, text="Hello, how can I help?")
    conversation.refresh_from_db()
    assert not conversation.awaiting_reply and conversation.waiting_since is None
    assert ChannelDay.objects.filter(answered=1).count() == 1
