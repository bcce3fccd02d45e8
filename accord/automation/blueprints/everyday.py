"""The everyday blueprints: birthday and holiday greetings, a new lead called within 30
minutes, stuck deals, overdue invoices, feedback after a sale."""

from django.utils.translation import gettext as _

from accord.automation.blueprints.parts import (
    CLIENT,
    DEAL,
    HEAD,
    NAME,
    OWNER,
    OWNER_NAME,
    in_every_language,
    notify,
    task,
)
from accord.automation.holidays import holidays_seed
from accord.marketing.services.surveys import default_survey


def birthday(actor) -> list[dict]:
    return _greeting(
        _("Birthday greeting"),
        "birthday",
        lambda: {
            "subject": _("Happy birthday, %(name)s!") % {"name": NAME},
            "body": _("Dear %(name)s,\n\nall of us wish you a happy birthday!\n\n%(owner)s")
            % {"name": NAME, "owner": OWNER_NAME},
        },
    )


def holiday(actor) -> list[dict]:
    holidays_seed(actor=actor)
    return _greeting(
        _("Holiday greeting"),
        "holiday",
        lambda: {
            "subject": _("Happy holidays, %(name)s!") % {"name": NAME},
            "body": _("Dear %(name)s,\n\nall of us wish you a happy holiday!\n\n%(owner)s")
            % {"name": NAME, "owner": OWNER_NAME},
        },
    )


def _greeting(name: str, field: str, words) -> list[dict]:
    """A rule that greets, on the day in `field`, each person who agreed to offers and
    news and has an address, in their language (`words`: its subject and body)."""
    return [
        {
            "name": name,
            "subject": "person",
            "trigger": "date_reached",
            "trigger_options": {"field": field, "time": "09:00"},
            "conditions": {
                "match": "all",
                "items": [
                    {"field": "person.marketing_consent", "op": "eq", "value": "true"},
                    {"field": "person.email", "op": "not_empty"},
                ],
            },
            "actions": [
                {
                    "type": "send_email",
                    "params": {**in_every_language(words), "marketing": True},
                }
            ],
        }
    ]


def new_lead(actor) -> list[dict]:
    return [
        {
            "name": _("New lead: call within 30 minutes"),
            "subject": "person",
            "trigger": "created",
            "conditions": {
                "match": "all",
                "items": [{"field": "person.kind", "op": "eq", "value": "lead"}],
            },
            "actions": [
                task(
                    lambda: _("Call the new lead %(client)s") % {"client": "{{ person.name }}"},
                    OWNER,
                    30,
                    "minutes",
                ),
                {
                    "type": "wait",
                    "params": {
                        "until": {
                            "match": "all",
                            "items": [{"field": "person.last_contact", "op": "not_empty"}],
                        },
                        "timeout": {"amount": 30, "unit": "minutes"},
                    },
                    "timeout_steps": [
                        notify(
                            HEAD,
                            lambda: (
                                _(
                                    "Nobody has called the new lead %(client)s (%(owner)s) in 30 "
                                    "minutes."
                                )
                                % {"client": "{{ person.name }}", "owner": OWNER_NAME}
                            ),
                        )
                    ],
                },
            ],
        }
    ]


def rotting(actor) -> list[dict]:
    return [
        {
            "name": _("Stuck deals"),
            "subject": "deal",
            "trigger": "deal_idle",
            "actions": [
                task(
                    lambda: (
                        _("“%(deal)s” is stuck in %(stage)s: move it on or close it")
                        % {"deal": DEAL, "stage": "{{ deal.stage }}"}
                    ),
                    OWNER,
                    1,
                    "working_days",
                )
            ],
        }
    ]


def overdue(actor) -> list[dict]:
    return [
        {
            "name": _("Overdue invoices"),
            "subject": "deal",
            "trigger": "invoice_overdue",
            "actions": [
                task(
                    lambda: (
                        _("Remind %(client)s: the invoice for “%(deal)s” is overdue")
                        % {"client": CLIENT, "deal": DEAL}
                    ),
                    OWNER,
                    1,
                    "working_days",
                ),
                notify(
                    HEAD,
                    lambda: (
                        _("%(client)s has not paid the invoice for “%(deal)s” (%(owner)s).")
                        % {"client": CLIENT, "deal": DEAL, "owner": OWNER_NAME}
                    ),
                ),
            ],
        }
    ]


def feedback(actor) -> list[dict]:
    survey = default_survey(actor)
    return [
        {
            "name": _("Feedback after a sale"),
            "subject": "deal",
            "trigger": "won",
            "actions": [
                {"type": "wait", "params": {"amount": 1, "unit": "days"}},
                {"type": "send_survey", "params": {"survey": survey.pk, "via": ""}},
            ],
        }
    ]
