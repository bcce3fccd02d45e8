"""Automation on messages by SMS and messengers: "A message comes by SMS or a messenger"
(a channel, from a new client or a known one, containing words)."""

import pytest

from accord.automation.services import rule_save
from accord.comms.services.chats import messenger_save
from accord.contacts.models import Person
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
