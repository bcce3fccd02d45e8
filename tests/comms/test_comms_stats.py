"""Communication statistics: the daily rollups the services keep, the figures of a known
set of messages computed by hand, the report screen, and a client's preferred channel."""

from datetime import UTC, datetime, timedelta

import time_machine
from django.test import Client

from accord.comms.models import ChannelDay, ChatContact, Conversation, Message
from accord.comms.queries import client_channels, comms_figures
from accord.comms.services.calls import extensions_set, telephony_save
from accord.comms.services.chat_sending import chat_send
from accord.comms.services.messengers import messenger_save
from accord.comms.services.stats import stats_rebuild
from accord.contacts.services import person_create
from tests.comms.test_call_api import deliver
from tests.comms.test_chats import BOT_TOKEN, post_telegram, telegram_update, worker
from tests.conftest import log_in

MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # the site's zone is London: 9:00 there


def test_answer_times_in_working_minutes_equal_the_figures_worked_out_by_hand(admin, owner):
    """Three clients write on Monday; Olivia answers after 10, 30 and (one written at
    17:50, answered at 9:20 on Tuesday) 30 working minutes; a fourth waits. By hand:
    in 4, out 3, answered 3, median 30, 90% within 30."""
    bot = messenger_save(actor=admin, data={"name": "Bot", "provider": "telegram",
                                            "token": BOT_TOKEN})  # fmt: skip
    plan = [(1, MONDAY, 10), (2, MONDAY + timedelta(hours=2), 30),
            (3, MONDAY + timedelta(hours=8, minutes=50), 30), (4, MONDAY, None)]  # fmt: skip
    for chat, wrote, _after in plan:
        with time_machine.travel(wrote, tick=False):
            post_telegram(bot, telegram_update(chat, "Hello", chat=chat, message_id=chat))
            worker()
    Conversation.objects.update(assignee=owner)
    for chat, wrote, after in plan:
        if after is None:
            continue
        answered = wrote + timedelta(minutes=after)
        if chat == 3:  # 17:50 + 10 min to 18:00, then 20 min from 9:00 on Tuesday
            answered = datetime(2026, 12, 1, 9, 20, tzinfo=UTC)
        conversation = Conversation.objects.get(address=str(chat))
        with time_machine.travel(answered, tick=False):
            chat_send(actor=owner, conversation=conversation, text="Hello!")
    live = comms_figures([owner.pk], MONDAY.date(), MONDAY.date() + timedelta(days=1))
    figures = live[owner.pk]["telegram"]
    assert (figures.outgoing, figures.answered, figures.median, figures.p90) == (3, 3, 30, 30)
    assert sorted(figures.minutes.elements()) == [10, 30, 30]
    # Counted again from the stored messages, the same figures.
    stats_rebuild()
    again = comms_figures([owner.pk], MONDAY.date(), MONDAY.date() + timedelta(days=1))
    rebuilt = again[owner.pk]["telegram"]
    assert (rebuilt.incoming, rebuilt.outgoing, rebuilt.answered, rebuilt.median) == (4, 3, 3, 30)
    assert ChannelDay.objects.filter(user=owner, channel="telegram").count() == 2  # Mon, Tue

    client = Client()
    assert log_in(client, admin.email)
    page = client.get("/reports/communication/?from=2026-11-30&to=2026-12-01").content.decode()
    assert 'data-testid="comms-row"' in page and "Olivia Owner" in page
    assert "comms-chart-data" in page


def test_a_clients_preferred_channel_is_where_they_answer(admin, owner):
    vera = person_create(actor=owner, data={"first_name": "Vera"})
    bot = messenger_save(actor=admin, data={"name": "Bot", "provider": "telegram",
                                            "token": BOT_TOKEN})  # fmt: skip
    post_telegram(bot, telegram_update(1, "Hi", chat=5))
    worker()
    conversation = Conversation.objects.get()
    Conversation.objects.filter(pk=conversation.pk).update(person=vera)
    conversation.refresh_from_db()
    ChatContact.objects.update(person=vera)
    Message.objects.update(person=vera)
    now = datetime.now(UTC)
    with time_machine.travel(now + timedelta(minutes=1), tick=False):
        chat_send(actor=owner, conversation=conversation, text="Shall we measure?")
    with time_machine.travel(now + timedelta(minutes=13), tick=False):
        post_telegram(bot, telegram_update(2, "Yes!", chat=5, message_id=2))
        worker()
    [preferred] = client_channels(person=vera)
    assert preferred.channel == "telegram" and [round(m) for m in preferred.replies] == [12]
    client = Client()
    assert log_in(client, owner.email)
    card = client.get(f"/mail/threads/?person={vera.pk}").content.decode()
    assert "Prefers Telegram · answers in about 12 min" in card


