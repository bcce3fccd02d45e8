"""What a rule sees of a record: plain values only (text, numbers, lists), read fresh
when a run starts or a step needs them. Conditions compare them and templates show them
(`{{ deal.amount }}`, `{{ client.first_name }}`); no model instance ever reaches a
template, so a template reaches nothing beyond these fields."""

import re
from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accord.accounts.models import User
from accord.contacts.models import Company, Person, Segment
from accord.contacts.queries import (
    companies_visible_to,
    filter_clients,
    people_visible_to,
    segments_visible_to,
)
from accord.sales.models import Deal
from accord.sales.queries import deals_visible_to, filter_deals
from accord.work.models import Task
from accord.work.queries import tasks_visible_to

# The fields a condition can name, per record, with their labels and kinds (for the
# rule screen and for checking a rule when it is saved).
CLIENT_FIELDS = [
    ("name", pgettext_lazy("a client's", "Name"), "text"),
    ("email", _("E-mail"), "text"),
    ("phone", _("Phone"), "text"),
    ("city", _("City"), "text"),
    ("country", _("Country"), "text"),
    ("source", _("Source"), "text"),
    ("kind", _("Kind"), "text"),
    ("tags", _("Tags"), "list"),
    ("owner", _("Owner (e-mail)"), "text"),
    ("owner_team", _("Owner's team"), "text"),
    ("last_contact", _("Last contact"), "date"),
]
PERSON_FIELDS = [
    ("first_name", _("First name"), "text"),
    ("last_name", _("Last name"), "text"),
    *CLIENT_FIELDS,
    ("company", _("Company"), "text"),
    ("birthday", _("Birthday"), "date"),
    ("gender", _("Gender"), "text"),
    ("marketing_consent", _("Agrees to marketing"), "boolean"),
]
COMPANY_FIELDS = [*CLIENT_FIELDS, ("website", _("Website"), "text")]
DEAL_FIELDS = [
    ("title", _("Title"), "text"),
    ("amount", _("Amount"), "number"),
    ("currency", _("Currency"), "text"),
    ("status", _("Status"), "text"),
    ("stage", _("Stage"), "text"),
    ("pipeline", _("Pipeline"), "text"),
    ("source", _("Source"), "text"),
    ("tags", _("Tags"), "list"),
    ("owner", _("Owner (e-mail)"), "text"),
    ("owner_team", _("Owner's team"), "text"),
    ("expected_close_date", _("Expected close"), "date"),
]
TASK_FIELDS = [
    ("title", _("Title"), "text"),
    ("kind", _("Kind"), "text"),
    ("status", _("Status"), "text"),
    ("assignee", _("Assignee (e-mail)"), "text"),
    ("due_at", _("Due"), "date"),
    ("result", _("What came of it"), "text"),
]
FIELDS = {
    "person": PERSON_FIELDS,
    "company": COMPANY_FIELDS,
    "deal": DEAL_FIELDS,
    "task": TASK_FIELDS,
}
# What else a record's view holds, by name in conditions and templates.
RELATED = {
    "person": ["client"],
    "company": ["client"],
    "deal": ["client"],
    "task": ["deal", "client"],
}


def model_of(subject: str):
    return {"person": Person, "company": Company, "deal": Deal, "task": Task}[subject]


def view(subject: str, record_id: int | None) -> dict[str, Any] | None:
    """{"person": {...}, "client": {...}, "owner": {...}} and so on for one record, or
    None when it is gone."""
    if record_id is None:
        return {}
    return views(subject, [record_id]).get(record_id)


