"""Every write of automation: saving a rule (checked whole, kept as a new version),
turning it on and off, resuming a paused one, deleting it, running it by hand or as a
test (a dry run: every step says what it would do, nothing is written)."""

import copy
import math
import re
import secrets
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.automation import actions as registry
from accord.automation import conditions, engine, records, scheduler, triggers
from accord.automation.actions.durations import UNITS, duration_problems
from accord.automation.models import Rule, RuleVersion, Run
from accord.contacts.queries import likely_duplicates
from accord.contacts.services import (
    COMPANY_FIELDS,
    PERSON_FIELDS,
    company_create,
    note_add,
    person_create,
)
from accord.core.custom_fields import active_fields
from accord.core.events import emit
from accord.core.phones import try_normalize_phone
from accord.sales.models import Stage
from accord.sales.services import DEAL_FIELDS
from accord.work.services import TASK_FIELDS, sees

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
    paths |= {"owner.email", "owner.name", "owner.team", conditions.SEGMENT}
    return paths


def problems(definition: dict) -> dict[str, list[str]]:
    """Everything wrong with a rule's definition, by part (for the rule screen); empty
    when it can run."""
    found: dict[str, list[str]] = {}
    subject, trigger = definition.get("subject"), definition.get("trigger")
    if subject not in dict(Rule.SUBJECTS):
        found["subject"] = [_("Choose what the rule is about.")]
        return found
    spec = triggers.TRIGGERS.get(trigger)
    if spec is None or subject not in spec.subjects:
        found["trigger"] = [_("Choose a trigger for this kind of record.")]
    options = definition.get("trigger_options") or {}
    stage = options.get("stage") if trigger in ("stage_entered", "stage_left") else None
    if stage and not Stage.objects.filter(pk=stage, retired=False).exists():
        found["trigger"] = [_("The stage is gone or retired: choose another.")]
    date_fields = scheduler.DATE_FIELDS.get(subject, [])
    if (
        trigger == "date_reached"
        and options.get("field", (date_fields or [""])[0]) not in date_fields
    ):
        found["trigger"] = [_("Choose the date field.")]
    if trigger == "schedule" and (items := _schedule_problems(options, subject)):
        found["trigger"] = items
    changed = str(options.get("field") or "") if trigger == "updated" else ""
    if changed and (items := _changed_field_problems(subject, changed)):
        found["trigger"] = items
    if trigger in ("date_reached", "schedule"):
        time_of_day = str(options.get("time") or "09:00")
        if not re.fullmatch(r"([01]?[0-9]|2[0-3]):[0-5][0-9]", time_of_day):
            found["trigger"] = [_("Give the time of day as HH:MM.")]
    if trigger in ("date_reached", "deal_idle"):
        for key in ("days_before", "days"):
            if options.get(key) not in (None, "") and not re.fullmatch(
                r"-?[0-9]{1,4}", str(options[key])
            ):
                found["trigger"] = [_("Give the days as a whole number.")]
    if items := conditions.check(definition.get("conditions"), fields_for(subject)):
        found["conditions"] = items
    steps = definition.get("actions") or []
    if not isinstance(steps, list) or not steps:
        found["actions"] = [_("Add at least one action.")]
    else:
        count, items = _steps_problems(steps, subject, "")
        if trigger == "deleted":
            items += _gone_problems(steps)
        if count > MAX_STEPS:
            items.append(_("At most %(count)s steps.") % {"count": MAX_STEPS})
        if items:
            found["actions"] = items
    return found


def _changed_field_problems(subject: str, field: str) -> list[str]:
    """A field whose change a "changed" rule can wait for: one its record's edits report
    (a deal's stage and status change by moving it: the stage and won/lost triggers)."""

    if subject == "deal" and field in ("stage", "status", "pipeline"):
        return [_("A deal's stage changes by moving it: use the stage, won or lost triggers.")]
    known = {
        "person": [*PERSON_FIELDS, "phones", "emails", "tags"],
        "company": [*COMPANY_FIELDS, "phones", "emails", "tags"],
        "deal": [*DEAL_FIELDS, "tags"],
        "task": TASK_FIELDS,
    }[subject]
    custom = (
        {f"custom_fields.{f.key}" for f in active_fields(subject)} if subject != "task" else set()
    )
    if field not in known and field not in custom:
        return [_("There is no field %(field)s to wait for.") % {"field": field}]
    return []


ON_A_GONE_RECORD = {"notify", "create_task", "call_webhook", "wait", "branch"}


def _every_step(steps) -> list[dict]:
    """A rule's steps and the steps within them (a branch's ways, a wait's timeout), in
    order."""
    found = []
    for step in steps if isinstance(steps, list) else []:
        if isinstance(step, dict):
            found.append(step)
            for way in ("then", "else", "timeout_steps"):
                found += _every_step(step.get(way))
    return found


