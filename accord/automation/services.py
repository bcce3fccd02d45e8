"""Every write of automation: saving a rule (checked whole, kept as a new version),
turning it on and off, resuming a paused one, deleting it, running it by hand or as a
test (a dry run: every step says what it would do, nothing is written)."""

import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.automation import actions as registry
from accord.automation import conditions, engine, records
from accord.automation.models import Rule, RuleVersion, Run
from accord.core.events import emit

MAX_STEPS = 50
FLOW = {"wait", "branch"}


def require_automation(actor: User) -> None:
    if not actor.can("manage_automation"):
        raise PermissionDenied(_("Your role does not allow managing automation."))


def fields_for(subject: str) -> set[str]:
    """The paths a rule on `subject` can read: its own fields and its related records'."""
    paths = {f"{subject}.{name}" for name, _label, _kind in records.FIELDS[subject]}
    paths |= {f"record.{name}" for name, _label, _kind in records.FIELDS[subject]}
    for part in records.RELATED[subject]:
        source = "person" if part == "client" else part
        paths |= {f"{part}.{name}" for name, _label, _kind in records.FIELDS[source]}
    paths |= {"owner.email", "owner.name", "owner.team"}
    return paths


def problems(definition: dict) -> dict[str, list[str]]:
    """Everything wrong with a rule's definition, by part (for the rule screen); empty
    when it can run."""
    found: dict[str, list[str]] = {}
    subject, trigger = definition.get("subject"), definition.get("trigger")
    if subject not in dict(Rule.SUBJECTS):
        found["subject"] = [_("Choose what the rule is about.")]
        return found
    spec = engine.TRIGGERS.get(trigger)
    if spec is None or subject not in spec.subjects:
        found["trigger"] = [_("Choose a trigger for this kind of record.")]
    options = definition.get("trigger_options") or {}
    if trigger in ("stage_entered", "stage_left") and options.get("stage"):
        from accord.sales.models import Stage

        if not Stage.objects.filter(pk=options["stage"], retired=False).exists():
            found["trigger"] = [_("The stage is gone or retired: choose another.")]
    if trigger == "date_reached":
        if options.get(
            "field", engine.DATE_FIELDS.get(subject, [""])[0]
        ) not in engine.DATE_FIELDS.get(subject, []):
            found["trigger"] = [_("Choose the date field.")]
        time_of_day = str(options.get("time") or "09:00")
        hour, _colon, minute = time_of_day.partition(":")
        if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
            found["trigger"] = [_("Give the time of day as HH:MM.")]
    if trigger in ("date_reached", "deal_idle"):
        for key in ("days_before", "days"):
            if options.get(key) not in (None, "") and not str(options[key]).lstrip("-").isdigit():
                found["trigger"] = [_("Give the days as a whole number.")]
    if items := conditions.check(definition.get("conditions"), fields_for(subject)):
        found["conditions"] = items
    steps = definition.get("actions") or []
    if not isinstance(steps, list) or not steps:
        found["actions"] = [_("Add at least one action.")]
    else:
        count, items = _steps_problems(steps, subject, "")
        if count > MAX_STEPS:
            items.append(_("At most %(count)s steps.") % {"count": MAX_STEPS})
        if items:
            found["actions"] = items
    return found


def _steps_problems(steps: list, subject: str, prefix: str) -> tuple[int, list[str]]:
    count, found = 0, []
    for n, step in enumerate(steps, start=1):
        where = f"{prefix}{n}"
        count += 1
        if not isinstance(step, dict):
            found.append(_("Step %(n)s cannot be read.") % {"n": where})
            continue
        kind, params = step.get("type"), step.get("params") or {}
        if kind == "branch":
            found += [
                f"{where}: {p}" for p in conditions.check(step.get("if"), fields_for(subject))
            ]
            if not step.get("if"):
                found.append(_("Step %(n)s: give the branch a condition.") % {"n": where})
            for way in ("then", "else"):
                inner, items = _steps_problems(step.get(way) or [], subject, f"{where}.")
                count, found = count + inner, found + items
        elif kind == "wait":
            found += [f"{where}: {p}" for p in _wait_problems(params, subject)]
            inner, items = _steps_problems(step.get("timeout_steps") or [], subject, f"{where}.")
            count, found = count + inner, found + items
        elif kind in registry.ACTIONS:
            action = registry.ACTIONS[kind]
            if subject not in action.subjects:
                found.append(
                    _("Step %(n)s: %(action)s does not apply to this record.")
                    % {"n": where, "action": action.label}
                )
            found += [f"{where}: {p}" for p in action.check(params, subject)]
        else:
            found.append(_("Step %(n)s: unknown action %(action)s.") % {"n": where, "action": kind})
    return count, found


def _wait_problems(params: dict, subject: str) -> list[str]:
    if params.get("until"):
        found = conditions.check(params["until"], fields_for(subject))
        timeout = params.get("timeout") or {}
        if timeout.get("amount") and timeout.get("unit") not in registry.UNITS:
            found.append(_("Choose minutes, hours, days or working days."))
        return found
    if params.get("until_field"):
        if params["until_field"] not in fields_for(subject):
            return [_("There is no field %(field)s.") % {"field": params["until_field"]}]
        return []
    return registry.duration_problems(params)


