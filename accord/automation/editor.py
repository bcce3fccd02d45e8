"""The rule screen's form, without code: conditions as rows (field, comparison, value)
and steps as a flat list in which "If …", "Otherwise", "If the time runs out" and "End"
open and close the nested parts, indented on the screen.

`flatten` turns a rule's actions into that list, `nest` turns it back (refusing an "End"
with nothing open, or an "Otherwise" outside an "If"), and `read_post` reads the form's
fields (`c-0-field`, `s-2-title` …) into a rule's data for `services.rule_save`."""

import re
import secrets
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.automation import actions as registry
from accord.automation import conditions, records, triggers

MARKERS = {
    "if": gettext_lazy("If…"),
    "otherwise": gettext_lazy("Otherwise"),
    "wait_until": gettext_lazy("Wait until…"),
    "timeout": gettext_lazy("If the time runs out"),
    "end": gettext_lazy("End"),
}
WAIT = ("wait", gettext_lazy("Wait"))
STEP_FIELDS = [
    "type",
    "title",
    "kind",
    "who",
    "who_user",
    "who_role",
    "who_team",
    "amount",
    "unit",
    "due_on",
    "description",
    "field",
    "value",
    "stage",
    "tag",
    "message",
    "subject",
    "body",
    "marketing",
    "mailbox",
    "messenger",
    "wa_template",
    "deal_amount",
    "url",
    "secret",
    "doc_template",
    "doc_language",
    "c_field",
    "c_op",
    "c_value",
    "t_amount",
    "t_unit",
]


# The texts a reader gets in their language, by step type (a variant per language).
TEXTS = {
    "create_task": ("title",),
    "create_deal": ("title",),
    "notify": ("message",),
    "send_email": ("subject", "body"),
    "send_message": ("message",),
}
TEXT_NAMES = ("title", "message", "subject", "body")


class EditorError(ValueError):
    """The steps' order cannot be read (an "End" too many, an "Otherwise" astray)."""


def step_types(subject: str) -> list[tuple[str, Any]]:
    """(value, label) of what a step of a rule on `subject` can be, in the menu's order."""
    return [
        *((a.kind, a.label) for a in registry.ACTIONS.values() if subject in a.subjects),
        WAIT,
        *((key, label) for key, label in MARKERS.items()),
    ]


# --- nested <-> flat -------------------------------------------------------------------


def shown(item: dict) -> dict:
    """A condition as the form shows it: a segment, kept by id, by its name."""
    segment = (
        records.segment_of(item.get("value")) if item.get("field") == conditions.SEGMENT else None
    )
    return {**item, "value": segment.name} if segment else dict(item)


def _condition_row(group: dict | None) -> dict:
    item = shown(((group or {}).get("items") or [{}])[0])
    return {
        "c_field": item.get("field", ""),
        "c_op": item.get("op", "eq"),
        "c_value": item.get("value", ""),
    }


def _condition(row: dict) -> dict:
    item = {"field": row.get("c_field", ""), "op": row.get("c_op", "eq")}
    if item["op"] not in conditions.NO_VALUE:
        item["value"] = row.get("c_value", "")
    return {"match": "all", "items": [item]}


def flatten(steps: list, depth: int = 0) -> list[dict]:
    """The rule's steps as the form's rows, each with its `depth` (indentation)."""
    rows = []
    for step in steps or []:
        kind, params = step.get("type"), step.get("params") or {}
        if kind == "branch":
            rows.append({"type": "if", "depth": depth, **_condition_row(step.get("if"))})
            rows += flatten(step.get("then") or [], depth + 1)
            if step.get("else"):
                rows.append({"type": "otherwise", "depth": depth})
                rows += flatten(step["else"], depth + 1)
            rows.append({"type": "end", "depth": depth})
        elif kind == "wait" and params.get("until"):
            timeout = params.get("timeout") or {}
            rows.append(
                {
                    "type": "wait_until",
                    "depth": depth,
                    **_condition_row(params["until"]),
                    "t_amount": timeout.get("amount", ""),
                    "t_unit": timeout.get("unit", "hours"),
                }
            )
            if step.get("timeout_steps"):
                rows.append({"type": "timeout", "depth": depth})
                rows += flatten(step["timeout_steps"], depth + 1)
                rows.append({"type": "end", "depth": depth})
        else:
            row = {"type": kind, "depth": depth, **_params_row(kind, params)}
            row["translations"] = params.get("translations") or {}
            rows.append(row)
    return rows


