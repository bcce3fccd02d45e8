"""What a rule sees of a record: plain values only (text, numbers, lists), read fresh
when a run starts or a step needs them. Conditions compare them and templates show them
(`{{ deal.amount }}`, `{{ client.first_name }}`); no model instance ever reaches a
template, so a template reaches nothing beyond these fields."""

import re
from typing import Any

from django.utils.translation import gettext_lazy as _

# The fields a condition can name, per record, with their labels and kinds (for the
# rule screen and for checking a rule when it is saved).
CLIENT_FIELDS = [
    ("name", _("Name"), "text"),
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
    from accord.contacts.models import Company, Person
    from accord.sales.models import Deal
    from accord.work.models import Task

    return {"person": Person, "company": Company, "deal": Deal, "task": Task}[subject]


def view(subject: str, record_id: int | None) -> dict[str, Any] | None:
    """{"person": {...}, "client": {...}, "owner": {...}} and so on for one record, or
    None when it is gone."""
    if record_id is None:
        return {}
    builder = {"person": _person, "company": _company, "deal": _deal, "task": _task}[subject]
    record = _load(subject, record_id)
    if record is None:
        return None
    return builder(record)


def _load(subject: str, record_id: int):
    model = model_of(subject)
    related = {
        "person": ["owner__team", "company"],
        "company": ["owner__team"],
        "deal": [
            "owner__team",
            "stage",
            "pipeline",
            "person__owner__team",
            "person__company",
            "company__owner__team",
        ],
        "task": [
            "assignee__team",
            "deal__stage",
            "deal__pipeline",
            "deal__owner__team",
            "person__owner__team",
            "person__company",
            "company__owner__team",
        ],
    }[subject]
    queryset = model.objects.select_related(*related)
    if subject in ("person", "company"):
        queryset = queryset.filter(erased_at=None)
    # No ordering and no .first(): compiling the ORDER BY cost a third of a view.
    found = list(queryset.filter(pk=record_id).order_by()[:1])
    return found[0] if found else None


def _user(user) -> dict[str, Any]:
    if user is None:
        return {"id": None, "email": "", "name": "", "team": ""}
    team = user.team.name if user.team_id else ""
    return {"id": user.pk, "email": user.email, "name": user.full_name or user.email, "team": team}


def _tags(record) -> list[str]:
    return sorted(tag.name for tag in record.tags.all())


def _client_values(record) -> dict[str, Any]:
    owner = _user(record.owner)
    return {
        "id": record.pk,
        "type": "person" if hasattr(record, "first_name") else "company",
        "name": str(record),
        "email": record.primary_email,
        "phone": record.primary_phone,
        "city": record.city,
        "country": record.country,
        "source": record.source,
        "kind": record.kind,
        "tags": _tags(record),
        "owner": owner["email"],
        "owner_name": owner["name"],
        "owner_team": owner["team"],
        "last_contact": record.last_contact_at.isoformat() if record.last_contact_at else "",
        "custom": dict(record.custom_fields or {}),
    }


def _client(record) -> dict[str, Any]:
    """A person's or a company's own values."""
    if record is None:
        return {}
    return _person_values(record) if hasattr(record, "first_name") else _company_values(record)


def _person_values(person) -> dict[str, Any]:
    values = _client_values(person)
    values.update(
        first_name=person.first_name,
        last_name=person.last_name,
        middle_name=person.middle_name,
        company=person.company.name if person.company_id else "",
        birthday=person.birthday.isoformat() if person.birthday else "",
        gender=person.gender,
        marketing_consent=person.marketing_consent,
    )
    return values


def _company_values(company) -> dict[str, Any]:
    values = _client_values(company)
    values["website"] = company.website
    return values


def _person(person) -> dict[str, Any]:
    values = _person_values(person)
    return {"person": values, "client": values, "record": values, "owner": _user(person.owner)}


def _company(company) -> dict[str, Any]:
    values = _company_values(company)
    return {"company": values, "client": values, "record": values, "owner": _user(company.owner)}


def _deal_values(deal) -> dict[str, Any]:
    owner = _user(deal.owner)
    return {
        "id": deal.pk,
        "title": deal.title,
        "amount": str(deal.amount),
        "currency": deal.currency,
        "status": deal.status,
        "stage": deal.stage.name,
        "stage_id": deal.stage_id,
        "pipeline": deal.pipeline.name,
        "pipeline_id": deal.pipeline_id,
        "source": deal.source,
        "tags": _tags(deal),
        "owner": owner["email"],
        "owner_name": owner["name"],
        "owner_team": owner["team"],
        "expected_close_date": (
            deal.expected_close_date.isoformat() if deal.expected_close_date else ""
        ),
        "custom": dict(deal.custom_fields or {}),
    }


def _deal(deal) -> dict[str, Any]:
    values = _deal_values(deal)
    result = {"deal": values, "record": values, "owner": _user(deal.owner)}
    result["client"] = _client(deal.person or deal.company)
    return result


def _task(task) -> dict[str, Any]:
    values = {
        "id": task.pk,
        "title": task.title,
        "kind": task.kind,
        "status": task.status,
        "assignee": task.assignee.email,
        "assignee_name": task.assignee.full_name or task.assignee.email,
        "due_at": task.due_at.isoformat(),
    }
    # A task's owner is its deal's (the salesperson answering for it), else its assignee.
    owner = task.deal.owner if task.deal_id and task.deal.owner_id else task.assignee
    result = {"task": values, "record": values, "owner": _user(owner)}
    result["deal"] = _deal_values(task.deal) if task.deal_id else {}
    result["client"] = _client(task.person or task.company)
    return result


def gone(subject: str, payload: dict) -> dict[str, Any]:
    """What a rule on a deletion sees of the record: what its event kept (the name, the
    e-mail, the phone, the owner), the record itself being gone."""
    from accord.accounts.models import User

    owner = User.objects.select_related("team").filter(pk=payload.get("owner_id") or 0).first()
    values = {
        "id": payload.get(f"{subject}_id"),
        "type": subject,
        "name": payload.get("display_name", ""),
        "email": payload.get("email", ""),
        "phone": payload.get("phone", ""),
        "owner": owner.email if owner else "",
        "deleted": True,
    }
    return {subject: values, "client": values, "record": values, "owner": _user(owner)}


# --- segments --------------------------------------------------------------------------


def segment_of(value: Any):
    """The segment a saved rule names by its id (None: it is gone)."""
    from accord.contacts.models import Segment

    key = whole_number(value)
    return Segment.objects.select_related("owner").filter(pk=key).first() if key else None


def segment_for(user, value: Any):
    """The segment someone means by a name or an id, among those they may see: their own
    first, then shared ones (None: no such segment)."""
    from accord.contacts.queries import segments_visible_to

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
    from accord.contacts.queries import companies_visible_to, filter_clients, people_visible_to
    from accord.sales.queries import deals_visible_to, filter_deals

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
    from accord.sales.models import Deal
    from accord.work.models import Task

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
    from accord.contacts.queries import companies_visible_to, people_visible_to
    from accord.sales.queries import deals_visible_to
    from accord.work.queries import tasks_visible_to

    return {
        "person": people_visible_to,
        "company": companies_visible_to,
        "deal": deals_visible_to,
        "task": tasks_visible_to,
    }[subject](user)
