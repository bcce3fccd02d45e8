"""Ready-made rule sets an administrator installs in one go (Settings → Automation, or
`accord blueprint install NAME`) and then adjusts. They are installed switched off — an
e-mail or a task for the whole team should start when someone has looked at them.

- window-shop: the requirements' window shop, from a request left on the web site (sent
  to the first rule's address) to the head of sales' report, as eight rules on a
  "Windows" pipeline; what they need is made when missing: the pipeline and its stages,
  the roles "Measurer" and "Installer", the deal's fields (number of windows, sizes,
  installation date) and the "Window sales" team whose lead rule gives requests out;
- birthday-greeting: an e-mail on each client's birthday, with marketing consent;
- holiday-greeting: an e-mail on each holiday of the client's country (automation/holidays.py),
  with marketing consent, the first list of holidays made for the company's country;
- new-lead-sla: a new lead nobody has called within 30 minutes goes to the head;
- invoice-overdue: an invoice past its due date gets a reminder task and tells the head;
- deal-rotting: a deal past its stage's limit gets a task for its owner.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.accounts.models import Role, Team, User
from accord.accounts.services import role_save, team_save
from accord.automation.holidays import holidays_seed
from accord.automation.models import Rule
from accord.automation.services import require_automation, rule_save
from accord.core.models import CustomField
from accord.core.services import custom_field_save
from accord.documents.models import DocumentTemplate
from accord.marketing.models import Channel, WebForm
from accord.marketing.services import form_save, may_write_campaign
from accord.marketing.services.surveys import default_survey
from accord.reports.models import Dashboard, Widget
from accord.reports.services import dashboard_create
from accord.sales.models import Pipeline, Stage
from accord.sales.services import pipeline_create


@dataclass(frozen=True)
class Blueprint:
    name: str
    label: Any
    description: Any


BLUEPRINTS = {
    b.name: b
    for b in [
        Blueprint(
            "window-shop",
            gettext_lazy("The window shop"),
            gettext_lazy(
                "A request from the web site (sent to the first rule's address) becomes a client "
                "and a deal, which gets a call within 15 minutes (or the head hears of it), the "
                "call a measurement task for the measurer, the measurements a price task for the "
                "manager, the contract stage the contract, its invoice and a task, the paid "
                "invoice installation, installation a notice and a task for the installer, a won "
                "deal a report to the head of sales."
            ),
        ),
        Blueprint(
            "birthday-greeting",
            gettext_lazy("Birthday greeting"),
            gettext_lazy(
                "Every morning, an e-mail to each client whose birthday it is — only to those who "
                "agree to marketing."
            ),
        ),
        Blueprint(
            "holiday-greeting",
            gettext_lazy("Holiday greeting"),
            gettext_lazy(
                "On each holiday of Settings → Automation → Holidays, an e-mail to the clients of "
                "its country, in their language — once a year each, only to those who agree to "
                "offers and news."
            ),
        ),
        Blueprint(
            "new-lead-sla",
            gettext_lazy("New lead: call within 30 minutes"),
            gettext_lazy(
                "A task to call each new lead; if nobody has been in touch 30 minutes later, the "
                "head of the owner's team is told."
            ),
        ),
        Blueprint(
            "invoice-overdue",
            gettext_lazy("Overdue invoices"),
            gettext_lazy(
                "An invoice of a deal not paid by its due date: a task for the deal's owner to "
                "remind the client, and a notice to the head of the owner's team."
            ),
        ),
        Blueprint(
            "deal-rotting",
            gettext_lazy("Stuck deals"),
            gettext_lazy(
                "A deal that stays in a stage longer than the stage's limit gets a task for its "
                "owner to move it on or close it."
            ),
        ),
        Blueprint(
            "feedback",
            gettext_lazy("Feedback after a sale"),
            gettext_lazy(
                "A day after a deal is won, its client gets a link to a short survey (would they "
                "recommend us, 0–10, and a comment) by e-mail; a low score becomes a task for the "
                "head of the manager's team to call them."
            ),
        ),
    ]
}
OWNER, HEAD = {"to": "owner"}, {"to": "head"}
# What the texts' placeholders stand for, filled in when a rule runs.
CLIENT, DEAL, OWNER_NAME = "{{ client.name }}", "{{ deal.title }}", "{{ owner.name }}"
AMOUNT = "{{ deal.amount }} {{ deal.currency }}"
NAME = "{{ person.first_name }}"


def in_every_language(write: Callable[[], dict]) -> dict:
    """The texts `write` gives in the active language (the installer's), with a variant
    in each other language Accord speaks: whoever reads a task or a notice gets theirs."""
    texts = write()
    variants = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            if (written := write()) != texts:
                variants[code] = written
    return {**texts, "translations": variants}


def _task(title: Callable[[], str], who: dict, amount: int, unit: str, kind: str = "call") -> dict:
    return {
        "type": "create_task",
        "params": {
            **in_every_language(lambda: {"title": title()}),
            "kind": kind,
            "assignee": who,
            "due_in": {"amount": amount, "unit": unit},
        },
    }


def _notify(who: dict, message: Callable[[], str]) -> dict:
    return {
        "type": "notify",
        "params": {"to": who, **in_every_language(lambda: {"message": message()})},
    }


def _stage_is(name: str, op: str = "eq") -> dict:
    return {"match": "all", "items": [{"field": "deal.stage", "op": op, "value": name}]}


def _role(actor, name: str, like: str = "manager") -> str:
    """The slug of the role called `name`, made like `like` when there is none."""

    found = Role.objects.filter(name__iexact=name).first()
    if found is None:
        model = Role.objects.filter(slug=like).first()
        found = role_save(
            actor=actor,
            name=name,
            access=model.access if model else {},
            capabilities=[],
            description=_("Added by the window shop blueprint."),
            takes_leads=False,  # in the team for its tasks, not for the requests
        )
    return found.slug


WINDOW_STAGES = [  # name, win probability, days before a deal "sits too long"
    (gettext_lazy("Request"), 10, 1), (gettext_lazy("Measurement"), 30, 3),
    (gettext_lazy("Offer"), 50, 5), (gettext_lazy("Contract"), 70, 5),
    (gettext_lazy("Installation"), 90, 14),
]  # fmt: skip
WINDOW_FIELDS = [  # the deal's own fields the measurer and the installer fill in
    (gettext_lazy("Number of windows"), "number"),
    (gettext_lazy("Window sizes"), "text"),
    (gettext_lazy("Installation date"), "date"),
]
SELLING_ROLES = ("manager", "head-of-sales")


def _install_task(installer: str, date_key: str) -> dict:
    """The installer's task: due on the deal's planned installation date, when it is set
    (its custom field), else two working days after the deal reaches installation."""
    step = _task(lambda: _("Install at %(client)s") % {"client": CLIENT},
                 {"to": "role", "role": installer}, 2, "working_days", "visit")  # fmt: skip
    step["params"]["due_on"] = f"deal.custom.{date_key}"
    return step


def _measure_task(measurer: str, keys: list[str]) -> dict:
    """The measurer's visit: completing it asks for the number of windows and their sizes,
    written onto the deal (the measurer's role need not change deals)."""
    step = _task(lambda: _("Take measurements at %(client)s") % {"client": CLIENT},
                 {"to": "role", "role": measurer}, 1, "working_days", "visit")  # fmt: skip
    step["params"]["asks"] = [f"custom_fields.{key}" for key in keys]
    return step


def _visit_in(stage: str) -> dict:
    """A completed visit while its deal is in `stage`: the measurement, the installation.
    Not by the task's title, which is written in its reader's language."""
    items = [{"field": "task.kind", "op": "eq", "value": "visit"},
             {"field": "deal.stage", "op": "eq", "value": stage}]  # fmt: skip
    return {"match": "all", "items": items}


def _windows_pipeline(actor) -> Pipeline:
    """The "Windows" pipeline, made with its stages when the instance has none yet."""
    name = str(_("Windows"))
    found = Pipeline.objects.filter(retired=False, name__iexact=name).first()
    if found is None:
        stages = [{"name": str(stage), "probability": chance, "rotting_days": days}
                  for stage, chance, days in WINDOW_STAGES]  # fmt: skip
        stages += [{"name": str(_("Won")), "kind": Stage.WON, "probability": 100},
                   {"name": str(_("Lost")), "kind": Stage.LOST, "probability": 0}]  # fmt: skip
        return pipeline_create(actor=actor, name=name, stages=stages)
    return found


def _window_fields(actor) -> list[str]:
    """The deal fields' keys (made when missing), in WINDOW_FIELDS' order."""
    keys = []
    for label, kind in WINDOW_FIELDS:
        label = str(label)
        found = CustomField.objects.filter(record_type="deal", label__iexact=label).first()
        found = found or custom_field_save(actor=actor, record_type="deal", label=label,
                                           type=kind)  # fmt: skip
        keys.append(found.key)
    return keys


def _window_team(actor) -> str:
    """The team whose lead rule gives the requests out: those who sell (managers, heads of
    sales; the installer as the blueprint's author only when nobody else sells)."""
    name = str(_("Window sales"))
    team = Team.objects.filter(name__iexact=name).first()
    if team is None:
        sellers = list(User.objects.filter(is_active=True, role__slug__in=SELLING_ROLES))
        team = team_save(actor=actor, name=name, head=actor, members=sellers or [actor],
                         lead_rule=Team.ROUND_ROBIN)  # fmt: skip
    return team.name


def _window_form(actor, pipeline: Pipeline, team_name: str) -> None:
    """The site's request form (Reports → Campaigns → Web forms): each request a client
    and a deal in the pipeline's first stage, given out by the sales team's lead rule —
    where rule 1 picks it up. Made once, by one whose role runs marketing."""
    name = str(_("Window request"))
    if not may_write_campaign(actor) or WebForm.objects.filter(name=name).exists():
        return
    fields = [{"key": key, "required": key in ("name", "phone")}
              for key in ("name", "phone", "email", "message")]  # fmt: skip
    form_save(actor=actor, data={
        "name": name, "fields": fields, "pipeline": pipeline, "creates_deal": True,
        "team": Team.objects.filter(name=team_name).first(),
        "channel": Channel.objects.filter(code="site").first(),
        "thanks_text": _("Thank you! A manager calls you back within 15 minutes.")})  # fmt: skip


def _window_dashboard(actor, pipeline: Pipeline) -> list[dict]:
    """The head of sales' report, e-mailed on each sale: a shared "Window shop" dashboard
    (the month's sales, the pipeline now, the forecast, the funnel), made once."""
    name = str(_("Window shop"))
    dashboard = Dashboard.objects.filter(name=name, shared=True).first()
    if dashboard is None:
        widgets = [
            Widget(report="sales", chart="number", period="this_month", pipeline=pipeline),
            Widget(report="win_rate", chart="number", period="this_quarter", pipeline=pipeline),
            Widget(report="pipeline", chart="bar", period="this_month", pipeline=pipeline),
            Widget(report="forecast", chart="bar", period="next_3_months", pipeline=pipeline),
            Widget(report="funnel", chart="funnel", period="this_quarter", pipeline=pipeline,
                   wide=True),
        ]  # fmt: skip
        dashboard = dashboard_create(actor=actor, data={"name": name, "shared": True},
                                     widgets=widgets)  # fmt: skip
    return [{"type": "send_dashboard", "params": {"to": HEAD, "dashboard": dashboard.pk}}]


def _contract_document() -> list[dict]:
    """The contract made from the deal as it enters the contract stage, when the company
    has a contract template in use (a new one has the shipped one)."""
    template = (
        DocumentTemplate.objects.filter(kind__code="contract", retired=False, kind__retired=False)
        .order_by("-shipped", "pk")
        .first()
    )
    return [{"type": "generate_document", "params": {"template": template.pk}}] if template else []


def _window_shop(actor) -> list[dict]:
    pipeline = _windows_pipeline(actor)
    stages = list(pipeline.stages.filter(kind=Stage.OPEN, retired=False).order_by("position"))
    if len(stages) < 5:
        raise ValidationError(
            {
                "blueprint": [
                    _(
                        "The window shop needs a pipeline with five open stages (request, "
                        "measurement, offer, contract, installation); %(pipeline)s has "
                        "%(count)s."
                    )
                    % {"pipeline": pipeline.name, "count": len(stages)}
                ]
            }
        )
    fields = _window_fields(actor)
    sales = {"to": "team", "team": _window_team(actor)}
    _window_form(actor, pipeline, sales["team"])
    request, measurement, _offer, contract, installation = stages[:5]
    measurer, installer = _role(actor, "Measurer"), _role(actor, "Installer")
    planned = f"{{{{ deal.custom.{fields[2]}|default:deal.expected_close_date }}}}"
    return [
        {
            "name": _("Window shop 0: a request from the web site"),
            "description": _(
                "A site that posts its own form to this rule's address (name, e-mail, phone, "
                "message): a client (new, or the one with that e-mail or phone) and a deal in "
                "the first stage. The blueprint's web form “Window request” does the same "
                "without this rule."
            ),
            "subject": "person",
            "trigger": "webhook",
            "trigger_options": {"create": True},
            "actions": [
                # The team's lead rule gives the client to a manager (not to the rule's
                # author), and the deal is theirs too.
                {"type": "assign_owner", "params": {"owner": sales}},
                {
                    "type": "create_deal",
                    "params": {
                        **in_every_language(
                            lambda: {
                                "title": _("Windows for %(client)s")
                                % {"client": "{{ person.name }}"}
                            }
                        ),
                        "stage": request.pk,
                        "owner": OWNER,
                    },
                },
            ],
        },
        {
            "name": _("Window shop 0: a request by SMS or a messenger"),
            "description": _(
                "Someone new writes to the shop's Telegram, WhatsApp or SMS number: they are a "
                "new client already (the team's lead rule gave them an owner); a deal in the "
                "first stage starts the same path as a request from the web site."
            ),
            "subject": "person",
            "trigger": "message_received",
            "trigger_options": {"sender": "unknown"},
            "actions": [
                {
                    "type": "create_deal",
                    "params": {
                        **in_every_language(
                            lambda: {
                                "title": _("Windows for %(client)s")
                                % {"client": "{{ person.name }}"}
                            }
                        ),
                        "stage": request.pk,
                        "owner": OWNER,
                    },
                },
            ],
        },
        {
            "name": _("Window shop 1: call every request within 15 minutes"),
            "subject": "deal",
            "trigger": "created",
            "conditions": _stage_is(request.name),
            "actions": [
                _task(
                    lambda: (
                        _("Call %(client)s about “%(deal)s”") % {"client": CLIENT, "deal": DEAL}
                    ),
                    OWNER,
                    15,
                    "minutes",
                ),
                {
                    "type": "wait",
                    "params": {
                        "until": _stage_is(request.name, "ne"),
                        "timeout": {"amount": 15, "unit": "minutes"},
                    },
                    "timeout_steps": [
                        _notify(
                            HEAD,
                            lambda: (
                                _(
                                    "Nobody has called %(client)s about “%(deal)s” (%(owner)s) "
                                    "within 15 minutes."
                                )
                                % {"client": CLIENT, "deal": DEAL, "owner": OWNER_NAME}
                            ),
                        )
                    ],
                },
            ],
        },
        {
            "name": _("Window shop 2: after the call, measurements"),
            "subject": "deal",
            "trigger": "activity_logged",
            "trigger_options": {"kind": "call"},
            "conditions": _stage_is(request.name),
            "actions": [
                _measure_task(measurer, fields[:2]),
                {"type": "move_stage", "params": {"stage": measurement.pk}},
            ],
        },
        {
            "name": _("Window shop 3: measured, now the price"),
            "subject": "task",
            "trigger": "task_completed",
            "conditions": _visit_in(measurement.name),
            "actions": [
                _task(
                    lambda: (
                        _("Work out the price and agree it with %(client)s") % {"client": CLIENT}
                    ),
                    OWNER,
                    1,
                    "working_days",
                )
            ],
        },
        {
            "name": _("Window shop 4: agreed, the contract"),
            "subject": "deal",
            "trigger": "stage_entered",
            "trigger_options": {"stage": contract.pk},
            "actions": [
                *_contract_document(),
                {"type": "issue_invoice", "params": {}},
                _task(
                    lambda: (
                        _("Prepare the contract for %(client)s: “%(deal)s”, %(amount)s")
                        % {"client": CLIENT, "deal": DEAL, "amount": AMOUNT}
                    ),
                    OWNER,
                    1,
                    "working_days",
                    "email",
                ),
            ],
        },
        {
            "name": _("Window shop 4: the invoice paid, on to installation"),
            "description": _(
                "The contract's invoice (issued when the deal entered the contract stage) is "
                "paid in full: the deal moves to installation, which tells the installer."
            ),
            "subject": "deal",
            "trigger": "invoice_paid",
            "conditions": _stage_is(contract.name),
            "actions": [{"type": "move_stage", "params": {"stage": installation.pk}}],
        },
        {
            "name": _("Window shop 5: paid, installation"),
            "subject": "deal",
            "trigger": "stage_entered",
            "trigger_options": {"stage": installation.pk},
            "actions": [
                _notify(
                    {"to": "role", "role": installer},
                    lambda: (
                        _("Installation at %(client)s: “%(deal)s”, planned for %(date)s.")
                        % {"client": CLIENT, "deal": DEAL, "date": planned}
                    ),
                ),
                _install_task(installer, fields[2]),
            ],
        },
        {
            "name": _("Window shop 6: installed, the report to the head of sales"),
            "subject": "task",
            "trigger": "task_completed",
            "conditions": _visit_in(installation.name),
            "actions": [
                _notify(
                    HEAD,
                    lambda: (
                        _("Installed at %(client)s: “%(deal)s”, %(amount)s. %(result)s")
                        % {
                            "client": CLIENT,
                            "deal": DEAL,
                            "amount": AMOUNT,
                            "result": "{{ task.result }}",
                        }
                    ),
                )
            ],
        },
        {
            "name": _("Window shop 7: won, the report"),
            "subject": "deal",
            "trigger": "won",
            "actions": [
                _notify(
                    HEAD,
                    lambda: (
                        _("“%(deal)s” is done: %(amount)s, %(owner)s, for %(client)s.")
                        % {"deal": DEAL, "amount": AMOUNT, "owner": OWNER_NAME, "client": CLIENT}
                    ),
                ),
                *_window_dashboard(actor, pipeline),
            ],
        },
    ]


def _birthday(actor) -> list[dict]:
    return _greeting(
        _("Birthday greeting"),
        "birthday",
        lambda: {
            "subject": _("Happy birthday, %(name)s!") % {"name": NAME},
            "body": _("Dear %(name)s,\n\nall of us wish you a happy birthday!\n\n%(owner)s")
            % {"name": NAME, "owner": OWNER_NAME},
        },
    )


def _holiday(actor) -> list[dict]:
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


def _new_lead(actor) -> list[dict]:
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
                _task(
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
                        _notify(
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


def _rotting(actor) -> list[dict]:
    return [
        {
            "name": _("Stuck deals"),
            "subject": "deal",
            "trigger": "deal_idle",
            "actions": [
                _task(
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


def _overdue(actor) -> list[dict]:
    return [
        {
            "name": _("Overdue invoices"),
            "subject": "deal",
            "trigger": "invoice_overdue",
            "actions": [
                _task(
                    lambda: (
                        _("Remind %(client)s: the invoice for “%(deal)s” is overdue")
                        % {"client": CLIENT, "deal": DEAL}
                    ),
                    OWNER,
                    1,
                    "working_days",
                ),
                _notify(
                    HEAD,
                    lambda: (
                        _("%(client)s has not paid the invoice for “%(deal)s” (%(owner)s).")
                        % {"client": CLIENT, "deal": DEAL, "owner": OWNER_NAME}
                    ),
                ),
            ],
        }
    ]


def _feedback(actor) -> list[dict]:
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


RULES = {
    "window-shop": _window_shop,
    "feedback": _feedback,
    "invoice-overdue": _overdue,
    "birthday-greeting": _birthday,
    "holiday-greeting": _holiday,
    "new-lead-sla": _new_lead,
    "deal-rotting": _rotting,
}


@transaction.atomic
def install(*, actor, name: str) -> list[Rule]:
    """Add the blueprint's rules, switched off (a second install adds them again)."""

    require_automation(actor)
    if name not in BLUEPRINTS:
        raise ValidationError(
            {
                "blueprint": [
                    _("There is no blueprint %(name)s: choose one of %(names)s.")
                    % {"name": name, "names": ", ".join(BLUEPRINTS)}
                ]
            }
        )
    return [
        rule_save(actor=actor, data={**data, "enabled": False, "blueprint": name})
        for data in RULES[name](actor)
    ]