def _who_row(who: dict) -> dict:
    who = who or {}
    return {
        "who": who.get("to", "owner"),
        "who_user": who.get("user", ""),
        "who_role": who.get("role", ""),
        "who_team": who.get("team", ""),
    }


def _params_row(kind: str, params: dict) -> dict:
    if kind == "create_task":
        due = params.get("due_in") or {}
        return {
            "title": params.get("title", ""),
            "kind": params.get("kind", "call"),
            "description": params.get("description", ""),
            "amount": due.get("amount", ""),
            "unit": due.get("unit", "minutes"),
            "due_on": params.get("due_on", ""),
            "asks": params.get("asks") or [],
            **_who_row(params.get("assignee")),
        }
    if kind == "assign_owner":
        return _who_row(params.get("owner"))
    if kind == "notify":
        return {"message": params.get("message", ""), **_who_row(params.get("to"))}
    if kind == "send_dashboard":
        return {"dashboard": params.get("dashboard", ""), **_who_row(params.get("to"))}
    if kind == "send_survey":
        return {"survey": params.get("survey", ""), "survey_via": params.get("via", "")}
    if kind == "send_message":
        return {
            "message": params.get("message", ""),
            "messenger": params.get("messenger", ""),
            "wa_template": params.get("wa_template", ""),
        }
    if kind == "wait":
        return {"amount": params.get("amount", ""), "unit": params.get("unit", "hours")}
    if kind == "send_email":
        return {
            "subject": params.get("subject", ""),
            "body": params.get("body", ""),
            "marketing": params.get("marketing", True),
            "mailbox": params.get("mailbox", ""),
            "template": params.get("template", ""),
        }
    if kind == "create_deal":
        return {
            "title": params.get("title", ""),
            "stage": params.get("stage", ""),
            "deal_amount": params.get("amount", ""),
            **_who_row(params.get("owner")),
        }
    if kind == "call_webhook":
        return {"url": params.get("url", ""), "secret": params.get("secret", "")}
    if kind == "generate_document":
        return {
            "doc_template": params.get("template", ""),
            "doc_language": params.get("language", ""),
        }
    return {key: params.get(key, "") for key in ("field", "value", "stage", "tag")}


def _who(row: dict) -> dict:
    who = {"to": row.get("who") or "owner"}
    for choice in ("user", "role", "team"):
        if who["to"] == choice:
            who[choice] = row.get(f"who_{choice}", "").strip()
    return who


def _stage(row: dict) -> int | None:
    return records.whole_number(row.get("stage"))


def _number(value: Any) -> Any:
    """A whole number typed in the form as a number (anything else is left for the
    rule's check to refuse with a reason)."""
    text = str(value if value is not None else "").strip()
    return int(text) if re.fullmatch(r"[0-9]{1,9}", text) else (text or 0)


