"""A colleague leaves: everything they hold (clients, open deals, open tasks) goes to one
colleague, or is shared out among a team's members who take leads, and they are
deactivated — in one step, each change on its record's timeline as if made by hand."""

from collections import Counter
from dataclasses import dataclass, field
from itertools import cycle

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accord.accounts.models import Team, User
from accord.accounts.queries import absence_on, absences_around, local_moment
from accord.accounts.services import user_set_active
from accord.contacts.models import Company, Person
from accord.contacts.services import clients_bulk_assign
from accord.sales.models import Deal
from accord.sales.services import deal_update
from accord.work.models import Task
from accord.work.services import absence_warning, task_update


@dataclass
class HandOver:
    """What a hand-over moved (or, planned, would move), and to whom."""

    people: int = 0
    companies: int = 0
    deals: int = 0
    tasks: int = 0
    while_away: list = field(default_factory=list)  # tasks due on their new holder's days off
    # Who gets each record: {("person", id): user, ("deal", id): user, ("task", id): user}.
    receivers: dict = field(default_factory=dict)

    def shares(self) -> list[tuple[User, int]]:
        """Each receiver with how many records they get, most first."""
        counts = Counter(self.receivers.values())
        return sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))


def _takers(team: Team, leaving: User) -> list[User]:
    """The team's members who take leads and are not away today (its head only when
    nobody else is), in the order its rule gives leads: the fixed person alone, the least
    loaded first, or by turn."""
    members = (
        User.objects.filter(team=team, is_active=True, role__takes_leads=True)
        .exclude(pk=leaving.pk)
        .annotate(load=Count("tasks", filter=Q(tasks__status=Task.OPEN)))
        .order_by("pk")
    )
    now = timezone.now()
    away = absences_around([m.pk for m in members], now)
    present = [
        m for m in members if not absence_on(away.get(m.pk, []), local_moment(m, now).date())
    ]
    # As with leads, the head takes a share only when nobody else of the team can.
    present = [m for m in present if m.pk != team.head_id] or present
    if team.lead_rule == Team.FIXED and team.lead_user_id in {m.pk for m in present}:
        return [m for m in present if m.pk == team.lead_user_id]
    if team.lead_rule == Team.LEAST_LOADED:
        present.sort(key=lambda m: (m.load, m.pk))
    return present


def hand_over_plan(*, user: User, to_user: User | None = None, to_team: Team | None = None):
    """What `user` holds and who would get each piece: all to `to_user`, or shared out in
    turn among `to_team`'s takers — a client's deals and tasks go with the client, a
    deal's tasks with the deal. `while_away`: tasks due on a day their new holder is off
    (the hand-over asks once before moving them)."""
    people = list(Person.objects.filter(owner=user).order_by("pk").values_list("pk", flat=True))
    companies = list(Company.objects.filter(owner=user).order_by("pk").values_list("pk", flat=True))
    deals = list(
        Deal.objects.filter(owner=user, status=Deal.OPEN)
        .order_by("pk")
        .values_list("pk", "person_id", "company_id")
    )
    tasks = list(
        Task.objects.filter(assignee=user, status=Task.OPEN)
        .select_related("assignee")
        .order_by("due_at", "pk")
    )
    plan = HandOver(
        people=len(people), companies=len(companies), deals=len(deals), tasks=len(tasks)
    )
    takers = [to_user] if to_user else _takers(to_team, user) if to_team else []
    if not takers:
        return plan
    turn = cycle(takers)
    got = plan.receivers
    for pk in people:
        got[("person", pk)] = next(turn)
    for pk in companies:
        got[("company", pk)] = next(turn)
    for pk, person_id, company_id in deals:
        got[("deal", pk)] = (
            got.get(("person", person_id)) or got.get(("company", company_id)) or next(turn)
        )
    for task in tasks:
        holder = (
            got.get(("deal", task.deal_id))
            or got.get(("person", task.person_id))
            or got.get(("company", task.company_id))
            or next(turn)
        )
        got[("task", task.pk)] = holder
        if absence_warning(holder, task.due_at):
            task.new_holder = holder  # shown beside the task when the work is shared out
            plan.while_away.append(task)
    return plan


@transaction.atomic
def work_hand_over(
    *,
    actor: User,
    user: User,
    to_user: User | None = None,
    to_team: Team | None = None,
    move_while_away: bool = False,
) -> HandOver:
    """Give everything `user` holds to `to_user` (or share it out among `to_team`'s
    members who take leads) and deactivate `user`; new leads stop going to `user`. Tasks
    due while their new holder is away move only when `move_while_away` says so
    (otherwise nothing moves: the caller asks first)."""
    if not actor.can("manage_users"):
        raise PermissionDenied(_("Only those who manage users hand their work over."))
    if to_user is None and to_team is None:
        raise ValidationError({"to_user": [_("Choose the colleague who takes the work over.")]})
    if to_user is not None and (to_user.pk == user.pk or not to_user.is_active):
        raise ValidationError({"to_user": [_("Choose an active colleague other than %(name)s.")
                                           % {"name": user}]})  # fmt: skip
    plan = hand_over_plan(user=user, to_user=to_user, to_team=to_team)
    holds = plan.people + plan.companies + plan.deals + plan.tasks
    if to_team is not None and holds and not plan.receivers:
        raise ValidationError({"to_user": [_(
            "Nobody in %(team)s takes leads and is at work today: choose a colleague."
        ) % {"team": to_team.name}]})  # fmt: skip
    if plan.while_away and not move_while_away:
        raise ValidationError(
            {"move_while_away": [ngettext(
                "%(count)s task falls due while its new holder is away: move it anyway?",
                "%(count)s tasks fall due while their new holder is away: move them anyway?",
                len(plan.while_away)) % {"count": len(plan.while_away)}]},
            code="absent",
        )  # fmt: skip
    _move(actor, user, plan.receivers)
    user_set_active(user=user, actor=actor, active=False)
    return plan


def _move(actor: User, user: User, receivers: dict) -> None:
    clients: dict[User, list] = {}
    for model, kind in ((Person, "person"), (Company, "company")):
        for record in model.objects.filter(owner=user):
            clients.setdefault(receivers[(kind, record.pk)], []).append(record)
    for owner, records in clients.items():
        clients_bulk_assign(actor=actor, records=records, owner=owner)
    for deal in Deal.objects.filter(owner=user, status=Deal.OPEN):
        deal_update(actor=actor, deal=deal, data={"owner": receivers[("deal", deal.pk)]})
    for task in Task.objects.filter(assignee=user, status=Task.OPEN):
        task_update(actor=actor, task=task, data={"assignee": receivers[("task", task.pk)]},
                    allow_past=True, allow_absent=True)  # fmt: skip
