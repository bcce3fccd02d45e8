"""The demo company's automation: the window shop's first steps as rules (a call within
15 minutes of a request, its head told when nobody called, a measured deal's offer task,
big deals to the head, a payment announced by the bank's system), the first already run
on the newest deals, and three rules left off (a big offer's price checked by the head of
sales, a Monday review, a lost deal's second try), and a new client made of anyone new
who e-mails the shop."""

from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.automation import engine, records
from accord.automation.blueprints.parts import AMOUNT, CLIENT, DEAL, OWNER_NAME, in_every_language
from accord.automation.models import Rule
from accord.automation.services import rule_call, rule_save
from accord.sales.models import Deal, Stage

HEAD = {"to": "head"}
OWNER = {"to": "owner"}


def rules(measurement: Stage | None, offer: Stage | None = None) -> list[dict]:
    found = [
        {
            "name": _("Call every request within 15 minutes"),
            "description": _("The window shop's first promise: a request is called back at once."),
            "subject": "deal",
            "trigger": "created",
            "enabled": True,
            "actions": [
                {
                    "type": "create_task",
                    "params": {
                        **in_every_language(
                            lambda: {
                                "title": _("Call %(client)s about “%(deal)s”")
                                % {"client": CLIENT, "deal": DEAL}
                            }
                        ),
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
                                **in_every_language(
                                    lambda: {
                                        "message": _(
                                            "Nobody has moved “%(deal)s” (%(owner)s) an hour "
                                            "after the request."
                                        )
                                        % {"deal": DEAL, "owner": OWNER_NAME}
                                    }
                                ),
                            },
                        }
                    ],
                },
            ],
        },
        {
            "name": _("Big deals to the head of sales"),
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
                        **in_every_language(
                            lambda: {
                                "message": _("A big deal: “%(deal)s”, %(amount)s, %(owner)s.")
                                % {"deal": DEAL, "amount": AMOUNT, "owner": OWNER_NAME}
                            }
                        ),
                    },
                }
            ],
        },
        {
            "name": _("Payment from the bank: book the installation"),
            "description": _(
                "The bank's system calls this rule's address when a client pays (the deal's id "
                "and the amount)."
            ),
            "subject": "deal",
            "trigger": "webhook",
            "enabled": True,
            "actions": [
                {"type": "add_tag", "params": {"tag": "paid"}},
                {
                    "type": "create_task",
                    "params": {
                        **in_every_language(
                            lambda: {
                                "title": _("%(client)s paid %(amount)s: book the installation")
                                % {"client": CLIENT, "amount": "{{ trigger.amount }}"}
                            }
                        ),
                        "kind": "call",
                        "assignee": OWNER,
                        "due_in": {"amount": 2, "unit": "hours"},
                    },
                },
            ],
        },
        {
            "name": _("Monday review of open deals"),
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
                        **in_every_language(
                            lambda: {
                                "message": _("This week: move “%(deal)s” on, or close it.")
                                % {"deal": DEAL}
                            }
                        ),
                    },
                }
            ],
        },
        {
            "name": _("Lost deals: ask again in three months"),
            "subject": "deal",
            "trigger": "lost",
            "enabled": False,
            "actions": [
                {"type": "wait", "params": {"amount": 90, "unit": "days"}},
                {
                    "type": "create_task",
                    "params": {
                        **in_every_language(
                            lambda: {
                                "title": _("Ask %(client)s whether the windows are still wanted")
                                % {"client": CLIENT}
                            }
                        ),
                        "kind": "call",
                        "assignee": OWNER,
                        "due_in": {"amount": 1, "unit": "working_days"},
                    },
                },
            ],
        },
    ]
    if offer is not None:  # a named user, a team and the record's fields, as the editor shows
        found.insert(
            -2,
            {
                "name": "Big offers: David checks the price",
                "description": "An offer over 5,000 from the sales team goes past the head "
                "of sales before the client sees it.",
                "subject": "deal",
                "trigger": "stage_entered",
                "enabled": False,
                "trigger_options": {"stage": offer.pk},
                "conditions": {
                    "match": "all",
                    "items": [
                        {"field": "deal.amount", "op": "gte", "value": "5000"},
                        {"field": "deal.owner_team", "op": "eq", "value": "Sales"},
                    ],
                },
                "actions": [
                    {
                        "type": "create_task",
                        "params": {
                            "title": "Check the price of “{{ deal.title }}” for "
                            "{{ client.first_name }} {{ client.last_name }}",
                            "kind": "other",
                            "description": "{{ owner.name }} offers {{ deal.amount }} "
                            "{{ deal.currency }}. The client's phone: {{ client.phone }}.",
                            "assignee": {"to": "user", "user": "head@example.com"},
                            "due_in": {"amount": 4, "unit": "hours"},
                        },
                    }
                ],
            },
        )
    if measurement is not None:
        found.insert(
            1,
            {
                "name": _("Measured: work out the price"),
                "subject": "deal",
                "trigger": "stage_entered",
                "enabled": True,
                "trigger_options": {"stage": measurement.pk},
                "actions": [
                    {
                        "type": "create_task",
                        "params": {
                            **in_every_language(
                                lambda: {
                                    "title": _("Work out the price for %(client)s and agree it")
                                    % {"client": CLIENT}
                                }
                            ),
                            "kind": "call",
                            "assignee": OWNER,
                            "due_in": {"amount": 1, "unit": "working_days"},
                        },
                    },
                    {"type": "add_tag", "params": {"tag": "measured"}},
                ],
            },
        )
    found.append(
        {
            "name": _("A new address writes: a new client, answered within an hour"),
            "description": _("Someone who is not a client yet e-mails the shop: they become "
                             "a client, shared out like any new lead, and are answered."),
            "subject": "person",
            "trigger": "email_received",
            "enabled": True,
            "trigger_options": {"sender": "unknown"},
            "actions": [
                {"type": "client_from_sender", "params": {}},
                {
                    "type": "create_task",
                    "params": {
                        **in_every_language(
                            lambda: {"title": _("Answer the e-mail of %(client)s")
                                     % {"client": CLIENT}}
                        ),
                        "kind": "email",
                        "assignee": OWNER,
                        "due_in": {"amount": 1, "unit": "hours"},
                    },
                },
            ],
        }
    )  # fmt: skip
    return found


def populate() -> None:
    if Rule.objects.exists():
        return
    admin = User.objects.filter(role__slug="administrator", is_active=True).first()
    if admin is None:
        return
    windows = Stage.objects.filter(pipeline__name="Windows")
    measurement = windows.filter(name="Measurement").first()
    offer = windows.filter(name="Offer").first()
    made = [rule_save(actor=admin, data=data) for data in rules(measurement, offer)]
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
