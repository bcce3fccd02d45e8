"""The steps that make a new record: a task, a deal for the client."""

import datetime
import zoneinfo
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.automation import templates
from accord.automation.actions.durations import duration_problems, later
from accord.automation.actions.people import person_problems, who_is
from accord.automation.actions.registry import Action, ActionError, Step, register
from accord.automation.records import whole_number
from accord.contacts.models import Company, Person
from accord.core.company import default_time_zone
from accord.sales.models import Deal, Stage
from accord.sales.services import deal_create
from accord.work.asks import asks_problems
from accord.work.models import Task
from accord.work.services import task_create


def _linked(step: Step) -> dict:
    """The records a new task or note belongs to: the deal and its client."""

    links: dict[str, Any] = {}
    deal_id = step.view.get("deal", {}).get("id")
    # With their owners: the task's checks ask whether the author and assignee see them.
    if deal_id:
        links["deal"] = Deal.objects.select_related("owner").filter(pk=deal_id).first()
    client = step.view.get("client") or {}
    if client.get("id"):
        model = Person if client.get("type") == "person" else Company
        found = model.objects.select_related("owner").filter(pk=client["id"]).first()
        links[client.get("type", "person")] = found
    return {name: record for name, record in links.items() if record is not None}


def _check_task(params: dict, subject: str) -> list[str]:
    problems = templates.problems_in(params, "title", "description")
    if not (params.get("title") or "").strip():
        problems.append(_("Give the task a title."))

    if params.get("kind", "call") not in dict(Task.KINDS):
        problems.append(_("Choose the kind of task."))
    if params.get("asks"):
        if subject not in ("deal", "task"):
            problems.append(_("Only a task about a deal asks for its fields: a rule on deals "
                              "or tasks."))  # fmt: skip
        problems += asks_problems(params["asks"])
    return (
        problems
        + person_problems(params.get("assignee", {}))
        + duration_problems(params.get("due_in"))
    )


def _due_on(step: Step, path: str) -> datetime.datetime | None:
    """The day a record's date field names ("deal.expected_close_date", a custom field as
    "deal.custom.installation_date"), at 9:00 on the company's clock; None when unset."""
    value: Any = step.view
    for part in (path or "").split("."):
        value = value.get(part) if isinstance(value, dict) else None
    try:
        day = datetime.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None
    if day is None:
        return None
    zone = zoneinfo.ZoneInfo(default_time_zone())
    return datetime.datetime.combine(day, datetime.time(9, 0), tzinfo=zone)


def _run_task(step: Step, params: dict) -> str:
    assignee = who_is(step, params.get("assignee", {}))
    due = params.get("due_in") or {}
    language = templates.language_of(assignee)  # the task reads in its assignee's language
    title = templates.render_for(params, "title", step.view, language)[:200]
    # Due on a day the record names (the planned installation), else in `due_in`.
    on_day = _due_on(step, params["due_on"]) if params.get("due_on") else None
    if step.dry_run:
        return _("Would create the task “%(title)s” for %(user)s") % {
            "title": title,
            "user": assignee,
        }
    links = _linked(step)
    task = task_create(
        actor=step.actor,
        data={
            "title": title,
            "kind": params.get("kind", "call"),
            "due_at": on_day or later(step.now, due.get("amount", 0), due.get("unit", "minutes")),
            "assignee": assignee,
            "description": templates.render_for(params, "description", step.view, language),
            # The deal's fields to fill in on completion (a task without a deal asks none).
            "asks": (params.get("asks") or []) if "deal" in links else [],
            **links,
        },
        allow_past=True,
        allow_absent=True,
    )
    step.made.setdefault("tasks", []).append(task.pk)
    return _("Task “%(title)s” created for %(user)s") % {"title": task.title, "user": assignee}


register(
    Action(
        "create_task",
        gettext_lazy("Create a task"),
        ("person", "company", "deal", "task"),
        _check_task,
        _run_task,
        changes_record=False,
        traced=("person", "company", "deal"),
    )
)