def views(subject: str, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The views of many records of one kind, by id (a scheduler pass reads its runs'
    records at once): a query per table, not per record. A record gone has none."""
    if subject == "task":
        return _tasks(_rows("task", ids))
    if subject == "deal":
        return _deals(_rows("deal", ids))
    found = {}
    for pk, row in _rows(subject, ids, erased_at=None).items():
        client = _client_values(subject, row)
        found[pk] = {subject: client, "client": client, "record": client}
        found[pk]["owner"] = _user(row, "owner")
    return found


# A view reads plain columns (`.values`), a few tables at a time: one select_related over
# the twelve tables of a task or a deal with its client cost most of an event's matching
# (compiling it, building the instances; on PostgreSQL, planning a 12-table join).
def _user_columns(prefix: str) -> list[str]:
    return [f"{prefix}_id", f"{prefix}__email", f"{prefix}__full_name", f"{prefix}__team__name"]


CLIENT_COLUMNS = [
    "id", "primary_email", "primary_phone", "city", "country", "source", "kind",
    "last_contact_at", "custom_fields", *_user_columns("owner"),
]  # fmt: skip
COLUMNS = {
    "person": [
        *CLIENT_COLUMNS, "full_name", "first_name", "last_name", "middle_name", "company__name",
        "birthday", "gender", "marketing_consent",
    ],
    "company": [*CLIENT_COLUMNS, "name", "website"],
    "deal": [
        "id", "title", "amount", "currency", "status", "stage_id", "stage__name", "pipeline_id",
        "pipeline__name", "source", "expected_close_date", "custom_fields", "person_id",
        "company_id", *_user_columns("owner"),
    ],
    "task": [
        "id", "title", "kind", "status", "due_at", "result", "deal_id", "person_id",
        "company_id", *_user_columns("assignee"),
    ],
}  # fmt: skip


_READS: dict[str, Any] = {}  # subject -> its columns' queryset, built once per process


def _rows(subject: str, ids, **filters) -> dict[int, dict[str, Any]]:
    """The records' columns by id, with their tags' names as "tags" (a row per tag, joined)."""
    if subject not in _READS:
        # Resolving the columns' joins was a third of a read. `filter` below copies the
        # queryset, so this one is never run and holds no rows.
        columns = [*COLUMNS[subject], *(["tags__name"] if subject != "task" else [])]
        _READS[subject] = model_of(subject).objects.order_by().values(*columns)
    found: dict[int, dict[str, Any]] = {}
    for row in _READS[subject].filter(pk__in=list(ids), **filters) if ids else []:
        values = found.setdefault(row["id"], {**row, "tags": []})
        if row.get("tags__name") is not None:
            values["tags"].append(row["tags__name"])
    for values in found.values():
        values["tags"].sort()
    return found


def _user(values: dict, prefix: str) -> dict[str, Any]:
    if values[f"{prefix}_id"] is None:
        return {"id": None, "email": "", "name": "", "team": ""}
    email = values[f"{prefix}__email"]
    return {
        "id": values[f"{prefix}_id"],
        "email": email,
        "name": values[f"{prefix}__full_name"] or email,
        "team": values[f"{prefix}__team__name"] or "",
    }


def _client_values(subject: str, row: dict) -> dict[str, Any]:
    """A person's or a company's own values."""
    owner = _user(row, "owner")
    last_contact = row["last_contact_at"]
    values = {
        "id": row["id"],
        "type": subject,
        "name": row["full_name"] if subject == "person" else row["name"],
        "email": row["primary_email"],
        "phone": row["primary_phone"],
        "city": row["city"],
        "country": row["country"],
        "source": row["source"],
        "kind": row["kind"],
        "tags": row["tags"],
        "owner": owner["email"],
        "owner_name": owner["name"],
        "owner_team": owner["team"],
        "last_contact": last_contact.isoformat() if last_contact else "",
        "custom": dict(row["custom_fields"] or {}),
    }
    if subject == "company":
        values["website"] = row["website"]
        return values
    values.update(
        first_name=row["first_name"],
        last_name=row["last_name"],
        middle_name=row["middle_name"],
        company=row["company__name"] or "",
        birthday=row["birthday"].isoformat() if row["birthday"] else "",
        gender=row["gender"],
        marketing_consent=row["marketing_consent"],
    )
    return values


def _clients(rows) -> dict[tuple[str, int], dict[str, Any]]:
    """The values of the deals' or tasks' clients: each one's person, else its company."""
    people = {row["person_id"] for row in rows if row["person_id"]}
    companies = {row["company_id"] for row in rows if not row["person_id"] and row["company_id"]}
    found = {}
    for subject, ids in (("person", people), ("company", companies)):
        for pk, row in _rows(subject, ids).items():
            found[subject, pk] = _client_values(subject, row)
    return found


def _client_of(row: dict, clients: dict) -> dict[str, Any]:
    key = ("person", row["person_id"]) if row["person_id"] else ("company", row["company_id"])
    return clients.get(key, {})


def _deal_values(row: dict) -> dict[str, Any]:
    owner = _user(row, "owner")
    close = row["expected_close_date"]
    return {
        "id": row["id"],
        "title": row["title"],
        "amount": str(row["amount"]),
        "currency": row["currency"],
        "status": row["status"],
        "stage": row["stage__name"],
        "stage_id": row["stage_id"],
        "pipeline": row["pipeline__name"],
        "pipeline_id": row["pipeline_id"],
        "source": row["source"],
        "tags": row["tags"],
        "owner": owner["email"],
        "owner_name": owner["name"],
        "owner_team": owner["team"],
        "expected_close_date": close.isoformat() if close else "",
        "custom": dict(row["custom_fields"] or {}),
    }


def _deals(rows: dict[int, dict]) -> dict[int, dict[str, Any]]:
    clients = _clients(rows.values())
    views = {}
    for pk, row in rows.items():
        values = _deal_values(row)
        views[pk] = {"deal": values, "record": values, "owner": _user(row, "owner")}
        views[pk]["client"] = _client_of(row, clients)
    return views


def _tasks(rows: dict[int, dict]) -> dict[int, dict[str, Any]]:
    deals = _rows("deal", {row["deal_id"] for row in rows.values() if row["deal_id"]})
    clients = _clients(rows.values())
    return {pk: _task(row, deals.get(row["deal_id"]), clients) for pk, row in rows.items()}


def _task(row: dict, deal: dict | None, clients: dict) -> dict[str, Any]:
    assignee = _user(row, "assignee")
    values = {
        "id": row["id"],
        "title": row["title"],
        "kind": row["kind"],
        "status": row["status"],
        "assignee": assignee["email"],
        "assignee_name": assignee["name"],
        "due_at": row["due_at"].isoformat(),
        "result": row["result"],  # what the one who completed it wrote (a report's text)
    }
    # A task's owner is its deal's (the salesperson answering for it), else its assignee.
    owner = _user(deal, "owner") if deal and deal["owner_id"] else assignee
    result = {"task": values, "record": values, "owner": owner}
    result["deal"] = _deal_values(deal) if deal else {}
    result["client"] = _client_of(row, clients)
    return result


def gone(subject: str, payload: dict) -> dict[str, Any]:
    """What a rule on a deletion sees of the record: what its event kept (the name, the
    e-mail, the phone, the owner), the record itself being gone."""

    columns = _user_columns("owner")
    found = User.objects.filter(pk=payload.get("owner_id") or 0)
    row = found.values(*[column.removeprefix("owner__") for column in columns[1:]], "id").first()
    values = {
        "id": payload.get(f"{subject}_id"),
        "type": subject,
        "name": payload.get("display_name", ""),
        "email": payload.get("email", ""),
        "phone": payload.get("phone", ""),
        "owner": row["email"] if row else "",
        "deleted": True,
    }
    owner = _user(
        {
            "owner_id": row["id"] if row else None,
            "owner__email": row["email"] if row else "",
            "owner__full_name": row["full_name"] if row else "",
            "owner__team__name": row["team__name"] if row else "",
        },
        "owner",
    )
    return {subject: values, "client": values, "record": values, "owner": owner}


# --- segments --------------------------------------------------------------------------


def segment_of(value: Any):
    """The segment a saved rule names by its id (None: it is gone)."""

    key = whole_number(value)
    return Segment.objects.select_related("owner").filter(pk=key).first() if key else None


def segment_for(user, value: Any):
    """The segment someone means by a name or an id, among those they may see: their own
    first, then shared ones (None: no such segment)."""

    text = str(value or "").strip()
    if not text:
        return None
    visible = segments_visible_to(user).order_by("-owner_id", "pk")
    named = [s for s in visible.filter(name__iexact=text) if s.owner_id == user.pk]
    named = named or list(visible.filter(name__iexact=text)[:1])
    if named:
        return named[0]
    key = whole_number(text)
    return visible.filter(pk=key).first() if key else None


def whole_number(value: Any, high: int = 2**62) -> int | None:
    """A positive whole number written in ASCII digits ("12"), else None: "²" and "١٢" are
    digits to str.isdigit() but not ids."""
    text = str(value if value is not None else "").strip()
    if not re.fullmatch(r"[0-9]{1,19}", text) or not 0 < int(text) < high:
        return None
    return int(text)


def segment_members(segment):
    """The records in a segment, as its owner sees them (a segment is the owner's filter)."""

    owner = segment.owner
    if segment.record_type == "deal":
        return filter_deals(deals_visible_to(owner), dict(segment.filters), user=owner)
    visible = people_visible_to if segment.record_type == "person" else companies_visible_to
    return filter_clients(visible(owner), segment.record_type, dict(segment.filters), user=owner)


def in_segment(view: dict, value: Any) -> bool:
    """Whether the rule's record — or its client, or its deal, as the segment's kind —
    is in the segment."""
    segment = segment_of(value)
    if segment is None:
        return False
    if segment.record_type == "deal":
        record_id = (view.get("deal") or {}).get("id")
    else:
        client = view.get("client") or {}
        record_id = client.get("id") if client.get("type") == segment.record_type else None
    if not record_id or (view.get("record") or {}).get("deleted"):
        return False
    return segment_members(segment).filter(pk=record_id).exists()


def scheduled(subject: str, segment_value: Any):
    """The ids a scheduled rule goes through: the segment's records, else every open deal
    or open task (a schedule on clients always names a segment)."""

    segment = segment_of(segment_value)
    if segment is not None:
        found = segment_members(segment)
        if segment.record_type != subject:
            return []
    elif segment_value not in (None, ""):
        return []  # its segment is gone: nothing, not everything (rules_check flags it)
    elif subject == "deal":
        found = Deal.objects.filter(status=Deal.OPEN)
    elif subject == "task":
        found = Task.objects.filter(status=Task.OPEN)
    else:
        return []
    return found.order_by("pk").values_list("pk", flat=True).iterator()


def visible(subject: str, user):
    """The records of a kind `user` may see: what a rule, acting as its author, reaches."""

    return {
        "person": people_visible_to,
        "company": companies_visible_to,
        "deal": deals_visible_to,
        "task": tasks_visible_to,
    }[subject](user)
