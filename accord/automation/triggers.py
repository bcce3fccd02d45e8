"""What starts a rule: the triggers (a record created, changed or deleted, a deal
entering a stage, a task overdue, a date, a schedule, a call from another system…), the
domain events each listens to, and whether an event's details match a rule's options."""

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy

from accord.automation import conditions
from accord.automation.models import Rule
from accord.core.events import DomainEvent
from accord.work.models import Activity


@dataclass(frozen=True)
class Trigger:
    label: Any
    subjects: tuple[str, ...]
    events: dict[str, str]  # event name -> the payload's key holding the record's id


# Money's events are about the deal and the client of the invoice or payment.
MONEY_SUBJECTS = ("deal", "person", "company")
MONEY_EVENTS = ("invoice.paid", "invoice.overdue", "payment.received")

TRIGGERS = {
    "created": Trigger(
        gettext_lazy("A record is created"),
        ("person", "company", "deal", "task"),
        {
            "person.created": "person_id",
            "company.created": "company_id",
            "deal.created": "deal_id",
            "task.created": "task_id",
        },
    ),
    "updated": Trigger(
        gettext_lazy("A record is changed"),
        ("person", "company", "deal", "task"),
        {
            "person.updated": "person_id",
            "company.updated": "company_id",
            "deal.updated": "deal_id",
            "task.updated": "task_id",
        },
    ),
    "stage_entered": Trigger(
        gettext_lazy("A deal enters a stage"), ("deal",), {"deal.stage_changed": "deal_id"}
    ),
    "stage_left": Trigger(
        gettext_lazy("A deal leaves a stage"), ("deal",), {"deal.stage_changed": "deal_id"}
    ),
    "won": Trigger(gettext_lazy("A deal is won"), ("deal",), {"deal.won": "deal_id"}),
    "lost": Trigger(gettext_lazy("A deal is lost"), ("deal",), {"deal.lost": "deal_id"}),
    "task_completed": Trigger(
        gettext_lazy("A task is completed"), ("task",), {"task.completed": "task_id"}
    ),
    "task_overdue": Trigger(
        gettext_lazy("A task becomes overdue"), ("task",), {"task.overdue": "task_id"}
    ),
    "activity_logged": Trigger(
        gettext_lazy("A call, meeting or note is logged"),
        ("person", "company", "deal"),
        {"activity.logged": "activity_id"},
    ),
    "date_reached": Trigger(
        gettext_lazy("A date comes (a birthday, a close date)"), ("person", "deal"), {}
    ),
    "deal_idle": Trigger(gettext_lazy("A deal stays in its stage too long"), ("deal",), {}),
    "manual": Trigger(gettext_lazy("By hand, on a record"), ("person", "company", "deal"), {}),
    "deleted": Trigger(
        gettext_lazy("A record is deleted"),
        ("person", "company"),
        {"person.deleted": "person_id", "company.deleted": "company_id"},
    ),
    "schedule": Trigger(
        gettext_lazy("On a schedule (every day, week or month)"),
        ("person", "company", "deal", "task"),
        {},
    ),
    "webhook": Trigger(
        gettext_lazy("Another system calls the rule's web address"),
        ("person", "company", "deal", "task"),
        {},
    ),
    "email_received": Trigger(
        gettext_lazy("An e-mail is received"), ("person",), {"message.received": "person_ids"}
    ),
    "message_received": Trigger(
        gettext_lazy("A message comes by SMS or a messenger"),
        ("person",),
        {"chat.received": "person_id"},
    ),
    "reply_late": Trigger(
        gettext_lazy("A client waits too long for an answer"),
        ("person",),
        {"conversation.late": "person_id"},
    ),
    "call_missed": Trigger(
        gettext_lazy("A call is missed"), ("person", "deal"), {"call.missed": "person_id"}
    ),
    "call_ended": Trigger(
        gettext_lazy("A call ends (someone talked)"),
        ("person", "deal"),
        {"call.ended": "person_id"},
    ),
    "invoice_paid": Trigger(
        gettext_lazy("An invoice is paid in full"), MONEY_SUBJECTS, {"invoice.paid": "deal_id"}
    ),
    "invoice_overdue": Trigger(
        gettext_lazy("An invoice becomes overdue"), MONEY_SUBJECTS, {"invoice.overdue": "deal_id"}
    ),
    "payment_received": Trigger(
        gettext_lazy("A payment is received"), MONEY_SUBJECTS, {"payment.received": "deal_id"}
    ),
    # About the client who sent it and the deal it made (marketing's web forms).
    "form_submitted": Trigger(
        gettext_lazy("A web form is sent"), ("person", "deal"), {"webform.submitted": "person_id"}
    ),
}
# Which channel a "message received" rule listens to ("": any).
CHANNELS = {
    "": gettext_lazy("any channel"),
    "sms": "SMS",
    "telegram": "Telegram",
    "whatsapp": "WhatsApp",
}
# Whom an "e-mail received" rule listens to: anyone, a client, an unknown address.
SENDERS = {
    "": gettext_lazy("from anyone"),
    "client": gettext_lazy("from a client"),
    "unknown": gettext_lazy("from an unknown address"),
}