def _check_deal(params: dict, subject: str) -> list[str]:
    problems = templates.problems_in(params, "title", "amount")
    if not (params.get("title") or "").strip():
        problems.append(_("Give the deal a title."))
    if params.get("stage"):
        stage = Stage.objects.filter(pk=whole_number(params["stage"]) or 0).first()
        if stage is None or stage.retired or stage.kind != Stage.OPEN:
            problems.append(_("Choose an open stage for the new deal."))
    return problems + person_problems(params.get("owner") or {"to": "owner"})


def _run_deal(step: Step, params: dict) -> str:
    client = step.view.get("client") or {}
    model = Person if client.get("type") == "person" else Company
    record = model.objects.filter(pk=client.get("id") or 0).first()
    if record is None:
        raise ActionError(_("The rule's record has no client to make a deal for."), final=True)
    owner = who_is(step, params.get("owner") or {"to": "owner"})
    title = templates.render_for(params, "title", step.view, templates.language_of(owner))[:200]
    if step.dry_run:
        return _("Would create the deal “%(title)s” for %(user)s") % {"title": title, "user": owner}
    data = {"title": title, client.get("type", "person"): record, "owner": owner}
    if params.get("stage"):
        stage = Stage.objects.select_related("pipeline").filter(pk=params["stage"]).first()
        if stage is None or stage.retired:
            raise ActionError(_("Choose an open stage for the new deal."), final=True)
        data.update(stage=stage, pipeline=stage.pipeline)
    amount = templates.render(str(params.get("amount") or ""), step.view).strip()
    if amount:
        data["amount"] = amount
    if client.get("source"):
        data["source"] = client["source"]
    deal = deal_create(actor=step.actor, data=data)
    step.made.setdefault("deals", []).append(deal.pk)
    return _("Deal “%(title)s” created for %(user)s") % {"title": deal.title, "user": owner}


register(
    Action(
        "create_deal",
        gettext_lazy("Create a deal for the client"),
        ("person", "company", "task"),
        _check_deal,
        _run_deal,
        changes_record=False,
    )
)


def _check_client_from_sender(params: dict, subject: str) -> list[str]:
    return []


def _run_client_from_sender(step: Step, params: dict) -> str:
    """The sender of a received e-mail as a new client (through the contacts services, so
    lead distribution and "a record is created" rules see them), and the e-mail theirs;
    a sender who is a client already keeps theirs."""
    from accord.comms.models import Message
    from accord.comms.services import message_attach_client
    from accord.contacts.queries import clients_by_email
    from accord.contacts.services import person_create

    trigger = step.view.get("trigger") or {}
    message = Message.objects.filter(pk=whole_number(trigger.get("message_id")) or 0).first()
    if message is None or not message.from_address:
        raise ActionError(_("Only a rule on a received e-mail makes a client of its sender."),
                          final=True)  # fmt: skip
    address = message.from_address
    if step.dry_run:
        return _("Would make a client of %(address)s") % {"address": address}
    known = [cid for _a, kind, cid, _c in clients_by_email([address]) if kind == "person"]
    person = Person.objects.filter(pk__in=known).order_by("pk").first()
    if person is None:
        first, _space, last = (message.from_name or "").strip().partition(" ")
        person = person_create(
            actor=step.actor,
            data={"first_name": first or address.partition("@")[0][:100], "last_name": last,
                  "emails": [address], "source": _("e-mail")},
        )  # fmt: skip
        step.made.setdefault("clients", []).append(person.pk)
    message_attach_client(message=message, person=person)
    step.record_id = person.pk
    return _("%(address)s is the client %(name)s") % {"address": address, "name": person}


register(
    Action(
        "client_from_sender",
        gettext_lazy("Create a client from the sender"),
        ("person",),
        _check_client_from_sender,
        _run_client_from_sender,
    )
)
