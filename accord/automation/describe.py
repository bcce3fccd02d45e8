"""A rule in words, for its screens: "When a deal is created, if its amount is at least
1000: create the task “Call …” for the owner, due in 15 minutes; wait 2 hours; …"."""

from dataclasses import dataclass, field

from django.utils.dates import WEEKDAYS
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from accord.accounts.models import Role, User
from accord.automation import actions as registry
from accord.automation import conditions, records, triggers
from accord.automation.actions.messages import origin
from accord.automation.models import Rule
from accord.comms.models import EmailTemplate, Messenger
from accord.core.models import CustomField
from accord.documents.models import DocumentTemplate
from accord.marketing.models import Survey
from accord.reports.models import Dashboard
from accord.sales.models import Stage
from accord.work.asks import labels


@dataclass
class StepLine:
    number: str
    text: str
    inner: list = field(default_factory=list)  # [(heading, [StepLine])] of a branch or wait


def rule_summary(rule: Rule) -> dict:
    subject = dict(Rule.SUBJECTS).get(rule.subject, rule.subject)
    trigger = triggers.TRIGGERS.get(rule.trigger)
    return {
        "rule": rule,
        "subject": subject,
        "trigger": str(trigger.label) if trigger else rule.trigger,
        "trigger_detail": _trigger_detail(rule),
        "conditions": condition_text(rule.conditions, rule.subject),
        "state": _state(rule),
    }


def _state(rule: Rule) -> tuple[str, str]:
    """(word, badge class) of where the rule stands."""
    if rule.broken:
        return _("Broken"), "badge-danger"
    if rule.paused_at:
        return _("Paused"), "badge-warning"
    if rule.enabled:
        return _("On"), "badge-success"
    return _("Off"), ""


def _trigger_detail(rule: Rule) -> str:
    options = rule.trigger_options or {}
    if rule.trigger in ("stage_entered", "stage_left") and options.get("stage"):
        stage = Stage.objects.filter(pk=options["stage"]).select_related("pipeline").first()
        return f"{stage.pipeline.name} · {stage.name}" if stage else _("a stage that is gone")
    if rule.trigger == "date_reached":
        before = int(options.get("days_before") or 0)

        when = (
            ngettext("%(n)s day before", "%(n)s days before", before) % {"n": before}
            if before
            else _("on the day")
        )
        field_name = field_label(rule.subject, options.get("field") or "birthday")
        return f"{field_name} · {when} · {options.get('time') or '09:00'}"
    if rule.trigger == "deal_idle":
        days = options.get("days")
        return duration(days, "days") if days else _("the stage's own limit")
    if rule.trigger == "updated" and options.get("field"):
        text = _("the field %(field)s") % {"field": field_label(rule.subject, options["field"])}
        if options.get("from"):
            text += " " + _("from “%(value)s”") % {"value": options["from"]}
        if options.get("to"):
            text += " " + _("to “%(value)s”") % {"value": options["to"]}
        return text
    if rule.trigger == "schedule":
        return _schedule_detail(options)
    if rule.trigger == "webhook" and options.get("create"):
        return _("a new client when nobody has the e-mail or phone")
    if rule.trigger in ("email_received", "message_received"):
        text = str(triggers.SENDERS.get(options.get("sender") or "", ""))
        if rule.trigger == "message_received":
            text = f"{triggers.CHANNELS.get(options.get('channel') or '', '')} · {text}"
        if options.get("words"):
            text += " · " + _("with the words %(words)s") % {"words": options["words"]}
        return text
    return ""


def _schedule_detail(options: dict) -> str:
    every = options.get("every", "day")
    if every == "week":
        days = ", ".join(
            str(WEEKDAYS[d]) for d in sorted({int(d) for d in options.get("weekdays") or [0]})
        )
        when = _("every %(days)s") % {"days": days}
    elif every == "month":
        when = _("every month on day %(day)s") % {"day": options.get("day") or 1}
    else:
        when = _("every day")
    parts = [when, options.get("time") or "09:00"]
    segment = records.segment_of(options.get("segment"))
    if segment is not None:
        parts.append(_("each record in %(segment)s") % {"segment": segment.name})
    return " · ".join(parts)


