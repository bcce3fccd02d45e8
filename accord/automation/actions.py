"""What a rule can do, one kind of step each: create a task, assign the owner, change a
field, move a deal to a stage, add a tag, notify people, send an e-mail. Each is an
`Action` in ACTIONS with a `check` (refuses a step naming a user, stage or field that is
not there: the rule is flagged as broken) and a `run` (does it through the domain
services, as the rule's author, and answers what it did, for the run's log and the
record's timeline).

Waiting and branching are steps of the engine itself (`engine.py`). Later features add
theirs with `register` ("send_sms", "generate_document", "send_message"): the engine,
the rule screen and the checks take any action registered here.
"""

from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.accounts.models import Role, Team, User
from accord.automation import templates
from accord.automation.records import model_of, whole_number
from accord.contacts.models import Company, Person
from accord.contacts.services import company_update, person_update
from accord.core import http
from accord.core.custom_fields import active_fields
from accord.core.http import check_url
from accord.sales.models import Deal, Stage
from accord.sales.services import deal_create, deal_lose, deal_move, deal_update, deal_win
from accord.work.models import Notification, Task
from accord.work.queries import lead_candidate
from accord.work.services import lead_distribute, notify, task_create


class ActionError(Exception):
    """A step that cannot be done now (it may be retried) or ever (`final`)."""

    def __init__(self, message: str, *, final: bool = False):
        super().__init__(message)
        self.final = final


@dataclass
class Step:
    """What an action's `run` gets: the run's record (its plain view, fresh), who acts,
    the time, and whether it is a dry run (nothing is written)."""

    subject: str
    record_id: int | None
    view: dict
    actor: Any
    now: datetime
    rule_name: str
    dry_run: bool = False
    made: dict = field(default_factory=dict)  # what earlier steps made (task ids...)


@dataclass
class Action:
    kind: str
    label: Any
    subjects: tuple[str, ...]
    check: Callable[[dict, str], list[str]]
    run: Callable[[Step, dict], str]
    changes_record: bool = True  # the record's view is read again after it
    # It waits on another machine (a webhook, a gateway): done by the worker, outside any
    # database transaction, so a slow receiver holds up neither a user nor a write.
    network: bool = False


ACTIONS: dict[str, Action] = {}


def register(action: Action) -> Action:
    ACTIONS[action.kind] = action
    return action


# --- shared checks ---------------------------------------------------------------------


def _template_problems(params: dict, *names: str) -> list[str]:
    problems = []
    for name in names:
        text = params.get(name) or ""
        if not isinstance(text, str):
            problems.append(_("%(name)s must be text.") % {"name": name})
        elif found := templates.problem(text):
            problems.append(found)
    return problems


def _active_user(email: str):
    return User.objects.filter(email__iexact=(email or "").strip(), is_active=True).first()


def _person_problems(who: dict) -> list[str]:
    to = (who or {}).get("to", "owner")
    if to not in ("owner", "user", "role", "head", "team"):
        return [_("Choose who: the owner, a user, a role in the owner's team or its head.")]
    if to == "team":
        team = _team(who.get("team", ""))
        if team is None:
            return [_("There is no team %(team)s.") % {"team": who.get("team", "")}]
        if not team.lead_rule:
            return [
                _("%(team)s does not distribute leads: choose its rule in Settings, Teams.")
                % {"team": team}
            ]
    if to == "user" and _active_user(who.get("user", "")) is None:
        return [_("No active user has the e-mail %(email)s.") % {"email": who.get("user", "")}]
    if to == "role" and not Role.objects.filter(slug=who.get("role", "")).exists():
        return [_("There is no role %(role)s.") % {"role": who.get("role", "")}]
    return []


def _team(name: str):
    return Team.objects.select_related("head").filter(name__iexact=(name or "").strip()).first()


_users: ContextVar[dict | None] = ContextVar("automation_users", default=None)


@contextmanager
def users_read_once():
    """Within (one transaction of the engine's): each record owner `who_is` names is read
    once — a scheduler pass's runs mostly name the same few people."""
    token = _users.set({})
    try:
        yield
    finally:
        _users.reset(token)


