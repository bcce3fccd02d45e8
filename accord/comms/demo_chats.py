"""The demo company's messengers and SMS: a Telegram bot, an SMS gateway and a WhatsApp
number (all marked as demos; their keys are made up), and a dozen conversations of the
last weeks made as a real webhook makes them — the providers' deliveries read into
signals, stored once and applied by the worker's step: clients matched by their number
wrote by SMS and WhatsApp, two strangers wrote to the bot and became leads; salespeople
answered most (their answers queued, then recorded as the provider took them and, where
it reports so, delivered or read: nothing goes to the network); three wait for an answer
today, and one WhatsApp chat is past its 24-hour window, so only a template may go."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from accord.accounts.models import Team, User
from accord.comms.messengers import DELIVERED, MESSAGE, READ, STATUS, ChatSignal
from accord.comms.models import Conversation, Messenger
from accord.comms.services import conversation_assign
from accord.comms.services.chat_sending import chat_send, chat_sent
from accord.comms.services.chats import chat_events_apply, chat_events_store
from accord.comms.services.messengers import messenger_save
from accord.comms.services.threads import may_answer
from accord.contacts.models import Person

SMS, WHATSAPP, TELEGRAM = "sms", "whatsapp", "telegram"


@dataclass(frozen=True)
class Line:
    """One message of a demo conversation: who wrote it (`client` or the salesperson),
    how long ago, and what the provider reported of ours (delivered, read)."""

    ago: timedelta
    client: bool
    text: str = ""
    template: str = ""
    report: str = ""


def _in(ago: timedelta, text: str) -> Line:
    return Line(ago=ago, client=True, text=text)


def _out(ago: timedelta, text: str = "", *, report: str = "", template: str = "") -> Line:
    return Line(ago=ago, client=False, text=text, report=report, template=template)


D, H, M = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)
TODAY = 3 * H  # a message this recent is this morning's, even just after midnight

# Conversations with the demo's clients, by their number: (channel, the lines).
WITH_CLIENTS = [
    (SMS, [
        _in(20 * D, "Hi, can the installer come on Thursday instead of Wednesday?"),
        _out(20 * D - 50 * M, "Thursday works. The team will be with you between 9 and 11.",
             report=DELIVERED),
        _in(20 * D - 70 * M, "Perfect, thanks!"),
        _out(20 * D - 75 * M, "You're welcome. See you on Thursday!", report=DELIVERED),
    ]),
    (WHATSAPP, [
        _in(15 * D, "Hello! I saw your ad for tilt-and-turn windows. Do you have them in "
                    "anthracite grey?"),
        _out(15 * D - 25 * M, "Hello! Yes, anthracite grey is one of our six colours; it adds "
                              "8% to the price.", report=READ),
        _in(15 * D - 40 * M, "Great. Could you send a quote for two windows, 120×140?"),
        _out(15 * D - 3 * H, "Done: the quote is in your e-mail. It holds for thirty days.",
             report=READ),
        _in(14 * D, "Got it, thank you. I'll talk it over with my wife and come back to you."),
        _out(14 * D - 10 * M, "Of course, take your time.", report=READ),
    ]),
    (SMS, [
        _in(12 * D, "Got the invoice, paid it today."),
        _out(12 * D - 2 * H, "Thank you, the payment has arrived. Installation stays on the "
                             "22nd.", report=DELIVERED),
    ]),
    (SMS, [
        _in(9 * D, "Do you also replace window sills? Mine is cracked."),
        _out(9 * D - 30 * M, "Yes, we do. A white PVC sill, fitted, costs from 45 €. Shall I "
                             "add it to your order?", report=DELIVERED),
        _in(9 * D - 45 * M, "Yes please, white."),
        _out(9 * D - 50 * M, "Added. See you on the 14th.", report=DELIVERED),
    ]),
    (WHATSAPP, [
        _in(25 * D, "Is the measurement free?"),
        _out(25 * D - 15 * M, "Yes, measuring is free within the city. Which day suits you?",
             report=READ),
        _in(25 * D - 30 * M, "Tuesday morning, please."),
        _out(25 * D - 35 * M, "Booked: Tuesday, 10:00.", report=READ),
        _out(6 * D, template="order_ready", report=DELIVERED),
    ]),
    (WHATSAPP, [
        _in(3 * D, "Good morning, when will my order be ready?"),
        _out(3 * D - 20 * M, "Good morning! It is in production; we expect it on Friday.",
             report=READ),
        _in(3 * D - 25 * M, "👍 Thanks"),
        _out(3 * D - 30 * M, "We'll call you on Friday to agree on the installation.",
             report=DELIVERED),
    ]),
    (SMS, [
        _in(2 * D, "Could you call me after 6 pm? I'm at work until then."),
        _out(2 * D - 15 * M, "Of course, I'll call at 18:30.", report=DELIVERED),
    ]),
    (WHATSAPP, [
        _in(20 * H, "The installers have just left. Everything looks great, thank you!"),
        _out(19 * H, "Thank you! Enjoy the new windows, and write if anything squeaks.",
             report=READ),
    ]),
    # Waiting for an answer today.
    (SMS, [_in(95 * M, "Hello, the handle on the balcony door came loose. Is it under "
                       "warranty?")]),
    (WHATSAPP, [_in(40 * M, "Hi! Can I come to your showroom on Saturday to see the colours?")]),
]  # fmt: skip

# Strangers who wrote to the bot: (chat id, first name, last name, the lines).
TELEGRAM_CHATS = [
    (700100201, "Maya", "Green", [
        _in(6 * D, "Hi! Do you install roof windows?"),
        _out(6 * D - 20 * M, "Hello Maya! Yes, we fit roof windows of every common size. "
                             "Could you send a photo of the roof?"),
        _in(6 * D - 2 * H, "Sure, I'll send it tonight."),
        _out(5 * D, "Thank you! We'll call you tomorrow to book a measurement."),
    ]),
    (700100202, "Daniel", "Ross", [
        _in(15 * M, "Hello, how much is a PVC window 100×120 with installation?"),
    ]),
]  # fmt: skip

TEMPLATES = [
    {"name": "order_ready", "language": "en_US"},
    {"name": "measurement_reminder", "language": "en_US"},
]


def populate() -> None:
    if Messenger.objects.exists():
        return
    admin = User.objects.filter(role__slug="administrator", is_active=True).order_by("pk").first()
    if admin is None:
        return
    team = Team.objects.exclude(lead_rule="").order_by("pk").first()
    sms = messenger_save(actor=admin, data={
        "name": "SMS (demo)", "provider": Messenger.SMS_GATEWAY, "sender": "AccordWin",
        "gateway_url": "https://sms.example.invalid/send?to={to}&text={text}&key={key}",
        "gateway_method": Messenger.GET, "token": "demo-gateway-key",
        "secret": "demo-gateway-secret", "lead_team": team,
    })  # fmt: skip
    whatsapp = messenger_save(actor=admin, data={
        "name": "WhatsApp (demo)", "provider": Messenger.WHATSAPP, "token": "demo-access-token",
        "secret": "demo-app-secret", "account": "100000000000001", "templates": TEMPLATES,
        "lead_team": team,
    })  # fmt: skip
    telegram = messenger_save(actor=admin, data={
        "name": "Window Shop bot (demo)", "provider": Messenger.TELEGRAM,
        "token": "100000001:demo-bot-token", "lead_team": team,
    })  # fmt: skip
    connections = {SMS: sms, WHATSAPP: whatsapp, TELEGRAM: telegram}
    now = timezone.now()
    people = list(
        Person.objects.exclude(primary_phone="")
        .filter(owner__isnull=False)
        .order_by("-pk")[: len(WITH_CLIENTS)]
    )
    talks = []
    for person, (channel, lines) in zip(people, WITH_CLIENTS, strict=False):
        talks.append((connections[channel], person.primary_phone, person.full_name, "", lines))
    for chat, first, last, lines in TELEGRAM_CHATS:
        talks.append((telegram, str(chat), f"{first} {last}", first, lines))
    steps = [
        (_moment(now, line.ago), index, number, line)
        for index, (*_talk, lines) in enumerate(talks)
        for number, line in enumerate(lines)
    ]
    for at, index, number, line in sorted(steps, key=lambda step: step[:3]):
        messenger, address, name, _first, _lines = talks[index]
        if line.client:
            _receive(messenger, address, name, line.text, at, (index, number))
        else:
            _answer(messenger, address, line, at, (index, number), admin)


def _moment(now: datetime, ago: timedelta) -> datetime:
    """`ago` before now; what is meant for this morning stays today even just after
    midnight (the Inbox shows those first)."""
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    at = now - ago
    return max(at, midnight + (now - midnight) / 2) if ago <= TODAY else at


def _receive(messenger: Messenger, address: str, name: str, text: str, at, ident) -> None:
    """A client's message, read as the provider delivers it, stored and applied."""
    index, number = ident
    if messenger.provider == Messenger.TELEGRAM:  # its update and the chat's message ids
        signal = ChatSignal(key=f"u{5000 + 100 * index + number}", kind=MESSAGE,
                            address=address, name=name, text=text, at=at.isoformat(),
                            provider_id=f"{address}:{number + 1}")  # fmt: skip
    else:
        own = f"demo-{index}-{number}"
        own = f"wamid.{own}" if messenger.provider == Messenger.WHATSAPP else own
        signal = ChatSignal(key=f"m:{own}", kind=MESSAGE, address=address, phone=address,
                            name=name if messenger.provider == Messenger.WHATSAPP else "",
                            text=text, at=at.isoformat(), provider_id=own)  # fmt: skip
    chat_events_apply(chat_events_store(messenger=messenger, signals=[signal], at=at))


