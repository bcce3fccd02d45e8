"""The steps that change the rule's record: give it an owner, change a field, move a
deal to a stage, add a tag."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.automation import templates
from accord.automation.actions.people import lead_team, person_problems, who_is
from accord.automation.actions.registry import Action, ActionError, Step, register
from accord.automation.records import model_of
from accord.contacts.models import Person
from accord.contacts.services import company_update, person_update
from accord.core.custom_fields import active_fields
from accord.sales.models import Deal, Stage
from accord.sales.services import deal_lose, deal_move, deal_tags_add, deal_update, deal_win
from accord.work.services import lead_distribute


def _record(step: Step):
    record = model_of(step.subject).objects.filter(pk=step.record_id).first()
    if record is None:
        raise ActionError(_("The record is gone."), final=True)
    return record


def _check_owner(params: dict, subject: str) -> list[str]:
    return person_problems(params.get("owner", {}))


def _run_owner(step: Step, params: dict) -> str:
    who = params.get("owner", {})
    if step.subject not in ("person", "company", "deal"):
        raise ActionError(_("A task has an assignee, not an owner."), final=True)
    if who.get("to") == "team" and step.subject == "person":
        if step.dry_run:  # the lead rule chooses when it runs, among those at work then
            return _("Would give the record to %(team)s's lead rule") % {
                "team": lead_team(who).name
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

    team = lead_team(who)
    person = Person.objects.filter(pk=step.record_id, erased_at=None).first()
    if person is None:
        raise ActionError(_("The record is gone."), final=True)
    new = person.pk in step.made.get("clients", [])  # this run's call made it: the author
    # owns it for now, even when in the team (as its head, say), and serves it not yet.
    if (not new and person.owner_id
            and team.members.filter(pk=person.owner_id, is_active=True).exists()):  # fmt: skip
        # A client the team already serves (a second request) stays with its manager.
        step.changed = False
        return _("Kept with %(user)s, who already looks after them") % {"user": person.owner}
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
        traced=("person", "company", "deal"),
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
    return templates.problems_in(params, "value")


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
        traced=("person", "company", "deal"),
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
        step.changed = False
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
        traced=("deal",),
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
        step.changed = False
        return _("Already tagged %(tag)s") % {"tag": name}
    if step.subject == "deal":  # the link, its timeline entry and event: no whole update
        deal = Deal.objects.select_related("owner").prefetch_related("tags")
        deal = deal.filter(pk=step.record_id).first()
        if deal is None:
            raise ActionError(_("The record is gone."), final=True)
        if not deal_tags_add(actor=step.actor, deal=deal, names=[name]):
            step.changed = False
            return _("Already tagged %(tag)s") % {"tag": name}
        return _("Tagged %(tag)s") % {"tag": name}
    record = _record(step)
    tags = [tag.name for tag in record.tags.all()]
    if name.casefold() in {tag.casefold() for tag in tags}:
        step.changed = False
        return _("Already tagged %(tag)s") % {"tag": name}
    update = {"person": person_update, "company": company_update}
    update[step.subject](actor=step.actor, **{step.subject: record}, data={"tags": [*tags, name]})
    return _("Tagged %(tag)s") % {"tag": name}


register(
    Action(
        "add_tag",
        gettext_lazy("Add a tag"),
        ("person", "company", "deal"),
        _check_tag,
        _run_tag,
        traced=("person", "company", "deal"),
    )
)