def _owner(owner_id):
    known = _users.get()
    if known is not None and owner_id in known:
        return known[owner_id]
    owner = User.objects.select_related("team").filter(pk=owner_id, is_active=True).first()
    if known is not None:
        known[owner_id] = owner
    return owner


def who_is(step: Step, who: dict):
    """The user a step names: the record's owner, a named user, the member of the owner's
    team with a role (the one with the fewest open tasks), the team's head, or whom a
    team's lead rule picks among its members at work (its head when nobody is)."""

    to = (who or {}).get("to", "owner")
    if to == "team":
        return _distributed(step, who)
    if to == "user":
        user = _active_user(who.get("user", ""))
        if user is None:
            raise ActionError(
                _("No active user has the e-mail %(email)s.") % {"email": who.get("user", "")},
                final=True,
            )
        return user
    owner = _owner(step.view.get("owner", {}).get("id"))
    if to == "owner":
        if owner is None:
            raise ActionError(_("The record has no active owner."), final=True)
        return owner
    team = owner.team if owner and owner.team_id else None
    if team is None:
        raise ActionError(_("The record's owner is in no team."), final=True)
    if to == "head":
        if team.head_id is None or not team.head.is_active:
            raise ActionError(_("%(team)s has no head.") % {"team": team.name}, final=True)
        return team.head
    members = (
        User.objects.filter(team=team, is_active=True, role__slug=who.get("role", ""))
        .annotate(load=Count("tasks", filter=Q(tasks__status=Task.OPEN)))
        .order_by("load", "pk")
    )
    chosen = members.first()
    if chosen is None:
        raise ActionError(
            _("Nobody in %(team)s has the role %(role)s.")
            % {"team": team.name, "role": who.get("role", "")},
            final=True,
        )
    return chosen


def _lead_team(who: dict):
    """The team a step names, which must distribute leads (checked on save, again here)."""
    team = _team(who.get("team", ""))
    if team is None or not team.lead_rule:
        raise ActionError(
            _("There is no team %(team)s.") % {"team": who.get("team", "")}, final=True
        )
    return team


def _distributed(step: Step, who: dict):
    team = _lead_team(who)
    chosen = lead_candidate(team, step.now, rule=team.LEAST_LOADED)
    if chosen is None and team.head_id and team.head.is_active:
        chosen = team.head
    if chosen is None:
        raise ActionError(_("Nobody in %(team)s is at work now.") % {"team": team.name})
    return chosen


UNITS = {"minutes": 60, "hours": 3600, "days": 86400, "working_days": 86400}


def later(now: datetime, amount: Any, unit: str) -> datetime:
    """`amount` `unit`s after now; working days skip Saturdays and Sundays."""
    amount = int(amount or 0)
    if unit != "working_days":
        return now + timedelta(seconds=amount * UNITS.get(unit, 60))
    moment = now
    while amount > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            amount -= 1
    return moment


def duration_problems(value: dict | None) -> list[str]:
    """What is wrong with {"amount": N, "unit": ...} (a due time, a wait)."""
    value = value or {}
    try:
        amount = int(value.get("amount", 0))
    except (TypeError, ValueError, AttributeError):
        return [_("Give the time as a whole number.")]
    if value.get("unit") not in UNITS:
        return [_("Choose minutes, hours, days or working days.")]
    if not 0 <= amount <= 100_000:
        return [_("Give the time as a whole number.")]
    return []


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


def _record(step: Step):
    record = model_of(step.subject).objects.filter(pk=step.record_id).first()
    if record is None:
        raise ActionError(_("The record is gone."), final=True)
    return record


# --- the actions -----------------------------------------------------------------------


def _check_task(params: dict, subject: str) -> list[str]:
    problems = _template_problems(params, "title", "description")
    if not (params.get("title") or "").strip():
        problems.append(_("Give the task a title."))

    if params.get("kind", "call") not in dict(Task.KINDS):
        problems.append(_("Choose the kind of task."))
    return (
        problems
        + _person_problems(params.get("assignee", {}))
        + duration_problems(params.get("due_in"))
    )


