"""Whom a step names: the record's owner, a user, a member of the owner's team with a
role, the team's head, or whom a team's lead rule picks — and the checks of such a
choice when a rule is saved."""

from contextlib import contextmanager
from contextvars import ContextVar

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from accord.accounts.models import Role, Team, User
from accord.automation.actions.registry import ActionError, Step
from accord.work.models import Task
from accord.work.queries import lead_candidate


def _active_user(email: str):
    return User.objects.filter(email__iexact=(email or "").strip(), is_active=True).first()


def person_problems(who: dict) -> list[str]:
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
def users_read_once(known: dict | None = None):
    """Within (one transaction of the engine's): each record owner `who_is` names is read
    once — a scheduler pass's runs mostly name the same few people. `known`: the owners
    read already (a batch of events shares them)."""
    token = _users.set({} if known is None else known)
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


def lead_team(who: dict):
    """The team a step names, which must distribute leads (checked on save, again here)."""
    team = _team(who.get("team", ""))
    if team is None or not team.lead_rule:
        raise ActionError(
            _("There is no team %(team)s.") % {"team": who.get("team", "")}, final=True
        )
    return team


def _distributed(step: Step, who: dict):
    team = lead_team(who)
    chosen = lead_candidate(team, step.now, rule=team.LEAST_LOADED)
    if chosen is None and team.head_id and team.head.is_active:
        chosen = team.head
    if chosen is None:
        raise ActionError(_("Nobody in %(team)s is at work now.") % {"team": team.name})
    return chosen
