"""Messengers and SMS in a real browser: a Telegram message (the update posted to the
webhook as Telegram posts it, applied by the worker's step) waits in the Inbox; the user
opens it, answers from the reply box, and the answer reaches Telegram's API (played by
pytest-httpserver) with the chat's id once the worker delivers it, the page showing it
sent. An SMS being written counts its parts as the network bills them."""

import json

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from accord.accounts import demo
from accord.accounts.models import User
from accord.comms import delivery
from accord.comms.models import Conversation, Message
from accord.comms.services.messengers import messenger_save
from accord.comms.telephony import generic_signature
from accord.contacts.services import person_create
from tests.comms.test_chats import BOT_TOKEN, post_telegram, telegram_update, worker
from tests.e2e.test_login import log_in

pytestmark = pytest.mark.browser
GATEWAY_SECRET = "gateway-secret"


@pytest.fixture
def telegram_api(settings, httpserver):
    settings.ACCORD_WEBHOOK_ALLOWED_HOSTS = [f"{httpserver.host}:{httpserver.port}"]
    settings.ACCORD_TELEGRAM_API = httpserver.url_for("").rstrip("/")
    return httpserver


def test_a_telegram_message_is_answered_from_the_inbox(open_page, telegram_api):
    demo.populate()
    admin = User.objects.get(email="admin@example.com")
    bot = messenger_save(actor=admin, data={"name": "Shop bot", "provider": "telegram",
                                            "token": BOT_TOKEN})  # fmt: skip
    assert post_telegram(bot, telegram_update(301, "Do you deliver to Haifa?")).status_code == 200
    assert worker() == 1
    telegram_api.expect_oneshot_request(
        f"/bot{BOT_TOKEN}/sendMessage", method="POST",
        json={"chat_id": "777001", "text": "Yes, delivery to Haifa is free."},
    ).respond_with_json({"ok": True, "result": {"message_id": 42}})  # fmt: skip

    page = open_page(width=1280, height=900)
    log_in(page, "admin@example.com", settings.ACCORD_DEMO_PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox").click()
    row = page.locator(".thread", has_text="Ivan Petrov")
    expect(row.get_by_test_id("channel")).to_have_text("Telegram")
    expect(row.get_by_test_id("reply-due")).to_contain_text("Answer by")  # the first-answer clock
    row.locator("summary").click()
    messages = row.get_by_test_id("thread-message")
    expect(messages).to_have_count(1)
    expect(messages.first).to_contain_text("Do you deliver to Haifa?")
    reply = row.get_by_test_id("chat-reply")
    reply.get_by_label("Message").fill("Yes, delivery to Haifa is free.")
    reply.get_by_role("button", name="Send").click()
    expect(messages).to_have_count(2)
    expect(messages.nth(1)).to_contain_text("Yes, delivery to Haifa is free.")
    expect(messages.nth(1).get_by_test_id("mail-state")).to_have_text("Queued")

    assert delivery.deliver_due() == 1  # the worker's step
    telegram_api.check_assertions()
    sent = Message.objects.get(direction=Message.OUT)
    assert (sent.state, sent.provider_id) == (Message.SENT, "777001:42")
    expect(messages.nth(1).get_by_test_id("mail-state")).to_have_text("Sent", timeout=10_000)
    expect(row.get_by_test_id("reply-due")).to_have_count(0)


def test_an_sms_counts_its_parts_while_it_is_written(open_page):
    demo.populate()
    admin = User.objects.get(email="admin@example.com")
    gateway = messenger_save(actor=admin, data={
        "name": "SMS", "provider": "sms", "secret": GATEWAY_SECRET, "gateway_method": "get",
        "gateway_url": "https://sms.example.com/send?to={to}&text={text}",
    })  # fmt: skip
    person_create(actor=admin, data={"first_name": "Vera", "last_name": "Lang",
                                     "phones": ["+79161234567"]})  # fmt: skip
    body = json.dumps({"id": "in-1", "from": "+79161234567", "text": "Call me, please"}).encode()
    signature = generic_signature(GATEWAY_SECRET, body)
    answer = Client().post(f"/hooks/chat/{gateway.hook_token}/", body,
                           content_type="application/json",
                           headers={"X-Accord-Signature": signature})  # fmt: skip
    assert answer.status_code == 200 and worker() == 1
    conversation = Conversation.objects.get(channel="sms")

    page = open_page(width=375, height=800)
    log_in(page, "admin@example.com", settings.ACCORD_DEMO_PASSWORD)
    page.wait_for_url("**/")
    page.goto(f"/mail/threads/{conversation.pk}/")
    text, counter = page.get_by_label("Message"), page.get_by_test_id("sms-count")
    text.fill("Hello Vera, we call you at ten.")
    expect(counter).to_have_text("31 characters · 1 SMS (GSM-7)")
    text.fill("Здравствуйте, Вера! Позвоним вам в десять.")
    expect(counter).to_have_text("42 characters · 1 SMS (UCS-2)")
    text.fill("Здравствуйте, Вера! Замерщик приедет в субботу, с десяти до двенадцати.")
    expect(counter).to_have_text("71 characters · 2 SMS (UCS-2)")
    text.fill("A" * 161)
    expect(counter).to_have_text("161 characters · 2 SMS (GSM-7)")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