def _run_task(step: Step, params: dict) -> str:
    assignee = who_is(step, params.get("assignee", {}))
    due = params.get("due_in") or {}
    title = templates.render(params["title"], step.view)[:200]
    if step.dry_run:
        return _("Would create the task “%(title)s” for %(user)s") % {
            "title": title,
            "user": assignee,
        }
    task = task_create(
        actor=step.actor,
        data={
            "title": title,
            "kind": params.get("kind", "call"),
            "due_at": later(step.now, due.get("amount", 0), due.get("unit", "minutes")),
            "assignee": assignee,
            "description": templates.render(params.get("description") or "", step.view),
            **_linked(step),
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
    )
)


def _check_owner(params: dict, subject: str) -> list[str]:
    return _person_problems(params.get("owner", {}))


def _run_owner(step: Step, params: dict) -> str:
    who = params.get("owner", {})
    if step.subject not in ("person", "company", "deal"):
        raise ActionError(_("A task has an assignee, not an owner."), final=True)
    if who.get("to") == "team" and step.subject == "person":
        if step.dry_run:  # the lead rule chooses when it runs, among those at work then
            return _("Would give the record to %(team)s's lead rule") % {
                "team": _lead_team(who).name
            }
        return _hand_to_team(step, who)
    owner = who_is(step, who)
    if step.dry_run:
        return _("Would give the record to %(user)s") % {"user": owner}
    record = _record(step)
    update = {"person": person_update, "company": company_update, "deal": deal_update}
    update[step.subject](actor=step.actor, **{step.subject: record}, data={"owner": owner})
    return _("Given to %(user)s") % {"user": owner}


def _hand_to_team(step: Step, who: dict) -> str:
    """A lead given to a team: its lead rule picks the owner among those at work, or the
    lead waits for the first to start work (accord.work.services.lead_distribute)."""

    team = _lead_team(who)
    person = Person.objects.filter(pk=step.record_id, erased_at=None).first()
    if person is None:
        raise ActionError(_("The record is gone."), final=True)
    assignment = lead_distribute(person=person, team=team, now=step.now)
    if assignment.user_id is None:
        return _("Given to %(team)s: waiting for someone to start work") % {"team": team.name}
    return _("Given to %(user)s (%(team)s)") % {"user": assignment.user, "team": team.name}


register(
    Action(
        "assign_owner",
        gettext_lazy("Assign the owner"),
        ("person", "company", "deal"),
        _check_owner,
        _run_owner,
    )
)

CHANGEABLE = {
    "person": ["first_name", "last_name", "kind", "city", "country", "source", "gender"],
    "company": ["name", "kind", "city", "country", "source", "website"],
    "deal": ["title", "amount", "source", "expected_close_date"],
}


def _check_field(params: dict, subject: str) -> list[str]:
    name = params.get("field", "")
    if name not in CHANGEABLE.get(subject, []) and not name.startswith("custom."):
        return [_("There is no field %(field)s to change.") % {"field": name}]
    if name.startswith("custom.") and name[7:] not in {f.key for f in active_fields(subject)}:
        return [_("There is no field %(field)s to change.") % {"field": name}]
    return _template_problems(params, "value")


def _run_field(step: Step, params: dict) -> str:
    name, value = params["field"], templates.render(str(params.get("value") or ""), step.view)
    if step.dry_run:
        return _("Would set %(field)s to “%(value)s”") % {"field": name, "value": value}
    record = _record(step)
    data = {name: value}
    if name.startswith("custom."):
        data = {"custom_fields": {**(record.custom_fields or {}), name[7:]: value}}
    update = {"person": person_update, "company": company_update, "deal": deal_update}
    update[step.subject](actor=step.actor, **{step.subject: record}, data=data)
    return _("%(field)s set to “%(value)s”") % {"field": name, "value": value}


register(
    Action(
        "change_field",
        gettext_lazy("Change a field"),
        ("person", "company", "deal"),
        _check_field,
        _run_field,
    )
)