def _step(row: dict) -> dict:
    kind = row.get("type", "")
    if kind == "create_task":
        params = {
            "title": row.get("title", ""),
            "kind": row.get("kind") or "call",
            "assignee": _who(row),
            "due_in": {"amount": _number(row.get("amount")), "unit": row.get("unit") or "minutes"},
        }
        if row.get("description"):
            params["description"] = row["description"]
        if row.get("due_on"):
            params["due_on"] = row["due_on"]
        if row.get("asks"):
            params["asks"] = list(row["asks"])
    elif kind == "assign_owner":
        params = {"owner": _who(row)}
    elif kind == "notify":
        params = {"to": _who(row), "message": row.get("message", "")}
    elif kind == "send_dashboard":
        params = {"to": _who(row), "dashboard": _number(row.get("dashboard"))}
    elif kind == "send_survey":
        params = {"survey": _number(row.get("survey")), "via": _number(row.get("survey_via")) or ""}
    elif kind == "send_message":
        params = {"messenger": _number(row.get("messenger")), "message": row.get("message", "")}
        if str(row.get("wa_template") or "").strip():
            params["wa_template"] = row["wa_template"].strip()
    elif kind == "wait":
        params = {"amount": _number(row.get("amount")), "unit": row.get("unit") or "hours"}
    elif kind == "send_email":
        params = {
            "subject": row.get("subject", ""),
            "body": row.get("body", ""),
            "marketing": bool(row.get("marketing")),
        }
        if str(row.get("mailbox") or "").strip():
            params["mailbox"] = _number(row["mailbox"])
        if str(row.get("template") or "").strip():
            params["template"] = _number(row["template"])
    elif kind == "change_field":
        params = {"field": row.get("field", ""), "value": row.get("value", "")}
    elif kind == "move_stage":
        params = {"stage": _stage(row)}
    elif kind == "create_deal":
        params = {"title": row.get("title", ""), "stage": _stage(row), "owner": _who(row)}
        if str(row.get("deal_amount") or "").strip():
            params["amount"] = row["deal_amount"].strip()
    elif kind == "call_webhook":
        # Signed from the start: the receiver checks the signature with this secret.
        secret = row.get("secret", "").strip() or secrets.token_urlsafe(24)
        params = {"url": row.get("url", "").strip(), "secret": secret}
    elif kind == "add_tag":
        params = {"tag": row.get("tag", "")}
    elif kind == "generate_document":
        params = {
            "template": _number(row.get("doc_template")),
            "language": row.get("doc_language") or "",
        }
    else:
        params = {key: row.get(key, "") for key in ("field", "value", "stage", "tag")}
    variants = _variants(kind, row.get("translations") or {}, params)
    if variants:
        params["translations"] = variants
    return {"type": kind, "params": params}


def _variants(kind: str, translations: dict, params: dict | None = None) -> dict:
    """The step's texts per language: those written, and not the same as the step's own
    text (a copy would go stale when the text is changed)."""
    found = {}
    for code, texts in translations.items():
        kept = {
            name: text
            for name, text in texts.items()
            if name in TEXTS.get(kind, ()) and text and text != (params or {}).get(name)
        }
        if kept:
            found[code] = kept
    return found


def with_variants(rows: list[dict]) -> list[dict]:
    """Each step row's `variants` for the form: per language, its name and its texts."""
    for row in rows:
        written = row.get("translations") or {}
        row["variants"] = [
            {
                "code": code,
                "name": name,
                **{n: (written.get(code) or {}).get(n, "") for n in TEXT_NAMES},
            }
            for code, name in settings.LANGUAGES
        ]
        kept = _variants(row.get("type", ""), written)
        row["written_in"] = [str(name) for code, name in settings.LANGUAGES if code in kept]
    return rows


def nest(rows: list[dict]) -> list[dict]:
    """The form's rows back into the rule's steps."""
    top: list[dict] = []
    stack: list[tuple[dict, str]] = []  # (the open step, the list it fills now)

    def target() -> list:
        return stack[-1][0][stack[-1][1]] if stack else top

    for n, row in enumerate(rows, start=1):
        kind = row.get("type", "")
        if kind == "if":
            step = {"type": "branch", "if": _condition(row), "then": [], "else": []}
            target().append(step)
            stack.append((step, "then"))
        elif kind == "otherwise":
            if not stack or stack[-1][0]["type"] != "branch" or stack[-1][1] != "then":
                raise EditorError(_("Row %(n)s: “Otherwise” belongs inside an “If…”.") % {"n": n})
            stack[-1] = (stack[-1][0], "else")
        elif kind == "wait_until":
            params = {"until": _condition(row)}
            if str(row.get("t_amount") or "").strip():
                params["timeout"] = {
                    "amount": _number(row["t_amount"]),
                    "unit": row.get("t_unit") or "hours",
                }
            target().append({"type": "wait", "params": params})
        elif kind == "timeout":
            steps = target()
            if not steps or steps[-1]["type"] != "wait" or not steps[-1]["params"].get("until"):
                raise EditorError(
                    _("Row %(n)s: “If the time runs out” follows a “Wait until…”.") % {"n": n}
                )
            steps[-1]["timeout_steps"] = []
            stack.append((steps[-1], "timeout_steps"))
        elif kind == "end":
            if not stack:
                raise EditorError(_("Row %(n)s: an “End” with nothing to end.") % {"n": n})
            stack.pop()
        elif kind:
            target().append(_step(row))
    if stack:
        raise EditorError(_("An “If…” or “If the time runs out” has no “End”."))
    return top