def _answer(messenger: Messenger, address: str, line: Line, at, ident, admin) -> None:
    """A salesperson's answer: queued, taken by the provider a few seconds later (recorded
    by the worker's service, without a network), then its delivery reports as the
    provider sends them."""
    conversation = Conversation.objects.select_related("assignee", "person", "company", "deal")
    conversation = conversation.get(messenger=messenger, address=address)
    seller = conversation.assignee
    if seller is None:  # a new lead nobody had yet: the first salesperson who may answer takes it
        sellers = User.objects.filter(role__slug="manager", is_active=True).order_by("pk")
        seller = next((user for user in sellers if may_answer(user, conversation)), admin)
        conversation_assign(actor=seller, conversation=conversation, assignee=seller)
    message = chat_send(actor=seller, conversation=conversation, text=line.text,
                        template=line.template, now=at)  # fmt: skip
    index, number = ident
    provider_id = {
        Messenger.TELEGRAM: f"{address}:{number + 1}",
        Messenger.WHATSAPP: f"wamid.demo-{index}-{number}",
    }.get(messenger.provider, f"demo-{index}-{number}")
    chat_sent(message=message, provider_id=provider_id, at=at + timedelta(seconds=2))
    reports = {DELIVERED: [DELIVERED], READ: [DELIVERED, READ]}.get(line.report, [])
    for step, status in enumerate(reports, start=1):
        when = at + timedelta(seconds=5) + (step - 1) * timedelta(minutes=3)
        signal = ChatSignal(key=f"s:{provider_id}:{status}", kind=STATUS,
                            provider_id=provider_id, status=status,
                            at=when.isoformat())  # fmt: skip
        chat_events_apply(chat_events_store(messenger=messenger, signals=[signal], at=when))