def _check_stage(params: dict, subject: str) -> list[str]:
    stage = Stage.objects.filter(pk=params.get("stage") or 0).first()
    if stage is None or stage.retired:
        return [_("The stage is gone or retired: choose another.")]
    return []


def _run_stage(step: Step, params: dict) -> str:
    stage = Stage.objects.filter(pk=params["stage"]).first()
    if stage is None or stage.retired:
        raise ActionError(_("The stage is gone or retired: choose another."), final=True)
    deal_id = step.record_id if step.subject == "deal" else step.view.get("deal", {}).get("id")
    deal = Deal.objects.filter(pk=deal_id or 0).first()
    if deal is None:
        raise ActionError(_("There is no deal to move."), final=True)
    if step.dry_run:
        return _("Would move the deal to %(stage)s") % {"stage": stage.name}
    if deal.stage_id == stage.pk:
        return _("Already in %(stage)s") % {"stage": stage.name}
    if stage.kind == Stage.WON:
        deal_win(actor=step.actor, deal=deal)
    elif stage.kind == Stage.LOST:
        deal_lose(actor=step.actor, deal=deal, reason=None)
    else:
        deal_move(actor=step.actor, deal=deal, stage=stage)
    return _("Moved to %(stage)s") % {"stage": stage.name}


register(
    Action(
        "move_stage",
        gettext_lazy("Move the deal to a stage"),
        ("deal", "task"),
        _check_stage,
        _run_stage,
    )
)


def _check_tag(params: dict, subject: str) -> list[str]:
    name = (params.get("tag") or "").strip()
    if not name or len(name) > 50:
        return [_("Give the tag (at most 50 characters).")]
    return []


def _run_tag(step: Step, params: dict) -> str:
    name = params["tag"].strip()
    if step.dry_run:
        return _("Would add the tag %(tag)s") % {"tag": name}
    # The view is fresh (read when the run started or after a step that changed the
    # record): a record tagged already costs no query.
    seen = (step.view.get("record") or {}).get("tags") or []
    if name.casefold() in {tag.casefold() for tag in seen}:
        return _("Already tagged %(tag)s") % {"tag": name}
    record = _record(step)
    tags = [tag.name for tag in record.tags.all()]
    if name.casefold() in {tag.casefold() for tag in tags}:
        return _("Already tagged %(tag)s") % {"tag": name}
    update = {"person": person_update, "company": company_update, "deal": deal_update}
    update[step.subject](actor=step.actor, **{step.subject: record}, data={"tags": [*tags, name]})
    return _("Tagged %(tag)s") % {"tag": name}


register(
    Action(
        "add_tag", gettext_lazy("Add a tag"), ("person", "company", "deal"), _check_tag, _run_tag
    )
)


def _check_notify(params: dict, subject: str) -> list[str]:
    problems = _template_problems(params, "message")
    if not (params.get("message") or "").strip():
        problems.append(_("Write the message."))
    return problems + _person_problems(params.get("to", {}))


def _run_notify(step: Step, params: dict) -> str:
    user = who_is(step, params.get("to", {}))
    message = templates.render(params["message"], step.view)[:1000]
    if step.dry_run:
        return _("Would tell %(user)s: %(message)s") % {"user": user, "message": message}
    key = f"automation:{step.made.get('run_id')}:{step.made.get('path')}:{user.pk}"
    client = step.view.get("client") or {}
    notify(
        user,
        Notification.AUTOMATION,
        key[:100],
        person_id=client["id"]
        if client.get("type") == "person" and not client.get("deleted")
        else None,
        message=message,
        rule=step.rule_name,
    )
    return _("%(user)s told: %(message)s") % {"user": user, "message": message}


register(
    Action(
        "notify",
        gettext_lazy("Notify someone"),
        ("person", "company", "deal", "task"),
        _check_notify,
        _run_notify,
        changes_record=False,
    )
)