def test_the_figures_are_in_the_api(admin, owner, api):
    bot = messenger_save(actor=admin, data={"name": "Bot", "provider": "telegram",
                                            "token": BOT_TOKEN})  # fmt: skip
    with time_machine.travel(MONDAY, tick=False):
        post_telegram(bot, telegram_update(1, "Hello", chat=1))
        worker()
    conversation = Conversation.objects.get()
    Conversation.objects.filter(pk=conversation.pk).update(assignee=owner)
    conversation.refresh_from_db()
    with time_machine.travel(MONDAY + timedelta(minutes=7), tick=False):
        chat_send(actor=owner, conversation=conversation, text="Hi!")
    body = api.get("/api/v1/reports/communication?from=2026-11-30&to=2026-11-30").json()
    [mine] = [e for e in body["employees"] if e["user"] == str(owner.pk)]
    assert mine["channels"]["telegram"]["answer_median_minutes"] == 7
    assert body["channels"]["telegram"]["outgoing"] == 1
    wrong = api.get("/api/v1/reports/communication?from=2026-12-01&to=2026-11-01")
    assert wrong.status_code == 422


def test_a_missed_call_called_back_counts_how_soon_in_working_minutes(admin, owner):
    telephony = telephony_save(actor=admin, data={"name": "PBX", "secret": "s3cret"})
    extensions_set(actor=admin, telephony=telephony, extensions={"101": owner})
    friday_evening = datetime(2026, 12, 4, 17, 50, tzinfo=UTC)
    events = [
        {"call_id": "m1", "event": "ringing", "direction": "in", "from": "+79161234567",
         "to": "+74955550100", "extension": "101", "at": friday_evening.isoformat()},
        {"call_id": "m1", "event": "missed", "direction": "in", "from": "+79161234567",
         "to": "+74955550100", "extension": "101",
         "at": (friday_evening + timedelta(seconds=30)).isoformat()},
    ]  # fmt: skip
    with time_machine.travel(friday_evening + timedelta(minutes=1), tick=False):
        deliver(telephony, events)
    monday = datetime(2026, 12, 7, 9, 15, tzinfo=UTC)
    back = [
        {"call_id": "b1", "event": "answered", "direction": "out", "from": "+74955550100",
         "to": "+79161234567", "extension": "101", "at": monday.isoformat()},
        {"call_id": "b1", "event": "ended", "direction": "out", "from": "+74955550100",
         "to": "+79161234567", "extension": "101", "duration": 60,
         "at": (monday + timedelta(minutes=1)).isoformat()},
    ]  # fmt: skip
    with time_machine.travel(monday + timedelta(minutes=2), tick=False):
        deliver(telephony, back)
    figures = comms_figures([owner.pk], friday_evening.date(), monday.date())[owner.pk]["phone"]
    # Missed at 17:50:30 on Friday; called back, the talk ending at 9:16 on Monday: 9.5
    # working minutes on Friday and 16 on Monday, 26 once rounded.
    assert (figures.missed, figures.returned, figures.outgoing, figures.median) == (1, 1, 1, 26)
    stats_rebuild()
    again = comms_figures([owner.pk], friday_evening.date(), monday.date())[owner.pk]["phone"]
    assert (again.missed, again.returned, again.outgoing, again.median) == (1, 1, 1, 26)


def test_a_rebuild_counts_interleaved_conversations_as_the_services_did(admin, owner):
    """Two clients write on Monday morning, their messages and Olivia's answers
    interleaved: the first client writes twice before the second answer, the second is
    answered twice in a row and then writes again, unanswered. By hand: in 5, out 4,
    answered 3 after 12, 35 and 35 minutes; counted again from the stored messages, the
    same."""
    bot = messenger_save(actor=admin, data={"name": "Bot", "provider": "telegram",
                                            "token": BOT_TOKEN})  # fmt: skip
    plan = [(0, 1), (5, 2), (12, "answer", 1), (20, 1), (25, 1), (40, "answer", 2),
            (41, "answer", 2), (55, "answer", 1), (60, 2)]  # fmt: skip
    for update, (minute, *step) in enumerate(plan, start=1):
        with time_machine.travel(MONDAY + timedelta(minutes=minute), tick=False):
            if step[0] == "answer":
                conversation = Conversation.objects.get(address=str(step[1]))
                chat_send(actor=owner, conversation=conversation, text="Hello!")
                continue
            post_telegram(bot, telegram_update(update, "Hi", chat=step[0], message_id=update))
            worker()
        Conversation.objects.update(assignee=owner)

    def figures():
        found = comms_figures([owner.pk], MONDAY.date(), MONDAY.date())[owner.pk]["telegram"]
        return found.outgoing, found.answered, sorted(found.minutes.elements())

    assert figures() == (4, 3, [12, 35, 35])
    live = sum(ChannelDay.objects.values_list("incoming", flat=True))
    stats_rebuild()
    assert figures() == (4, 3, [12, 35, 35])
    assert live == sum(ChannelDay.objects.values_list("incoming", flat=True)) == 5