def _gone_problems(steps: list) -> list[str]:
    """The steps a rule on a deletion cannot take: the record they would change is gone."""
    found = []
    for step in _every_step(steps):
        if step.get("type") not in ON_A_GONE_RECORD:
            action = registry.ACTIONS.get(step.get("type") or "")
            found.append(
                _("The record is gone when this rule runs: “%(action)s” cannot be done.")
                % {"action": action.label if action else step.get("type")}
            )
    return found


WEEKDAYS = {str(n) for n in range(7)}  # Monday 0 … Sunday 6, as datetime.weekday()


def _schedule_problems(options: dict, subject: str) -> list[str]:
    """Every day, on some weekdays or on a day of the month; over a segment's records
    (which a schedule on clients needs: it never goes through the whole base)."""
    every = options.get("every", "day")
    found = []
    if every not in ("day", "week", "month"):
        found.append(_("Choose every day, week or month."))
    days = options.get("weekdays") or []
    if every == "week" and (
        not isinstance(days, list) or not days or not all(str(d) in WEEKDAYS for d in days)
    ):
        found.append(_("Choose the days of the week."))
    if every == "month" and str(options.get("day") or "") not in {str(n) for n in range(1, 32)}:
        found.append(_("Give the day of the month, 1 to 31."))
    segment = options.get("segment")
    if segment not in (None, ""):
        chosen = records.segment_of(segment)
        if chosen is None:
            found.append(_("There is no segment %(name)s.") % {"name": segment})
        elif chosen.record_type != subject:
            found.append(_("The segment %(name)s holds other records.") % {"name": chosen})
    elif subject in ("person", "company"):
        found.append(_("Choose the segment of clients the schedule goes through."))
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
        if timeout.get("amount") and timeout.get("unit") not in UNITS:
            found.append(_("Choose minutes, hours, days or working days."))
        return found
    if params.get("until_field"):
        if params["until_field"] not in fields_for(subject):
            return [_("There is no field %(field)s.") % {"field": params["until_field"]}]
        return []
    return duration_problems(params)


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
    definition = _segments_by_id(definition, actor)
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
    rule.next_fire_at = scheduler.next_fire(rule, timezone.now())
    rule.save()
    RuleVersion.objects.create(
        rule=rule, number=rule.version, definition=definition, created_by=actor
    )
    transaction.on_commit(engine.forget_rules)
    emit("rule.saved", rule_id=rule.pk, actor_id=actor.pk)
    return rule


def _segments_by_id(definition: dict, actor: User) -> dict:
    """The segments a rule names (by name or id, among those its author may see) kept by
    id, so renaming a segment leaves the rule as it was; an unknown one is left for
    `problems` to refuse."""

    definition = copy.deepcopy(definition)

    def by_id(value):
        found = records.segment_for(actor, value)
        return str(found.pk) if found else value

    options = definition.get("trigger_options")
    if isinstance(options, dict) and options.get("segment") not in (None, ""):
        options["segment"] = by_id(options["segment"])
    groups = [definition.get("conditions")]
    for step in _every_step(definition.get("actions")):
        params = step.get("params")
        groups += [step.get("if"), params.get("until") if isinstance(params, dict) else None]
    for group in groups:
        if not isinstance(group, dict):
            continue
        for item in conditions.each(group):
            if item.get("field") == conditions.SEGMENT:
                item["value"] = by_id(item.get("value"))
    return definition


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
        if enabled:  # a time rule goes on from now, not from a moment it missed while off
            rule.paused_at, rule.paused_reason = None, ""
            rule.next_fire_at = scheduler.next_fire(rule, timezone.now())
        rule.save(update_fields=["enabled", "broken", "paused_at", "paused_reason", "next_fire_at"])
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

    record = records.model_of(rule.subject).objects.filter(pk=record_id).first()
    if rule.subject == "task":  # a task is seen by its assignee's reach, not an owner's
        record = records.visible("task", actor).filter(pk=record_id).first()
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


class NoSuchHook(Exception):
    """No rule answers at this web address."""


MAX_CALL_VALUES = 200  # what an inbound call may send: a flat object of plain values