# --- the form --------------------------------------------------------------------------


def read_post(post) -> tuple[dict, list[dict], list[dict]]:
    """(rule data, condition rows, step rows) from the form; blank rows are dropped."""
    data = {key: post.get(key, "") for key in ("name", "description", "subject", "trigger")}
    data["enabled"] = post.get("enabled") == "on"
    options = {}
    if post.get("stage"):
        options["stage"] = records.whole_number(post["stage"]) or post["stage"]
    if post.get("changed_field"):
        options["field"] = post["changed_field"]
        for key in ("from", "to"):
            if str(post.get(f"changed_{key}") or "").strip():
                options[key] = post[f"changed_{key}"].strip()
    if post.get("trigger") == "webhook" and post.get("create_client") == "on":
        options["create"] = True
    channel = post.get("channel") or ""
    if post.get("trigger") == "message_received" and channel and channel in triggers.CHANNELS:
        options["channel"] = channel
    if post.get("trigger") in ("email_received", "message_received"):
        if post.get("sender") in ("client", "unknown"):
            options["sender"] = post["sender"]
        if str(post.get("words") or "").strip():
            options["words"] = post["words"].strip()[:300]
    if post.get("trigger") == "schedule":
        options["every"] = post.get("every") or "day"
        if options["every"] == "week":
            options["weekdays"] = [
                int(d) for d in post.getlist("weekdays") if len(d) == 1 and d in "0123456"
            ]
        if options["every"] == "month":
            options["day"] = _number(post.get("month_day"))
        if post.get("segment"):
            options["segment"] = post["segment"]
    if post.get("date_field"):
        options["field"] = post["date_field"]
    for key in ("days_before", "days", "time"):
        if str(post.get(key) or "").strip():
            value = post[key].strip()
            whole = re.fullmatch(r"-?[0-9]{1,4}", value) and key != "time"
            options[key] = int(value) if whole else value
    data["trigger_options"] = options
    rows = []
    for n in range(int(post.get("c-count") or 0)):
        field = post.get(f"c-{n}-field", "")
        if field and f"c-{n}-remove" not in post:
            rows.append(
                {
                    "field": field,
                    "op": post.get(f"c-{n}-op", "eq"),
                    "value": post.get(f"c-{n}-value", ""),
                }
            )
    items = [
        {k: v for k, v in row.items() if not (k == "value" and row["op"] in conditions.NO_VALUE)}
        for row in rows
    ]
    data["conditions"] = {"match": post.get("match") or "all", "items": items} if items else {}
    steps = []
    for n in range(int(post.get("s-count") or 0)):
        if not post.get(f"s-{n}-type") or f"s-{n}-remove" in post:
            continue
        steps.append({name: post.get(f"s-{n}-{name}", "") for name in STEP_FIELDS})
        steps[-1]["marketing"] = post.get(f"s-{n}-marketing") == "on"
        steps[-1]["translations"] = {
            code: {name: post.get(f"s-{n}-{name}-{code}", "") for name in TEXT_NAMES}
            for code, _name in settings.LANGUAGES
        }
        steps[-1]["asks"] = post.getlist(f"s-{n}-asks")  # ticked boxes: several values
    return data, rows, steps


def indent(rows: list[dict]) -> list[dict]:
    """Each row's depth, as `flatten` gives it (for rows read back from a form)."""
    depth = 0
    for row in rows:
        kind = row.get("type")
        if kind in ("otherwise", "end"):
            depth = max(depth - 1, 0)
        row["depth"] = depth
        if kind in ("if", "otherwise", "timeout"):
            depth += 1
    return rows