def _check_email(params: dict, subject: str) -> list[str]:
    problems = _template_problems(params, "subject", "body")
    if not (params.get("subject") or "").strip() or not (params.get("body") or "").strip():
        problems.append(_("Write the e-mail's subject and text."))
    return problems


def _run_email(step: Step, params: dict) -> str:
    client = step.view.get("client") or {}
    address = client.get("email", "")
    if not address:
        raise ActionError(_("The client has no e-mail address."), final=True)
    consented = Person.objects.filter(pk=client.get("id"), marketing_consent=True)
    if params.get("marketing", True) and client.get("type") == "person" and not consented.exists():
        raise ActionError(_("The client has not agreed to marketing e-mail."), final=True)
    subject = templates.render(params["subject"], step.view)[:200].replace("\n", " ")
    if step.dry_run:
        return _("Would e-mail “%(subject)s” to %(address)s") % {
            "subject": subject,
            "address": address,
        }
    body = templates.render(params["body"], step.view)

    def send() -> None:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address])

    # The message goes once the step's changes are saved (a rolled-back step sends none).
    transaction.on_commit(send, robust=False)
    return _("E-mail “%(subject)s” sent to %(address)s") % {"subject": subject, "address": address}


register(
    Action(
        "send_email",
        gettext_lazy("Send an e-mail to the client"),
        ("person", "company", "deal", "task"),
        _check_email,
        _run_email,
        changes_record=False,
    )
)


def _check_deal(params: dict, subject: str) -> list[str]:
    problems = _template_problems(params, "title", "amount")
    if not (params.get("title") or "").strip():
        problems.append(_("Give the deal a title."))
    if params.get("stage"):
        stage = Stage.objects.filter(pk=whole_number(params["stage"]) or 0).first()
        if stage is None or stage.retired or stage.kind != Stage.OPEN:
            problems.append(_("Choose an open stage for the new deal."))
    return problems + _person_problems(params.get("owner") or {"to": "owner"})


def _run_deal(step: Step, params: dict) -> str:
    client = step.view.get("client") or {}
    model = Person if client.get("type") == "person" else Company
    record = model.objects.filter(pk=client.get("id") or 0).first()
    if record is None:
        raise ActionError(_("The rule's record has no client to make a deal for."), final=True)
    owner = who_is(step, params.get("owner") or {"to": "owner"})
    title = templates.render(params["title"], step.view)[:200]
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


def _check_webhook(params: dict, subject: str) -> list[str]:
    problems = check_url(str(params.get("url") or ""))
    if len(str(params.get("secret") or "")) > 200:
        problems.append(_("The signing secret is at most 200 characters."))
    return problems


def _run_webhook(step: Step, params: dict) -> str:
    """POST the record's values as JSON, signed with the step's secret; a refused address
    or a 4xx answer fails the run, a network error or a 5xx is retried with back-off."""

    url = params["url"]
    if step.dry_run:
        return _("Would send the record to %(url)s") % {"url": origin(url)}
    payload = {
        # The same on a retry: a receiver that got the first try can tell it is a repeat.
        "id": f"{step.made.get('run_id')}.{step.made.get('path')}",
        "rule": step.rule_name,
        "record_type": step.subject,
        "record_id": step.record_id,
        "sent_at": step.now.isoformat(),
        "data": step.view,
    }
    try:
        answer = http.post_json(url, payload, secret=params.get("secret") or "")
    except http.Refused as error:
        raise ActionError(str(error), final=True) from None
    except http.Failed as error:
        raise ActionError(str(error), final=not error.retry) from None
    return _("Sent to %(url)s: answered %(status)s in %(ms)s ms") % {
        "url": origin(url),
        "status": answer.status,
        "ms": answer.elapsed_ms,
    }


def origin(url: str) -> str:
    """What a log may show of a webhook's address: its scheme, host and port. The path
    and query often hold a token (a chat's incoming-webhook address is a credential)."""

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}"


register(
    Action(
        "call_webhook",
        gettext_lazy("Call a webhook (another system's web address)"),
        ("person", "company", "deal", "task"),
        _check_webhook,
        _run_webhook,
        changes_record=False,
        network=True,
    )
)
