"""The demo company's automation: the window shop's first steps as rules (a call within
15 minutes of a request, its head told when nobody called, a measured deal's offer task,
big deals to the head, a payment announced by the bank's system), the first already run
on the newest deals, and two rules left off (a Monday review, a lost deal's second try)."""

from accord.accounts.models import User
from accord.automation import engine, records
from accord.automation.models import Rule
from accord.automation.services import rule_call, rule_save
from accord.sales.models import Deal, Stage

HEAD = {"to": "head"}
OWNER = {"to": "owner"}


def rules(measurement: Stage | None) -> list[dict]:
    found = [
        {
            "name": "Call every request within 15 minutes",
            "description": "The window shop's first promise: a request is called back at once.",
            "subject": "deal",
            "trigger": "created",
            "enabled": True,
            "actions": [
                {
                    "type": "create_task",
                    "params": {
                        "title": "Call {{ client.name }} about “{{ deal.title }}”",
                        "kind": "call",
                        "assignee": OWNER,
                        "due_in": {"amount": 15, "unit": "minutes"},
                    },
                },
                {
                    "type": "wait",
                    "params": {
                        "until": {
                            "items": [{"field": "deal.stage", "op": "ne", "value": "Request"}]
                        },
                        "timeout": {"amount": 1, "unit": "hours"},
                    },
                    "timeout_steps": [
                        {
                            "type": "notify",
                            "params": {
                                "to": HEAD,
                                "message": "Nobody has moved “{{ deal.title }}” "
                                "({{ owner.name }}) an hour after the request.",
                            },
                        }
                    ],
                },
            ],
        },
        {
            "name": "Big deals to the head of sales",
            "subject": "deal",
            "trigger": "created",
            "enabled": True,
            "conditions": {
                "match": "all",
                "items": [{"field": "deal.amount", "op": "gte", "value": "5000"}],
            },
            "actions": [
                {
                    "type": "notify",
                    "params": {
                        "to": HEAD,
                        "message": "A big deal: “{{ deal.title }}”, {{ deal.amount }} "
                        "{{ deal.currency }}, {{ owner.name }}.",
                    },
                }
            ],
        },
        {
            "name": "Payment from the bank: book the installation",
            "description": "The bank's system calls this rule's address when a client pays "
            "(the deal's id and the amount).",
            "subject": "deal",
            "trigger": "webhook",
            "enabled": True,
            "actions": [
                {"type": "add_tag", "params": {"tag": "paid"}},
                {
                    "type": "create_task",
                    "params": {
                        "title": "{{ client.name }} paid {{ trigger.amount }}: book the "
                        "installation",
                        "kind": "call",
                        "assignee": OWNER,
                        "due_in": {"amount": 2, "unit": "hours"},
                    },
                },
            ],
        },
        {
            "name": "Monday review of open deals",
            "subject": "deal",
            "trigger": "schedule",
            "trigger_options": {"every": "week", "weekdays": [0], "time": "09:00"},
            "enabled": False,
            "conditions": {
                "match": "all",
                "items": [{"field": "deal.amount", "op": "gte", "value": "3000"}],
            },
            "actions": [
                {
                    "type": "notify",
                    "params": {
                        "to": OWNER,
                        "message": "This week: move “{{ deal.title }}” on, or close it.",
                    },
                }
            ],
        },
        {
            "name": "Lost deals: ask again in three months",
            "subject": "deal",
            "trigger": "lost",
            "enabled": False,
            "actions": [
                {"type": "wait", "params": {"amount": 90, "unit": "days"}},
                {
                    "type": "create_task",
                    "params": {
                        "title": "Ask {{ client.name }} whether the windows are still wanted",
                        "kind": "call",
                        "assignee": OWNER,
                        "due_in": {"amount": 1, "unit": "working_days"},
                    },
                },
            ],
        },
    ]
    if measurement is not None:
        found.insert(
            1,
            {
                "name": "Measured: work out the price",
                "subject": "deal",
                "trigger": "stage_entered",
                "enabled": True,
                "trigger_options": {"stage": measurement.pk},
                "actions": [
                    {
                        "type": "create_task",
                        "params": {
                            "title": "Work out the price for {{ client.name }} and agree it",
                            "kind": "call",
                            "assignee": OWNER,
                            "due_in": {"amount": 1, "unit": "working_days"},
                        },
                    },
                    {"type": "add_tag", "params": {"tag": "measured"}},
                ],
            },
        )
    return found


def populate() -> None:
    if Rule.objects.exists():
        return
    admin = User.objects.filter(role__slug="administrator", is_active=True).first()
    if admin is None:
        return
    measurement = Stage.objects.filter(name="Measurement", pipeline__name="Windows").first()
    made = [rule_save(actor=admin, data=data) for data in rules(measurement)]
    newest = Deal.objects.filter(status=Deal.OPEN).order_by("-created_at")[:6]
    for deal in newest:  # the first rule, as if these deals had come in just now
        view = records.view("deal", deal.pk)
        run = engine.start(
            made[0], "deal.created", "deal", deal.pk, view, context={"event": "deal.created"}
        )
        if run is not None:
            engine.execute(run.pk)
    _a_payment_arrives(made, newest)


def _a_payment_arrives(made: list[Rule], deals) -> None:
    """The bank's system called the payment rule once, for the newest deal."""

    payment = next((rule for rule in made if rule.trigger == "webhook"), None)
    if payment is not None and deals:
        rule_call(secret=payment.secret, data={"id": deals[0].pk, "amount": "1 850 EUR"})