def rule_call(*, secret: str, data: dict) -> Run | None:
    """Another system calls a rule's web address (`POST /api/v1/hooks/<secret>`) about one
    record — `id`, or a client's `email` or `phone` — with values the steps see as
    `{{ trigger.name }}`. Runs the rule now; None when its conditions do not hold."""
    rule = (
        Rule.objects.select_related("created_by").filter(secret=secret, trigger="webhook").first()
        if secret
        else None
    )
    if rule is None:
        raise NoSuchHook
    if not rule.can_run:
        raise ValidationError({"rule": [_("The rule is off, paused or broken.")]})
    values = _call_values(data)
    record_id, created = _called_record(rule, values)
    view = records.view(rule.subject, record_id)
    if view is None:
        raise ValidationError({"id": [_("No such record.")]})
    view["trigger"] = values
    context: dict[str, Any] = {"event": "webhook", "data": values}
    if created:  # a new request: its owner for now, the rule's author, serves it not yet
        context["made"] = {"clients": [record_id]}
    run = engine.start(
        rule, "webhook", rule.subject, record_id, view, context=context, claimed=True
    )
    if run is None and Rule.objects.filter(pk=rule.pk).exclude(paused_at=None).exists():
        raise ValidationError({"rule": [_("The rule is paused: it ran too often on this record.")]})
    if run is not None and run.status == Run.RUNNING:
        engine.go_on(run, timezone.now(), view, inline=True)
        run.refresh_from_db()
    return run


def _call_values(data: Any) -> dict:
    if not isinstance(data, dict):
        raise ValidationError({"body": [_("Send a JSON object.")]})
    if len(data) > MAX_CALL_VALUES:
        raise ValidationError(
            {"body": [_("At most %(count)s values.") % {"count": MAX_CALL_VALUES}]}
        )
    plain = (str, int, float, bool, type(None))
    bad = [
        key
        for key, value in data.items()
        if not isinstance(value, plain) or (isinstance(value, float) and not math.isfinite(value))
    ]
    if bad:
        raise ValidationError(
            {key: [_("Send plain values (text, numbers, yes/no), not lists or objects.")]
             for key in bad}
        )  # fmt: skip
    return {str(key)[:100]: value for key, value in data.items()}


def _called_record(rule: Rule, values: dict) -> tuple[int, bool]:
    """The record a call is about, as the rule's author may see it, and whether the call
    created it (a new client)."""

    if values.get("id") not in (None, ""):
        record_id = records.whole_number(values["id"])
        if record_id is None:
            raise ValidationError({"id": [_("Give the record's id as a number.")]})
        if not records.visible(rule.subject, rule.created_by).filter(pk=record_id).exists():
            raise ValidationError({"id": [_("No such record.")]})
        return record_id, False
    if rule.subject in ("person", "company"):
        email = str(values.get("email") or "").strip().lower()
        phone = try_normalize_phone(str(values.get("phone") or "")) or ""
        if email or phone:
            found = likely_duplicates(rule.created_by, rule.subject, [phone], [email])
            if found:
                return _with_message(rule, found[0], values).pk, False
            if (rule.trigger_options or {}).get("create"):
                return _with_message(rule, _client_from_call(rule, values), values).pk, True
            raise ValidationError({"email": [_("No client has this e-mail or phone.")]})
        raise ValidationError({"id": [_("Send the record's id, or the client's email or phone.")]})
    raise ValidationError({"id": [_("Send the record's id.")]})


MESSAGE_KEYS = ("message", "comment", "note", "text")  # what a web form calls the request


def _with_message(rule: Rule, client, values: dict):
    """The request's own words ("3 windows, 1200×1400") as a note on the client's
    timeline, where the manager who calls back reads them."""
    message = next((str(values[k]).strip() for k in MESSAGE_KEYS if values.get(k)), "")
    if message:
        text = _("Request from the web site: %(message)s") % {"message": message[:5000]}
        note_add(actor=rule.created_by, record=client, text=text)
    return client


def _client_from_call(rule: Rule, values: dict):
    """A new client from a call (a request left on the web site): its name, e-mail, phone
    and source, owned by the rule's author until a step gives it to someone."""

    def text(key: str, limit: int = 100) -> str:
        return str(values.get(key) or "").strip()[:limit]

    data = {
        "emails": [text("email", 254)] if text("email") else [],
        "phones": [text("phone", 40)] if text("phone") else [],
        "source": text("source") or _("web request"),
    }
    if rule.subject == "company":
        return company_create(actor=rule.created_by, data={**data, "name": text("name", 200)})
    first, last = text("first_name"), text("last_name")
    if not first and not last:
        first, _space, last = text("name", 200).partition(" ")
    if not first and not last:  # nameless, the request is still kept: named by its address
        first = text("email") or text("phone")
    return person_create(
        actor=rule.created_by, data={**data, "first_name": first, "last_name": last}
    )


def runs_forget(*, subject: str, record_id: int) -> int:
    """Drop what runs on a record kept of it (the trigger's values, a deleted client's
    name and addresses) when its personal data is erased; answers how many runs."""
    return Run.objects.filter(subject_type=subject, subject_id=record_id).update(context={})


def on_erased(event) -> None:
    runs_forget(subject="person", record_id=event.payload["person_id"])


def on_segment_deleted(event) -> None:
    """A rule naming a deleted segment is flagged broken at once, not found out on its
    next run."""
    rules_check()
