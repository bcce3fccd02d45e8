"""The window shop of the requirements, from a request on the web site to the head of
sales' report: its rules, and what they need made when missing (the pipeline and its
stages, the roles, the deal's fields, the team, the web form, the contract, a dashboard)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.accounts.models import Role, Team, User
from accord.accounts.services import role_save, team_save
from accord.automation.blueprints.parts import (
    AMOUNT,
    CLIENT,
    DEAL,
    HEAD,
    OWNER,
    OWNER_NAME,
    in_every_language,
    notify,
    stage_is,
    task,
)
from accord.core.models import CustomField
from accord.core.services import custom_field_save
from accord.documents.models import DocumentTemplate
from accord.marketing.models import Channel, WebForm
from accord.marketing.services import form_save, may_write_campaign
from accord.reports.models import Dashboard, Widget
from accord.reports.services import dashboard_create
from accord.sales.models import Pipeline, Stage
from accord.sales.services import pipeline_create


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
    step = task(lambda: _("Install at %(client)s") % {"client": CLIENT},
                 {"to": "role", "role": installer}, 2, "working_days", "visit")  # fmt: skip
    step["params"]["due_on"] = f"deal.custom.{date_key}"
    return step


def _measure_task(measurer: str, keys: list[str]) -> dict:
    """The measurer's visit: completing it asks for the number of windows and their sizes,
    written onto the deal (the measurer's role need not change deals)."""
    step = task(lambda: _("Take measurements at %(client)s") % {"client": CLIENT},
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


def window_shop(actor) -> list[dict]:
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
            "conditions": stage_is(request.name),
            "actions": [
                task(
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
                        "until": stage_is(request.name, "ne"),
                        "timeout": {"amount": 15, "unit": "minutes"},
                    },
                    "timeout_steps": [
                        notify(
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
            "conditions": stage_is(request.name),
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
                task(
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
                task(
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
            "conditions": stage_is(contract.name),
            "actions": [{"type": "move_stage", "params": {"stage": installation.pk}}],
        },
        {
            "name": _("Window shop 5: paid, installation"),
            "subject": "deal",
            "trigger": "stage_entered",
            "trigger_options": {"stage": installation.pk},
            "actions": [
                notify(
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
                notify(
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
                notify(
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