@transaction.atomic
def rule_save(*, actor: User, data: dict, rule: Rule | None = None) -> Rule:
    """Create or change a rule; a change is a new version (runs under way keep theirs)."""
    require_automation(actor)
    name = str(data.get("name") or "").strip()
    definition = {
        "subject": data.get("subject", rule.subject if rule else ""),
        "trigger": data.get("trigger", rule.trigger if rule else ""),
        "trigger_options": data.get("trigger_options", rule.trigger_options if rule else {}),
        "conditions": data.get("conditions", rule.conditions if rule else {}),
        "actions": data.get("actions", rule.actions if rule else []),
    }
    errors = problems(definition)
    if not name:
        errors["name"] = [_("Give the rule a name.")]
    elif len(name) > 200:
        errors["name"] = [_("At most %(limit)s characters.") % {"limit": 200}]
    if errors:
        raise ValidationError(errors)
    if rule is None:
        rule = Rule(created_by=actor, secret=secrets.token_urlsafe(24), version=0)
    else:
        rule = Rule.objects.select_for_update().get(pk=rule.pk)
    rule.name = name
    rule.description = str(data.get("description", rule.description) or "")[:2000]
    for key, value in definition.items():
        setattr(rule, key, value)
    for key in ("max_depth", "flood_limit"):
        if data.get(key) is not None:
            setattr(rule, key, max(0, min(int(data[key]), 20 if key == "max_depth" else 1000)))
    if "enabled" in data:
        rule.enabled = bool(data["enabled"])
    if "blueprint" in data:
        rule.blueprint = data["blueprint"]
    rule.version += 1
    rule.broken, rule.updated_at = "", timezone.now()
    rule.save()
    RuleVersion.objects.create(
        rule=rule, number=rule.version, definition=definition, created_by=actor
    )
    transaction.on_commit(engine.forget_rules)
    emit("rule.saved", rule_id=rule.pk, actor_id=actor.pk)
    return rule


def rule_enable(*, actor: User, rule: Rule, enabled: bool) -> Rule:
    """Turn a rule on (which also resumes it after the flood guard paused it) or off. A
    rule that names something gone is not turned on: it is flagged broken, with why."""
    require_automation(actor)
    if enabled:
        found = problems(rule.definition())
        if found:
            why = " ".join(item for items in found.values() for item in items)
            Rule.objects.filter(pk=rule.pk).update(broken=why)
            engine.forget_rules()
            raise ValidationError({"enabled": [_("The rule cannot run: %(why)s") % {"why": why}]})
    with transaction.atomic():
        rule = Rule.objects.select_for_update().get(pk=rule.pk)
        rule.enabled, rule.broken = enabled, ""
        if enabled:
            rule.paused_at, rule.paused_reason = None, ""
        rule.save(update_fields=["enabled", "broken", "paused_at", "paused_reason"])
        transaction.on_commit(engine.forget_rules)
        emit("rule.enabled" if enabled else "rule.disabled", rule_id=rule.pk, actor_id=actor.pk)
    return rule


@transaction.atomic
def rule_delete(*, actor: User, rule: Rule) -> None:
    require_automation(actor)
    rule_id = rule.pk
    rule.delete()
    transaction.on_commit(engine.forget_rules)
    emit("rule.deleted", rule_id=rule_id, actor_id=actor.pk)


def rules_check() -> int:
    """Flag the rules that name something gone (a user, a stage, a field) as broken, and
    clear the flag of those mended; answers how many are broken."""
    broken = 0
    for rule in Rule.objects.filter(enabled=True):
        found = problems(rule.definition())
        reason = " ".join(item for items in found.values() for item in items)
        if reason != rule.broken:
            Rule.objects.filter(pk=rule.pk).update(broken=reason)
        broken += bool(reason)
    engine.forget_rules()
    return broken


def rule_run(*, actor: User, rule: Rule, record_id: int, dry_run: bool = False) -> Run:
    """Run a rule on one record now: by hand (a "manual" rule's button), or as a test
    (dry run: each step says what it would do; nothing is written)."""
    if dry_run:
        require_automation(actor)
    if not dry_run and rule.trigger != "manual":
        raise ValidationError({"rule": [_("Only a rule triggered by hand runs from a record.")]})
    if not dry_run and not rule.can_run:
        raise ValidationError({"rule": [_("The rule is off, paused or broken.")]})
    from accord.work.services import sees

    record = records.model_of(rule.subject).objects.filter(pk=record_id).first()
    if record is None or (rule.subject != "task" and not sees(actor, record)):
        raise ValidationError({"record": [_("No such record, or you cannot see it.")]})
    view = records.view(rule.subject, record_id) or {}
    if dry_run:
        holds = conditions.holds(rule.conditions, view)
        run = engine.start(
            rule,
            "test",
            rule.subject,
            record_id,
            view,
            dry_run=True,
            context={"conditions_hold": holds},
        )
    else:
        run = engine.start(
            rule, "manual", rule.subject, record_id, view, context={"actor_id": actor.pk}
        )
        if run is None:
            raise ValidationError(
                {"rule": [_("The rule's conditions do not hold for this record.")]}
            )
    engine.execute(run.pk)
    run.refresh_from_db()
    return run