EVENTS: dict[str, list[tuple[str, str, str]]] = {}  # event -> [(trigger, subject, id key)]
for _key, _trigger in TRIGGERS.items():
    for _event, _id_key in _trigger.events.items():
        EVENTS.setdefault(_event, []).append((_key, _event.split(".")[0], _id_key))


def by_import(cause: dict | None) -> bool:
    """Caused by an import a user started (not by a rule's run)."""
    return bool(cause and cause.get("import"))


def kept(payload: dict) -> dict:
    """What a run keeps of its event: ids and field names, not the values that changed
    (personal data that would outlive an erasure) nor the words of an e-mail."""
    return {key: value for key, value in payload.items() if key not in ("changes", "words_in")}


def trigger_values(payload: dict) -> dict | None:
    """What a rule on a received e-mail sees as `{{ trigger.… }}`: the sender and subject
    (and the message, for the step that makes a client of its sender)."""
    if "words_in" not in payload:
        return None
    return {key: payload.get(key, "") for key in ("message_id", "from", "from_name", "subject")}


def records_of(event: DomainEvent, matches) -> list[tuple[str, str, Any, dict]]:
    """(trigger, subject, record id, payload) of each record the event is about: an
    activity is about its deal and its client."""
    if event.name == "message.received":
        return _received(event)
    if event.name.startswith("call."):
        return _called(event)
    if event.name == "conversation.late":  # about the client who waits
        person_id = event.payload.get("person_id")
        return [("reply_late", "person", person_id, event.payload)] if person_id else []
    if event.name == "chat.received":  # about the client who wrote (made for them if new)
        person_id = event.payload.get("person_id")
        return [("message_received", "person", person_id, event.payload)] if person_id else []
    if event.name == "webform.submitted":
        return [
            ("form_submitted", subject, event.payload.get(f"{subject}_id"), event.payload)
            for subject in ("person", "deal")
            if event.payload.get(f"{subject}_id")
        ]
    if event.name in MONEY_EVENTS:
        return [
            (trigger, subject, event.payload.get(f"{subject}_id"), event.payload)
            for trigger, _subject, _key in matches
            for subject in MONEY_SUBJECTS
            if event.payload.get(f"{subject}_id")
        ]
    if event.name != "activity.logged":
        return [
            (trigger, subject, event.payload.get(key), event.payload)
            for trigger, subject, key in matches
        ]

    activity = (
        Activity.objects.filter(pk=event.payload.get("activity_id"))
        .values("kind", "deal_id", "person_id", "company_id")
        .first()
    )
    if activity is None:
        return []
    payload = {**event.payload, "kind": activity["kind"]}
    return [
        ("activity_logged", subject, activity[f"{subject}_id"], payload)
        for subject in ("deal", "person", "company")
        if activity[f"{subject}_id"]
    ]


