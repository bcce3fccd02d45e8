"""How any record's card shows what it holds: custom field values and the timeline with
each change in words (field, old → new). Shared by the client cards and the deal page."""

from collections.abc import Callable
from datetime import datetime

from django.core.exceptions import FieldDoesNotExist
from django.http import Http404
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.core.models import CustomField
from accord.core.pagination import InvalidCursor, keyset_page
from accord.core.timeline import timeline_of

TIMELINE_PAGE = 20
SPECIAL_LABELS = {
    "phones": gettext_lazy("phones"),
    "emails": gettext_lazy("e-mails"),
    "tags": gettext_lazy("tags"),
}


def shown(value) -> str:
    if value in (None, "", []):
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value)


def custom_values(record) -> list[tuple[str, str]]:
    """(label, value) of the record's filled custom fields, in the admin's order."""
    fields = CustomField.objects.filter(record_type=type(record)._meta.model_name, retired=False)
    return [
        (field.label, shown(record.custom_fields[field.key]))
        for field in fields
        if field.key in record.custom_fields
    ]


def describe_changes(event, model, custom: dict[str, str]) -> list[tuple[str, str, str]]:
    """(label, old, new) for each field a "changed" event lists, in words a person reads."""
    if event.kind not in ("changed", "merged"):
        return []
    lines = []
    for change in event.data.get("changes", []):
        name = change["field"]
        if name.startswith("custom_fields."):
            label = custom.get(name.split(".", 1)[1], name)
        elif name in SPECIAL_LABELS:
            label = SPECIAL_LABELS[name]
        else:
            try:
                label = model._meta.get_field(name).verbose_name
            except FieldDoesNotExist:
                label = name
        lines.append((capfirst(label), shown(change["old"]), shown(change["new"])))
    return lines


KIND_GROUPS = {"tasks": ["task_added", "task_done"]}  # a filter chip covering several kinds


def dress_event(event) -> None:
    """What a template cannot work out from an event's JSON: a due time as a datetime, an
    activity's outcome in words."""
    due = event.data.get("due_at") if isinstance(event.data, dict) else None
    event.due = datetime.fromisoformat(due) if isinstance(due, str) else None
    outcome = event.data.get("outcome") if event.kind == "activity" else None
    event.outcome = OUTCOMES.get(outcome, "") if outcome else ""
    if event.kind == "assigned":
        event.rule = str(LEAD_RULE_WORDS.get(event.data.get("rule"), "")).lower()


# What a kind of entry shows beside its own JSON, read for a page's entries of that kind at
# once: {"email": fills in each message's current state}, filled by the app that owns the
# kind when it is ready (the kernel imports no feature app).
EVENT_DRESSERS: dict[str, Callable[[list], None]] = {}


# A team's lead rules in words ({"round_robin": "Round robin"}), filled by the accounts app
# that owns them when it is ready: the kernel imports no feature app.
LEAD_RULE_WORDS: dict = {}


OUTCOMES = {
    "reached": gettext_lazy("talked"),
    "no_answer": gettext_lazy("no answer"),
    "busy": gettext_lazy("busy"),
    "voicemail": gettext_lazy("left a voicemail"),
    "wrong_number": gettext_lazy("wrong number"),
}


def timeline_context(request, record, more_base: str) -> dict:
    """One page of the record's timeline (newest first, `?kind=` filters, `?cursor=` pages),
    each change described; `more_base` is the URL that answers the next page."""
    kind = request.GET.get("kind", "")
    kinds = KIND_GROUPS.get(kind, [kind]) if kind else None
    try:
        page = keyset_page(
            timeline_of(record, kinds=kinds),
            sort="-occurred_at",
            cursor=request.GET.get("cursor"),
            limit=TIMELINE_PAGE,
        )
    except InvalidCursor:
        raise Http404 from None
    model = type(record)
    labels = dict(
        CustomField.objects.filter(record_type=model._meta.model_name).values_list("key", "label")
    )
    for event in page.items:
        event.lines = describe_changes(event, model, labels)
        dress_event(event)
    for kind, dress in EVENT_DRESSERS.items():
        if entries := [event for event in page.items if event.kind == kind]:
            dress(entries)
    more = ""
    if page.next_cursor:
        more = f"{more_base}?cursor={page.next_cursor}" + (f"&kind={kind}" if kind else "")
    return {"events": page.items, "more_url": more, "timeline_kind": request.GET.get("kind", "")}
