"""Ready-made rule sets an administrator installs in one go (Settings → Automation, or
`accord blueprint install NAME`) and then adjusts. They are installed switched off — an
e-mail or a task for the whole team should start when someone has looked at them.

- window-shop: the requirements' window shop, from a request left on the web site (sent
  to the first rule's address) to the head of sales' report, as eight rules on a
  "Windows" pipeline; what they need is made when missing: the pipeline and its stages,
  the roles "Measurer" and "Installer", the deal's fields (number of windows, sizes,
  installation date) and the "Window sales" team whose lead rule gives requests out;
- birthday-greeting: an e-mail on each client's birthday, with marketing consent;
- new-lead-sla: a new lead nobody has called within 30 minutes goes to the head;
- deal-rotting: a deal past its stage's limit gets a task for its owner.
"""

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.accounts.models import Role, Team, User
from accord.accounts.services import role_save, team_save
from accord.automation.models import Rule
from accord.automation.services import require_automation, rule_save
from accord.core.models import CustomField
from accord.core.services import custom_field_save
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
                "manager, the contract stage a contract task, installation a notice and a task "
                "for the installer, a won deal a report to the head of sales."
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
            "new-lead-sla",
            gettext_lazy("New lead: call within 30 minutes"),
            gettext_lazy(
                "A task to call each new lead; if nobody has been in touch 30 minutes later, the "
                "head of the owner's team is told."
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
    ]
}
OWNER, HEAD = {"to": "owner"}, {"to": "head"}


def _task(title: str, who: dict, amount: int, unit: str, kind: str = "call") -> dict:
    return {
        "type": "create_task",
        "params": {
            "title": title,
            "kind": kind,
            "assignee": who,
            "due_in": {"amount": amount, "unit": unit},
        },
    }


def _notify(who: dict, message: str) -> dict:
    return {"type": "notify", "params": {"to": who, "message": message}}


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


def _install_task(client: str, installer: str, date_key: str) -> dict:
    """The installer's task: due on the deal's planned installation date, when it is set
    (its custom field), else two working days after the deal reaches installation."""
    step = _task(f"Install at {client}", {"to": "role", "role": installer}, 2, "working_days",
                 "visit")  # fmt: skip
    step["params"]["due_on"] = f"deal.custom.{date_key}"
    return step


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
    request, measurement, _offer, contract, installation = stages[:5]
    measurer, installer = _role(actor, "Measurer"), _role(actor, "Installer")
    client = "{{ client.name }}"
    return [
        {
            "name": "Window shop 0: a request from the web site",
            "description": "The web site's form sends the visitor's name, e-mail, phone and "
            "message to this rule's address: a client (new, or the one with that e-mail or "
            "phone) and a deal in the first stage.",
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
                        "title": "Windows for {{ person.name }}",
                        "stage": request.pk,
                        "owner": OWNER,
                    },
                },
            ],
        },
        {
            "name": "Window shop 1: call every request within 15 minutes",
            "subject": "deal",
            "trigger": "created",
            "conditions": _stage_is(request.name),
            "actions": [
                _task(f"Call {client} about “{{{{ deal.title }}}}”", OWNER, 15, "minutes"),
                {
                    "type": "wait",
                    "params": {
                        "until": _stage_is(request.name, "ne"),
                        "timeout": {"amount": 15, "unit": "minutes"},
                    },
                    "timeout_steps": [
                        _notify(
                            HEAD,
                            f"Nobody has called {client} about "
                            "“{{ deal.title }}” ({{ owner.name }}) within 15 minutes.",
                        )
                    ],
                },
            ],
        },
        {
            "name": "Window shop 2: after the call, measurements",
            "subject": "deal",
            "trigger": "activity_logged",
            "trigger_options": {"kind": "call"},
            "conditions": _stage_is(request.name),
            "actions": [
                _task(
                    f"Take measurements at {client}",
                    {"to": "role", "role": measurer},
                    1,
                    "working_days",
                    "visit",
                ),
                {"type": "move_stage", "params": {"stage": measurement.pk}},
            ],
        },
        {
            "name": "Window shop 3: measured, now the price",
            "subject": "task",
            "trigger": "task_completed",
            "conditions": {
                "match": "all",
                "items": [{"field": "task.title", "op": "contains", "value": "Take measurements"}],
            },
            "actions": [
                _task(f"Work out the price and agree it with {client}", OWNER, 1, "working_days")
            ],
        },
        {
            "name": "Window shop 4: agreed, the contract",
            "subject": "deal",
            "trigger": "stage_entered",
            "trigger_options": {"stage": contract.pk},
            "actions": [
                _task(
                    f"Prepare the contract for {client}: “{{{{ deal.title }}}}”, "
                    "{{ deal.amount }} {{ deal.currency }}",
                    OWNER,
                    1,
                    "working_days",
                    "email",
                )
            ],
        },
        {
            "name": "Window shop 5: paid, installation",
            "subject": "deal",
            "trigger": "stage_entered",
            "trigger_options": {"stage": installation.pk},
            "actions": [
                _notify(
                    {"to": "role", "role": installer},
                    f"Installation at {client}: “{{{{ deal.title }}}}”, planned for "
                    "{{ deal.expected_close_date }}.",
                ),
                _install_task(client, installer, fields[2]),
            ],
        },
        {
            "name": "Window shop 6: installed, the report to the head of sales",
            "subject": "task",
            "trigger": "task_completed",
            "conditions": {
                "match": "all",
                "items": [{"field": "task.title", "op": "contains", "value": "Install at"}],
            },
            "actions": [
                _notify(
                    HEAD,
                    f"Installed at {client}: “{{{{ deal.title }}}}”, {{{{ deal.amount }}}} "
                    "{{ deal.currency }}. {{ task.result }}",
                )
            ],
        },
        {
            "name": "Window shop 7: won, the report",
            "subject": "deal",
            "trigger": "won",
            "actions": [
                _notify(
                    HEAD,
                    "“{{ deal.title }}” is done: {{ deal.amount }} "
                    "{{ deal.currency }}, {{ owner.name }}, for " + client + ".",
                )
            ],
        },
    ]


def _birthday(actor) -> list[dict]:
    return [
        {
            "name": "Birthday greeting",
            "subject": "person",
            "trigger": "date_reached",
            "trigger_options": {"field": "birthday", "time": "09:00"},
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
                    "params": {
                        "subject": "Happy birthday, {{ person.first_name }}!",
                        "body": "Dear {{ person.first_name }},\n\n"
                        "all of us wish you a happy birthday!\n\n{{ owner.name }}",
                        "marketing": True,
                    },
                }
            ],
        }
    ]


def _new_lead(actor) -> list[dict]:
    return [
        {
            "name": "New lead: call within 30 minutes",
            "subject": "person",
            "trigger": "created",
            "conditions": {
                "match": "all",
                "items": [{"field": "person.kind", "op": "eq", "value": "lead"}],
            },
            "actions": [
                _task("Call the new lead {{ person.name }}", OWNER, 30, "minutes"),
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
                            "Nobody has called the new lead "
                            "{{ person.name }} ({{ owner.name }}) in 30 minutes.",
                        )
                    ],
                },
            ],
        }
    ]


def _rotting(actor) -> list[dict]:
    return [
        {
            "name": "Stuck deals",
            "subject": "deal",
            "trigger": "deal_idle",
            "actions": [
                _task(
                    "“{{ deal.title }}” is stuck in {{ deal.stage }}: move it on or close it",
                    OWNER,
                    1,
                    "working_days",
                )
            ],
        }
    ]


RULES = {
    "window-shop": _window_shop,
    "birthday-greeting": _birthday,
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