def _field_label(path: str, subject: str) -> str:
    part, _dot, name = path.partition(".")
    source = {"client": "person", "record": subject}.get(part, part)
    labels = {key: str(label) for key, label, _kind in records.FIELDS.get(source, [])}
    parts = {
        "deal": _("deal"),
        "client": _("client"),
        "task": _("task"),
        "person": _("person"),
        "company": _("company"),
        "record": _("record"),
        "owner": _("owner"),
    }
    if name.startswith("custom."):  # a client's custom field may be a person's or a company's
        label = field_label("client" if part == "client" else source, name)
        return f"{parts.get(part, part)} · {label}"
    return f"{parts.get(part, part)} · {labels.get(name, name).lower()}"


def field_label(subject: str, name: str) -> str:
    """A field of a `subject` as people call it: "expected close", a custom field's label
    ("custom.size": "Window size"); a name no field has any more, as it is."""
    if name.startswith("custom."):
        kinds = ["person", "company"] if subject == "client" else [subject]
        found = CustomField.objects.filter(record_type__in=kinds, key=name[7:]).first()
        return found.label if found else name[7:]
    labels = {key: str(label) for key, label, _kind in records.FIELDS.get(subject, [])}
    return labels.get(name, name).lower()


def condition_text(group: dict | None, subject: str) -> str:
    if not group or not group.get("items"):
        return ""
    joiner = _(" and ") if group.get("match", "all") == "all" else _(" or ")
    parts = []
    for item in group["items"]:
        if "items" in item:
            parts.append(f"({condition_text(item, subject)})")
            continue
        if item.get("field") == conditions.SEGMENT:
            text = (
                _("in the segment “%(name)s”")
                if item.get("op") == "eq"
                else _("not in the segment “%(name)s”")
            )
            segment = records.segment_of(item.get("value"))
            parts.append(text % {"name": segment.name if segment else _("a segment that is gone")})
            continue
        op = str(conditions.OPERATORS.get(item.get("op"), item.get("op")))
        value = "" if item.get("op") in conditions.NO_VALUE else f" “{item.get('value')}”"
        parts.append(f"{_field_label(item.get('field', ''), subject)} {op}{value}")
    return joiner.join(parts)


def _who(who: dict) -> str:
    to = (who or {}).get("to", "owner")
    if to == "user":  # by name; the e-mail the rule keeps when nobody has it any more
        email = who.get("user", "")
        user = User.objects.filter(email__iexact=email.strip()).first() if email else None
        return (user.full_name or user.email) if user else email
    if to == "role":
        role = Role.objects.filter(slug=who.get("role", "")).first()
        return _("a %(role)s in the owner's team") % {
            "role": str(role).lower() if role else who.get("role", "")
        }
    if to == "head":
        return _("the head of the owner's team")
    if to == "team":
        return _("whom %(team)s's lead rule chooses") % {"team": who.get("team", "")}
    return _("the owner")


def _duration(value: dict) -> str:
    return duration((value or {}).get("amount", 0), (value or {}).get("unit", "minutes"))


def duration(amount, unit: str) -> str:
    """ "15 minutes", "1 hour", "3 working days"."""

    amount = int(amount or 0)
    texts = {
        "minutes": ngettext("%(n)s minute", "%(n)s minutes", amount),
        "hours": ngettext("%(n)s hour", "%(n)s hours", amount),
        "days": ngettext("%(n)s day", "%(n)s days", amount),
        "working_days": ngettext("%(n)s working day", "%(n)s working days", amount),
    }
    return texts.get(unit, texts["minutes"]) % {"n": amount}


def _text(params: dict, name: str) -> str:
    """A step's text as the reader of this page would get it: in their language."""
    variant = ((params.get("translations") or {}).get(get_language()) or {}).get(name)
    return variant or params.get(name, "")


