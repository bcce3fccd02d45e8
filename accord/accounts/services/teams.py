"""Writes about teams: name, head, members, escalation and the lead rule."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accord.accounts.models import Team, User
from accord.accounts.services.common import require_capability
from accord.core.events import emit


@transaction.atomic
def team_save(
    *,
    actor: User,
    name: str,
    head: User | None,
    members: list[User],
    team: Team | None = None,
    escalation_minutes: object = ...,
    lead_rule: object = ...,
    lead_user: object = ...,
) -> Team:
    """Create a team, or rename it and set its head, members, the grace period after
    which a member's overdue task goes to the head (None: never) and how new leads given
    to the team find an owner ("" none, round robin, least loaded, or one person, who
    must be active). ... leaves a setting as it is."""
    require_capability(actor, "manage_users")
    name = name.strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("Give the team a name.")]
    elif Team.objects.filter(name__iexact=name).exclude(pk=team.pk if team else None).exists():
        errors["name"] = [_("A team with this name already exists.")]
    if head is not None and not head.is_active:
        errors["head"] = [_("The head must be an active user.")]
    grace = escalation_minutes
    if (
        grace is not ...
        and grace is not None
        and (not isinstance(grace, int) or not 0 <= grace <= 7 * 24 * 60)
    ):
        errors["escalation_minutes"] = [_("Give the minutes, up to a week, or leave it empty.")]
    if lead_rule is not ... and lead_rule not in ["", *dict(Team.LEAD_RULES)]:
        errors["lead_rule"] = [_("Choose a rule from the list.")]
    elif lead_rule == Team.FIXED and not (isinstance(lead_user, User) and lead_user.is_active):
        errors["lead_user"] = [_("Choose the active user who takes every new lead.")]
    if errors:
        raise ValidationError(errors)
    if team is None:
        team = Team.objects.create(name=name, head=head)
        event = "team.created"
    else:
        team.name, team.head = name, head
        event = "team.updated"
    if grace is not ...:
        team.escalation_minutes = grace
    if lead_rule is not ...:
        team.lead_rule = lead_rule
        team.lead_user = lead_user if lead_rule == Team.FIXED else None
    team.save()
    member_ids = {member.pk for member in members}
    if head is not None:
        member_ids.add(head.pk)
    User.objects.filter(team=team).exclude(pk__in=member_ids).update(team=None)
    User.objects.filter(pk__in=member_ids).update(team=team)
    emit(event, team_id=team.pk, actor_id=actor.pk)
    return team


@transaction.atomic
def team_delete(*, actor: User, team: Team) -> None:
    require_capability(actor, "manage_users")
    team_id = team.pk
    team.delete()  # members stay, without a team
    emit("team.deleted", team_id=team_id, actor_id=actor.pk)