def _called(event: DomainEvent) -> list[tuple[str, str, Any, dict]]:
    """A call is about its client and the open deal it was linked to; "call ended" is for
    calls where someone talked (a missed one is "call missed")."""
    payload = event.payload
    if event.name == "call.missed":
        trigger = "call_missed"
    elif event.name == "call.ended" and payload.get("state") == "ended":
        trigger = "call_ended"
    else:
        return []
    return [
        (trigger, subject, payload[f"{subject}_id"], payload)
        for subject in ("person", "deal")
        if payload.get(f"{subject}_id")
    ]


def _received(event: DomainEvent) -> list[tuple[str, str, Any, dict]]:
    """A received e-mail is about its sender (or the first client it names); with none,
    about nobody yet: only a rule on unknown senders takes it (to make a client)."""
    from accord.comms.models import Message  # automation sits above comms

    found = (
        Message.objects.filter(pk=event.payload.get("message_id"))
        .values("subject", "text", "from_address", "from_name")
        .first()
    )
    if found is None:
        return []
    people = event.payload.get("person_ids") or []
    payload = {
        **event.payload,
        "from": found["from_address"],
        "from_name": found["from_name"],
        "subject": found["subject"],
        "words_in": f"{found['subject']}\n{found['text'][:20000]}".casefold(),
    }
    return [("email_received", "person", people[0] if people else None, payload)]


def matching(event: DomainEvent, rules: list[Rule]) -> list[tuple[str, str, Any, dict, list]]:
    """(trigger, subject, record id, payload, rules) of each record the event is about
    that some of `rules` listen to, by their trigger, subject and options."""
    matches = EVENTS.get(event.name)
    if not matches:
        return []
    wanted = {trigger for trigger, _subject, _key in matches}
    if not any(rule.trigger in wanted for rule in rules):
        return []
    found = []
    for trigger, subject, record_id, payload in records_of(event, matches):
        chosen = [r for r in rules if r.trigger == trigger and r.subject == subject]
        chosen = [r for r in chosen if options_match(r, payload)]
        if record_id is None and trigger == "email_received":
            chosen = [r for r in chosen if (r.trigger_options or {}).get("sender") == "unknown"]
            if chosen:
                found.append((trigger, subject, record_id, payload, chosen))
        elif record_id is not None and chosen:
            found.append((trigger, subject, record_id, payload, chosen))
    return found


def options_match(rule: Rule, payload: dict) -> bool:
    options = rule.trigger_options or {}
    if rule.trigger in ("stage_entered", "stage_left"):
        entered, left = payload.get("stage_id"), payload.get("from_stage_id")
        if entered == left:
            return False  # a card reordered in its column
        stage = options.get("stage")
        moved = entered if rule.trigger == "stage_entered" else left
        return not stage or str(stage) == str(moved)
    if rule.trigger == "activity_logged" and options.get("kind"):
        return options["kind"] == payload.get("kind")
    if rule.trigger == "updated" and options.get("field"):
        return _changed(options, payload)
    if rule.trigger == "email_received":
        return _received_matches(options, payload)
    if rule.trigger == "message_received":
        channel = options.get("channel") or ""
        if channel and channel != payload.get("channel"):
            return False
        words_in = str(payload.get("words_in") or "").casefold()
        return _received_matches(options, {**payload, "words_in": words_in})
    return True


def _received_matches(options: dict, payload: dict) -> bool:
    """From a client / an unknown address, holding any of the words (in its subject or
    text, whatever their case)."""
    sender = options.get("sender") or ""
    if sender == "client" and payload.get("unknown_sender"):
        return False
    if sender == "unknown" and not payload.get("unknown_sender"):
        return False
    words = [w.strip().casefold() for w in str(options.get("words") or "").split(",")]
    words = [w for w in words if w]
    return not words or any(word in payload.get("words_in", "") for word in words)


def _changed(options: dict, payload: dict) -> bool:
    """The field changed, and from and to the values the rule names (when it names them)."""
    change = next(
        (c for c in payload.get("changes") or [] if c.get("field") == options["field"]), None
    )
    if change is None:
        return options["field"] in (payload.get("fields") or [])
    return all(
        conditions.compare(change.get(end), "eq", options[key])
        for key, end in (("from", "old"), ("to", "new"))
        if str(options.get(key) or "").strip()
    )