def step_text(step: dict, subject: str) -> str:
    kind, params = step.get("type"), step.get("params") or {}
    if kind == "create_task":
        text = _("Create the task “%(title)s” for %(who)s, due in %(due)s") % {
            "title": _text(params, "title"),
            "who": _who(params.get("assignee", {})),
            "due": _duration(params.get("due_in", {})),
        }
        if params.get("asks"):
            text += _("; it asks for the deal's %(fields)s") % {
                "fields": ", ".join(labels(params["asks"]))
            }
        return text
    if kind == "assign_owner":
        return _("Give the record to %(who)s") % {"who": _who(params.get("owner", {}))}
    if kind == "change_field":
        return _("Set %(field)s to “%(value)s”") % {
            "field": field_label(subject, params.get("field", "")),
            "value": params.get("value", ""),
        }
    if kind == "move_stage":
        stage = Stage.objects.filter(pk=params.get("stage") or 0).first()
        return _("Move the deal to %(stage)s") % {"stage": stage.name if stage else "?"}
    if kind == "add_tag":
        return _("Add the tag %(tag)s") % {"tag": params.get("tag", "")}
    if kind == "send_survey":
        survey = Survey.objects.filter(pk=params.get("survey") or 0).first()
        messenger = Messenger.objects.filter(pk=params.get("via") or 0).first()
        via = messenger.name if messenger else _("e-mail")
        return _("Ask the client for feedback: “%(survey)s”, by %(via)s") % {
            "survey": survey or "?", "via": via}  # fmt: skip
    if kind == "send_dashboard":
        dashboard = Dashboard.objects.filter(pk=params.get("dashboard") or 0).first()
        return _("E-mail the dashboard “%(name)s” to %(who)s") % {
            "name": dashboard or "?", "who": _who(params.get("to", {}))}  # fmt: skip
    if kind == "notify":
        return _("Tell %(who)s: “%(message)s”") % {
            "who": _who(params.get("to", {})),
            "message": _text(params, "message"),
        }
    if kind == "send_email":
        if params.get("template"):
            template = EmailTemplate.objects.filter(pk=params["template"]).first()
            return _("E-mail the client the template “%(name)s”") % {
                "name": template.name if template else "?"
            }
        return _("E-mail the client “%(subject)s”") % {"subject": _text(params, "subject")}
    if kind == "send_message":
        messenger = Messenger.objects.filter(pk=params.get("messenger") or 0).first()
        return _("Write to the client by %(channel)s: “%(text)s”") % {
            "channel": messenger.name if messenger else "?",
            "text": params.get("wa_template") or _text(params, "message"),
        }
    if kind == "create_deal":
        return _("Create the deal “%(title)s” for the client, owned by %(who)s") % {
            "title": _text(params, "title"),
            "who": _who(params.get("owner") or {}),
        }
    if kind == "generate_document":
        template = DocumentTemplate.objects.filter(pk=params.get("template") or 0).first()
        return _("Make the document “%(name)s”") % {"name": template or "?"}
    if kind == "issue_invoice":
        return _("Issue an invoice for the deal's items")
    if kind == "call_webhook":
        return _("Send the record to %(url)s") % {"url": origin(params.get("url", ""))}
    if kind == "wait":
        if params.get("until"):
            text = _("Wait until %(condition)s") % {
                "condition": condition_text(params["until"], subject)
            }
            if (params.get("timeout") or {}).get("amount"):
                text += _(", at most %(time)s") % {"time": _duration(params["timeout"])}
            return text
        if params.get("until_field"):
            return _("Wait until %(field)s") % {
                "field": _field_label(params["until_field"], subject)
            }
        return _("Wait %(time)s") % {"time": _duration(params)}
    if kind == "branch":
        return _("If %(condition)s") % {"condition": condition_text(step.get("if"), subject)}
    action = registry.ACTIONS.get(kind or "")
    return str(action.label) if action else _("Unknown action %(action)s") % {"action": kind}


def steps(items: list, subject: str, prefix: str = "") -> list[StepLine]:
    lines = []
    for n, step in enumerate(items or [], start=1):
        number = f"{prefix}{n}"
        line = StepLine(number=number, text=step_text(step, subject))
        if step.get("type") == "branch":
            line.inner = [
                (_("Then"), steps(step.get("then") or [], subject, f"{number}.")),
                (_("Otherwise"), steps(step.get("else") or [], subject, f"{number}.")),
            ]
        elif step.get("type") == "wait" and step.get("timeout_steps"):
            line.inner = [
                (_("If the time runs out"), steps(step["timeout_steps"], subject, f"{number}."))
            ]
        lines.append(line)
    return lines
