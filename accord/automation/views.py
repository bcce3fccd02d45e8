"""Settings → Automation: the rules (on and off, broken, paused), a rule's page with its
steps in words and its runs, a test run on a record found by searching."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accord.accounts.models import Role, Team
from accord.automation import (
    describe,
    editor,
    pickers,
    queries,
    records,
    scheduler,
    services,
    triggers,
)
from accord.automation.actions.durations import UNITS
from accord.automation.blueprints import BLUEPRINTS, install
from accord.automation.conditions import OPERATORS
from accord.automation.models import Rule
from accord.comms.models import EmailTemplate, Mailbox, Messenger
from accord.contacts.queries import segments_visible_to
from accord.core.errors import message_of
from accord.core.models import CustomField
from accord.documents.fields import language_choices
from accord.documents.queries import templates_in_use
from accord.marketing.models import Survey
from accord.reports.models import Dashboard
from accord.sales.models import Stage
from accord.work import asks
from accord.work.models import Task

UNIT_LABELS = {
    "minutes": _lazy("minutes"),
    "hours": _lazy("hours"),
    "days": _lazy("days"),
    "working_days": _lazy("working days"),
}
WHO = [
    ("owner", _lazy("the owner")),
    ("user", _lazy("a user…")),
    ("role", _lazy("a role in the owner's team…")),
    ("head", _lazy("the head of the owner's team")),
    ("team", _lazy("whom a team's lead rule chooses…")),
]
# What the search box of "Test on a record" asks for, by the rule's record.
FIND = {
    "person": _lazy("Name, phone, e-mail or number"),
    "company": _lazy("Name, phone, e-mail or number"),
    "deal": _lazy("The deal's title or number"),
    "task": _lazy("The task's title or number"),
}
EVERY = [("day", _lazy("day")), ("week", _lazy("week, on some days")), ("month", _lazy("month"))]


def require_automation(request) -> None:
    if not request.user.can("manage_automation"):
        raise Http404


@login_required
def rules(request):
    require_automation(request)
    return render(
        request,
        "automation/rules.html",
        {
            "page_title": _("Automation"),
            "section": "automation",
            "rules": [describe.rule_summary(rule) for rule in queries.rules()],
            "blueprints": BLUEPRINTS.values(),
        },
    )


@login_required
@require_POST
def blueprint_install(request, name: str):
    require_automation(request)
    try:
        made = install(actor=request.user, name=name)
    except ValidationError as error:
        messages.error(request, message_of(error))
    else:
        messages.success(
            request,
            ngettext(
                "%(count)s rule added, switched off: look at it and turn it on.",
                "%(count)s rules added, switched off: look at them and turn them on.",
                len(made),
            )
            % {"count": len(made)},
        )
    return redirect("automation_rules")


@login_required
def rule_detail(request, pk: int):
    require_automation(request)
    rule = get_object_or_404(Rule.objects.select_related("created_by"), pk=pk)
    return render(
        request,
        "automation/rule.html",
        {
            "page_title": rule.name,
            "section": "automation",
            "rule": rule,
            "summary": describe.rule_summary(rule),
            "steps": describe.steps(rule.actions, rule.subject),
            "runs": queries.runs_of(rule),
            "hook_url": request.build_absolute_uri(f"/api/v1/hooks/{rule.secret}"),
            "find": FIND.get(rule.subject, ""),
        },
    )


@login_required
@require_POST
def rule_switch(request, pk: int):
    require_automation(request)
    rule = get_object_or_404(Rule, pk=pk)
    enabled = request.POST.get("enabled") == "1"
    try:
        services.rule_enable(actor=request.user, rule=rule, enabled=enabled)
    except ValidationError as error:
        messages.error(request, message_of(error))
    else:
        messages.success(request, _("The rule is on.") if enabled else _("The rule is off."))
    if request.POST.get("back") == "list":
        return redirect("automation_rules")
    return redirect("rule_detail", pk=rule.pk)


@login_required
@require_POST
def rule_test(request, pk: int):
    require_automation(request)
    rule = get_object_or_404(Rule, pk=pk)
    # The record picked from the search's matches, else a number or an address pasted
    # into the search box (also without JavaScript, when nothing fills the choice).
    chosen = records.whole_number(request.POST.get("record"))
    record_id = chosen or queries.record_number(request.POST.get("q", ""))
    if record_id is None:
        messages.error(request, _("Find the record to test on: type its name and pick it."))
        return redirect("rule_detail", pk=rule.pk)
    try:
        run = services.rule_run(actor=request.user, rule=rule, record_id=record_id, dry_run=True)
    except ValidationError as error:
        messages.error(request, message_of(error))
    else:
        holds = run.context.get("conditions_hold")
        messages.success(
            request,
            _("Test run done: see it at the top of the runs.")
            if holds
            else _("Test run done. Note: the rule's conditions do not hold for this record."),
        )
    return redirect("rule_detail", pk=rule.pk)


@login_required
def rule_test_pick(request, pk: int):
    """The options of the test's record picker: the records of the rule's kind the user
    may see matching what was typed (or the one whose number was pasted)."""
    require_automation(request)
    rule = get_object_or_404(Rule, pk=pk)
    query = request.GET.get("q", "").strip()[:200]
    if len(query) < 2 and queries.record_number(query) is None:
        return HttpResponse(status=204)  # htmx keeps the options (and the choice) as they are
    return render(
        request,
        "web/widgets/picker_options.html",
        {
            "empty": "—",
            "options": queries.records_to_test(request.user, rule.subject, query),
            "query": query,
        },
    )


@login_required
@require_POST
def rule_delete(request, pk: int):
    require_automation(request)
    rule = get_object_or_404(Rule, pk=pk)
    services.rule_delete(actor=request.user, rule=rule)
    messages.success(request, _("The rule “%(name)s” is deleted.") % {"name": rule.name})
    return redirect("automation_rules")


@login_required
def rule_new(request):
    require_automation(request)
    return _edit(request, None)


@login_required
def rule_edit(request, pk: int):
    require_automation(request)
    return _edit(request, get_object_or_404(Rule, pk=pk))


def _edit(request, rule: Rule | None):
    """The rule form: conditions as rows, steps as a list; adding, removing and moving
    rows re-shows the form, saving checks the whole rule."""
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data, condition_rows, step_rows = editor.read_post(request.POST)
        step_rows = _moved(request.POST, step_rows)
        if "add_condition" in request.POST:
            condition_rows.append({"field": "", "op": "eq", "value": ""})
        if "add_step" in request.POST:
            step_rows.append({"type": "create_task", "who": "owner", "unit": "hours"})
        if "save" in request.POST:
            try:
                data["actions"] = editor.nest(step_rows)
                saved = services.rule_save(actor=request.user, data=data, rule=rule)
            except editor.EditorError as error:
                errors = {"actions": [str(error)]}
            except ValidationError as error:
                errors = error.message_dict
            else:
                messages.success(request, _("The rule is saved."))
                return redirect("rule_detail", pk=saved.pk)
        editor.indent(step_rows)
    elif rule is not None:
        data = {
            "name": rule.name,
            "description": rule.description,
            "subject": rule.subject,
            "trigger": rule.trigger,
            "enabled": rule.enabled,
            "trigger_options": rule.trigger_options,
            "conditions": rule.conditions,
        }
        condition_rows = [
            editor.shown(item)
            for item in (rule.conditions or {}).get("items", [])
            if "items" not in item
        ]
        step_rows = editor.flatten(rule.actions)
    else:
        data = {"subject": "deal", "trigger": "created", "enabled": True, "trigger_options": {}}
        condition_rows, step_rows = (
            [],
            [{"type": "create_task", "who": "owner", "unit": "hours", "depth": 0}],
        )
    subject = data.get("subject") or "deal"
    return render(
        request,
        "automation/rule_form.html",
        _form_context(request.user, rule, data, condition_rows, step_rows, subject, errors),
    )


def _moved(post, rows: list[dict]) -> list[dict]:
    for n in range(len(rows)):
        if f"s-{n}-up" in post and n > 0:
            rows[n - 1], rows[n] = rows[n], rows[n - 1]
        elif f"s-{n}-down" in post and n < len(rows) - 1:
            rows[n + 1], rows[n] = rows[n], rows[n + 1]
    return rows


def _own_fields(subject: str, chosen: str | None) -> list[tuple[str, str]]:
    """(name, label) of the record's fields a "changed" rule can watch; a name chosen
    before that is not among them (a custom field's key) stays offered as it is."""
    fields = [(name, str(label)) for name, label, _kind in records.FIELDS.get(subject, [])]
    if chosen and chosen not in dict(fields):
        fields.append((chosen, chosen))
    return fields


def _due_on_fields() -> list[tuple[str, str]]:
    """The deal's dates a task can be due on: its expected close and its date fields."""
    dates = CustomField.objects.filter(record_type="deal", type="date", retired=False)
    return [("deal.expected_close_date", str(_("Deal · Expected close"))),
            *((f"deal.custom.{f.key}", f"{_('Deal')} · {f.label}") for f in dates)]  # fmt: skip


def _form_context(user, rule, data, condition_rows, step_rows, subject, errors) -> dict:
    segments = list(segments_visible_to(user).order_by("name"))
    stages = (
        Stage.objects.filter(retired=False, pipeline__retired=False)
        .select_related("pipeline")
        .order_by("pipeline__position", "pipeline__name", "position")
    )
    labels = {name: label for name, label, _kind in records.FIELDS.get(subject, [])}
    labels["holiday"] = _("A holiday of the client's country (Settings → Automation → Holidays)")
    users = pickers.users(user, [row.get("who_user") for row in step_rows])
    for row in step_rows:
        row["who_user"] = pickers.canonical_email(row.get("who_user", ""), users)
    return {
        "page_title": rule.name if rule else _("New rule"),
        "section": "automation",
        "rule": rule,
        "data": data,
        "errors": errors,
        "conditions": condition_rows,
        "steps": editor.with_variants(step_rows),
        "subjects": Rule.SUBJECTS,
        "triggers": [
            (key, t.label) for key, t in triggers.TRIGGERS.items() if subject in t.subjects
        ],
        "stages": [(s.pk, f"{s.pipeline.name} · {s.name}") for s in stages],
        "fields": pickers.condition_fields(subject),
        "operators": list(OPERATORS.items()),
        "step_types": editor.step_types(subject),
        "units": [(key, label) for key, label in UNIT_LABELS.items() if key in UNITS],
        "task_kinds": Task.KINDS,
        "roles": [(role.slug, str(role)) for role in Role.objects.all()],  # names translated
        "changeable": pickers.changeable_fields(subject, [row.get("field") for row in step_rows]),
        "users": users,
        "value_lists": pickers.value_lists(subject, user, segments),
        "merge_fields": pickers.merge_fields(subject),
        "who_choices": WHO,
        "date_fields": [
            (name, labels.get(name, name)) for name in scheduler.DATE_FIELDS.get(subject, [])
        ],
        "own_fields": _own_fields(subject, (data.get("trigger_options") or {}).get("field")),
        "due_on_fields": _due_on_fields(),
        # A rule's task asks for its deal's fields only when the rule's record has a deal.
        "asks_fields": asks.choices() if subject in ("deal", "task") else [],
        "schedule_choices": EVERY,
        "senders": list(triggers.SENDERS.items()),
        "chat_channels": list(triggers.CHANNELS.items()),
        "weekdays": list(enumerate(WEEKDAYS.values())),
        "segments": [(s.pk, s.name) for s in segments if s.record_type == subject],
        "teams": list(Team.objects.exclude(lead_rule="").values_list("name", flat=True)),
        "mailboxes": [(m.pk, str(m)) for m in Mailbox.objects.filter(owner=None, active=True)],
        "document_templates": [(t.pk, f"{t.kind} · {t}") for t in templates_in_use()],
        "dashboards": list(Dashboard.objects.filter(shared=True).values_list("pk", "name")),
        "surveys": list(Survey.objects.filter(retired=False).values_list("pk", "name")),
        "document_languages": language_choices(),
        "messengers": [
            (m.pk, f"{m.name} · {m.get_provider_display()}")
            for m in Messenger.objects.filter(active=True)
        ],
        "wa_templates": sorted(
            {
                t["name"]
                for m in Messenger.objects.filter(active=True, provider=Messenger.WHATSAPP)
                for t in m.templates
            }
        ),
        "email_templates": [(t.pk, t.name) for t in EmailTemplate.objects.order_by("name", "id")],
    }
