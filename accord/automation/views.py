"""Settings → Automation: the rules (on and off, broken, paused), a rule's page with its
steps in words and its runs, a test run on a record."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accord.automation import describe, queries, services
from accord.automation.models import Rule


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
        },
    )


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
        messages.error(request, " ".join(error.messages))
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
    try:
        record_id = int(request.POST.get("record") or 0)
        run = services.rule_run(actor=request.user, rule=rule, record_id=record_id, dry_run=True)
    except (ValueError, ValidationError) as error:
        text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        messages.error(request, text or _("Give the number of a record."))
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
@require_POST
def rule_delete(request, pk: int):
    require_automation(request)
    rule = get_object_or_404(Rule, pk=pk)
    services.rule_delete(actor=request.user, rule=rule)
    messages.success(request, _("The rule “%(name)s” is deleted.") % {"name": rule.name})
    return redirect("automation_rules")
