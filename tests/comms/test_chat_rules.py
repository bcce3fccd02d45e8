"""Automation on messages by SMS and messengers: "A message comes by SMS or a messenger"
(a channel, from a new client or a known one, containing words)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accord.automation.blueprints import install
from accord.automation.models import Run
from accord.automation.services import rule_enable, rule_save
from accord.comms import delivery
from accord.comms.models import Message, Unsubscribe
from accord.comms.services.messengers import messenger_save
from accord.comms.services.threads import replies_late
from accord.contacts.models import Person
from accord.contacts.services import person_create
from accord.sales.models import Deal
from accord.work.models import Task
from tests.comms.test_chats import (
    APP_SECRET,
    BOT_TOKEN,
    PHONE_ID,
    WA_TOKEN,
    post_telegram,
    post_whatsapp,
    telegram_update,
    whatsapp_message,
    worker,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_rule_on_telegram_messages_with_words_makes_a_task_for_the_new_lead(admin):
    bot = messenger_save(actor=admin, data={"name": "Bot", "provider": "telegram",
                                            "token": BOT_TOKEN})  # fmt: skip
    whatsapp = messenger_save(actor=admin, data={
        "name": "WA", "provider": "whatsapp", "token": WA_TOKEN, "secret": APP_SECRET,
        "account": PHONE_ID})  # fmt: skip
    rule_save(actor=admin, data={
        "name": "Price questions", "subject": "person", "trigger": "message_received",
        "enabled": True,
        "trigger_options": {"channel": "telegram", "sender": "unknown", "words": "price, cost"},
        "actions": [{"type": "create_task", "params": {
            "title": "Send {{ client.first_name }} the price list", "kind": "call",
            "assignee": {"to": "owner"}, "due_in": {"amount": 1, "unit": "hours"}}}],
    })  # fmt: skip
    post_telegram(bot, telegram_update(1, "Hello"))  # no words
    post_telegram(bot, telegram_update(2, "What is the PRICE of a window?", chat=9, message_id=2))
    post_whatsapp(whatsapp, whatsapp_message("wamid.1", "972544567890", "price?"))  # not Telegram
    worker()
    assert Person.objects.count() == 3
    task = Task.objects.get()
    assert task.title == "Send Ivan the price list"
    assert task.person.pk == Person.objects.get(source="Telegram", pk=task.person_id).pk


def test_a_rule_texts_a_new_deals_client_and_a_stop_number_gets_nothing(
    admin, owner, httpserver, settings
):
    settings.ACCORD_WEBHOOK_ALLOWED_HOSTS = [f"{httpserver.host}:{httpserver.port}"]
    gateway = messenger_save(actor=admin, data={
        "name": "SMS", "provider": "sms", "secret": "s", "gateway_method": "get",
        "gateway_url": httpserver.url_for("/send") + "?to={to}&text={text}"})  # fmt: skip
    rule_save(actor=admin, data={
        "name": "Thank for the order", "subject": "person", "trigger": "created",
        "enabled": True, "actions": [{"type": "send_message", "params": {
            "messenger": gateway.pk, "message": "Hello {{ client.first_name }}, thank you!"}}],
    })  # fmt: skip
    Unsubscribe.objects.create(address="+79161234568", source="SMS STOP", at=timezone.now())
    person_create(actor=owner, data={"first_name": "Vera", "phones": ["+79161234567"]})
    person_create(actor=owner, data={"first_name": "Stop", "phones": ["+79161234568"]})
    [message] = Message.objects.all()
    assert (message.text, message.to, message.rule_name) == (
        "Hello Vera, thank you!",
        ["+79161234567"],
        "Thank for the order",
    )
    httpserver.expect_request("/send").respond_with_json({"id": "r1"})
    delivery.deliver_due()
    assert httpserver.log[0][0].args["to"] == "+79161234567"
    assert Run.objects.filter(status="failed").count() == 1


def test_the_window_shop_makes_a_deal_for_someone_new_who_writes_on_a_fresh_instance(admin):
    """No pipeline of the demo's: the blueprint makes its own, and a Telegram stranger
    becomes a client with a deal in its first stage."""
    rules = install(actor=admin, name="window-shop")
    chat_rule = next(r for r in rules if r.trigger == "message_received")
    rule_enable(actor=admin, rule=chat_rule, enabled=True)
    bot = messenger_save(actor=admin, data={"name": "Bot", "provider": "telegram",
                                            "token": BOT_TOKEN})  # fmt: skip
    post_telegram(bot, telegram_update(1, "I need two windows", chat=44))
    worker()
    deal = Deal.objects.get()
    assert deal.person.source == "Telegram" and deal.title == "Windows for Ivan Petrov"
    assert deal.stage.position == min(deal.pipeline.stages.values_list("position", flat=True))


def test_a_rule_hears_that_a_client_waits_too_long(admin, owner):
    bot = messenger_save(actor=admin, data={"name": "Bot", "provider": "telegram",
                                            "token": BOT_TOKEN})  # fmt: skip
    rule_save(actor=admin, data={
        "name": "Late answer", "subject": "person", "trigger": "reply_late", "enabled": True,
        "actions": [{"type": "create_task", "params": {
            "title": "Answer {{ client.first_name }} now", "kind": "call",
            "assignee": {"to": "owner"}, "due_in": {"amount": 10, "unit": "minutes"}}}],
    })  # fmt: skip
    post_telegram(bot, telegram_update(1, "Hello?", chat=12))
    worker()
    later = timezone.now() + timedelta(days=4)  # past any working-time deadline
    assert replies_late(later) == 1
    assert Task.objects.get().title == "Answer Ivan now"
