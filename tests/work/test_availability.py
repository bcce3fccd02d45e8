"""Work schedules, absences and lead distribution: who is at work decides who gets a new
lead; a lead arriving when nobody is waits for the first one to start; a task due on a
day its assignee is away is a warning; an away member's overdue work goes to the head."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from accord.accounts.models import Team, User
from accord.accounts.services import (
    absence_add,
    absence_delete,
    schedule_save,
    team_save,
    user_create,
)
from accord.contacts.models import Person
from accord.contacts.services import person_create
from accord.core.timeline import timeline_of
from accord.work.models import LeadAssignment, Notification, Task
from accord.work.scheduler import tick
from accord.work.services import lead_distribute, task_create, task_reschedule, task_update
from tests.conftest import PASSWORD

MONDAY_NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # the site's zone in tests is UTC
SATURDAY_NIGHT = datetime(2026, 11, 21, 23, 0, tzinfo=UTC)


def member(email: str, name: str, role: str = "manager"):
    return user_create(email=email, password=PASSWORD, role=role, full_name=name)


@pytest.fixture
def sales(admin):
    head = member("hugo@example.com", "Hugo Head", "head-of-sales")
    anna = member("anna@example.com", "Anna First")
    boris = member("boris@example.com", "Boris Second")
    vera = member("vera@example.com", "Vera Third")
    team = team_save(
        actor=admin,
        name="Sales",
        head=head,
        members=[head, anna, boris, vera],
        lead_rule=Team.ROUND_ROBIN,
    )
    for user in (head, anna, boris, vera):
        user.refresh_from_db()  # team_save sets the team in the database
    return team, head, [anna, boris, vera]


def new_lead(admin, name: str, team, now) -> Person:
    with time_machine.travel(now, tick=False):
        return person_create(
            actor=admin, data={"first_name": name, "kind": "lead", "assign_team": team}
        )


def owners(people) -> list[str]:
    found = [Person.objects.select_related("owner").get(pk=p.pk) for p in people]
    return [p.owner.full_name if p.owner else None for p in found]


def test_round_robin_gives_leads_in_turn_to_members_at_work_never_to_the_head(admin, sales):
    team, head, (anna, boris, _vera) = sales
    absence_add(
        actor=head, user=boris, kind="vacation", starts=date(2026, 11, 20), ends=date(2026, 11, 27)
    )
    leads = [
        new_lead(admin, f"Lead {n}", team, MONDAY_NOON + timedelta(minutes=n)) for n in range(4)
    ]
    assert owners(leads) == ["Anna First", "Vera Third", "Anna First", "Vera Third"]
    first = leads[0]
    entry = timeline_of(first).get(kind="assigned")
    assert (entry.data["user"], entry.data["team"], entry.data["rule"]) == (
        "Anna First",
        "Sales",
        "round_robin",
    )
    notice = Notification.objects.get(user=anna, person=first)
    assert (notice.kind, notice.data["name"]) == ("lead", "Lead 0")
    assert not Notification.objects.filter(user=head, kind="lead").exists()


def test_a_lead_that_comes_at_night_waits_for_the_first_one_to_start_work(admin, sales):
    team, _head, (_anna, _boris, vera) = sales
    schedule_save(actor=admin, user=vera, weekdays=[0, 1, 2, 3, 4], starts=time(8), ends=time(17))
    lead = new_lead(admin, "Night owl", team, SATURDAY_NIGHT)
    assert Person.objects.get(pk=lead.pk).owner is None
    assert LeadAssignment.objects.get(person=lead).assigned_at is None
    assert tick(SATURDAY_NIGHT + timedelta(hours=30))["leads"] == 0  # Monday 05:00
    monday_eight = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    assert tick(monday_eight)["leads"] == 1
    assert tick(monday_eight + timedelta(seconds=30))["leads"] == 0  # once
    assert owners([lead]) == ["Vera Third"]  # the only one at work at eight
    entry = timeline_of(lead).get(kind="assigned")
    assert entry.data["waited_minutes"] == 33 * 60


def test_working_hours_are_read_on_the_members_own_clock(admin, sales):
    team, _head, (anna, boris, vera) = sales
    User.objects.filter(pk__in=[anna.pk, boris.pk]).update(time_zone="Asia/Yerevan")  # UTC+4
    User.objects.filter(pk=vera.pk).update(time_zone="America/New_York")  # UTC-5: 02:00
    lead = new_lead(admin, "Early", team, datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    assert owners([lead]) == ["Anna First"]  # 11:00 in Yerevan


def test_least_loaded_picks_the_member_with_the_fewest_open_tasks_and_fresh_leads(admin, sales):
    team, _head, (anna, boris, vera) = sales
    team_save(
        actor=admin,
        team=team,
        name="Sales",
        head=team.head,
        members=list(team.members.all()),
        lead_rule=Team.LEAST_LOADED,
    )
    with time_machine.travel(MONDAY_NOON, tick=False):
        for person, count in ((anna, 3), (boris, 1), (vera, 2)):
            for n in range(count):
                task_create(
                    actor=admin,
                    data={"title": f"Task {n}", "assignee": person, "due_at": MONDAY_NOON},
                )
    first = new_lead(admin, "One", team, MONDAY_NOON)
    second = new_lead(admin, "Two", team, MONDAY_NOON + timedelta(minutes=1))
    third = new_lead(admin, "Three", team, MONDAY_NOON + timedelta(minutes=2))
    # Loads (open tasks + today's leads) Anna 3, Boris 1, Vera 2: Boris. Then Boris and
    # Vera tie at 2 and the turn goes on from Boris to Vera; then Boris has 2, the others 3.
    assert owners([first, second, third]) == ["Boris Second", "Vera Third", "Boris Second"]


def test_a_fixed_person_takes_every_lead_and_the_others_share_them_while_away(admin, sales):
    team, head, (_anna, _boris, vera) = sales
    team_save(
        actor=admin,
        team=team,
        name="Sales",
        head=head,
        members=list(team.members.all()),
        lead_rule=Team.FIXED,
        lead_user=vera,
    )
    leads = [new_lead(admin, f"L{n}", team, MONDAY_NOON + timedelta(minutes=n)) for n in range(2)]
    assert owners(leads) == ["Vera Third", "Vera Third"]
    absence_add(
        actor=vera, user=vera, kind="sick", starts=date(2026, 11, 24), ends=date(2026, 11, 24)
    )
    tuesday = MONDAY_NOON + timedelta(days=1)
    later = [new_lead(admin, f"T{n}", team, tuesday + timedelta(minutes=n)) for n in range(2)]
    assert owners(later) == ["Anna First", "Boris Second"]


def test_a_team_with_a_fixed_rule_needs_its_person_and_one_without_a_rule_takes_no_leads(
    admin, sales
):
    team, head, members = sales
    with pytest.raises(ValidationError) as error:
        team_save(
            actor=admin, team=team, name="Sales", head=head, members=members, lead_rule="fixed"
        )
    assert "lead_user" in error.value.message_dict
    quiet = team_save(actor=admin, name="Quiet", head=None, members=[])
    person = person_create(actor=admin, data={"first_name": "Nobody's"})
    with pytest.raises(ValidationError) as error:
        lead_distribute(person=person, team=quiet)
    assert "does not distribute leads" in error.value.message_dict["owner"][0]


def test_absences_are_checked_and_only_the_person_their_head_or_an_admin_enter_them(admin, sales):
    _team, head, (anna, boris, vera) = sales
    day = date(2026, 12, 1)
    for starts, ends, field, text in (
        (day, day - timedelta(days=1), "ends", "cannot come before"),
        (day, day + timedelta(days=400), "ends", "at most a year"),
    ):
        with pytest.raises(ValidationError) as error:
            absence_add(actor=anna, user=anna, kind="vacation", starts=starts, ends=ends)
        assert text in error.value.message_dict[field][0]
    absence_add(actor=anna, user=anna, kind="vacation", starts=day, ends=day + timedelta(days=6))
    with pytest.raises(ValidationError) as error:
        absence_add(
            actor=head,
            user=anna,
            kind="sick",
            starts=day + timedelta(days=6),
            ends=day + timedelta(days=8),
        )
    assert "already away" in error.value.message_dict["starts"][0]
    with pytest.raises(PermissionDenied):
        absence_add(
            actor=boris,
            user=anna,
            kind="sick",
            starts=day + timedelta(days=10),
            ends=day + timedelta(days=10),
        )
    sick = absence_add(actor=admin, user=vera, kind="sick", starts=day, ends=day)
    with pytest.raises(PermissionDenied):
        absence_delete(actor=anna, absence=sick)
    absence_delete(actor=head, absence=sick)
    assert not vera.absences.exists()


def test_a_schedule_needs_a_working_day_and_a_day_that_ends_after_it_starts(admin, sales):
    _team, _head, (anna, _boris, _vera) = sales
    with pytest.raises(ValidationError) as error:
        schedule_save(actor=anna, user=anna, weekdays=[], starts=time(18), ends=time(9))
    assert set(error.value.message_dict) == {"weekdays", "ends"}
    with pytest.raises(ValidationError):
        schedule_save(actor=anna, user=anna, weekdays=[7], starts=time(9), ends=time(18))
    saved = schedule_save(actor=anna, user=anna, weekdays=[5, 0, 0], starts=time(9), ends=time(13))
    assert saved.weekdays == [0, 5]


def test_a_task_due_on_a_day_the_assignee_is_away_is_a_warning_to_confirm(admin, sales):
    _team, head, (anna, _boris, _vera) = sales
    absence_add(
        actor=anna, user=anna, kind="vacation", starts=date(2026, 11, 25), ends=date(2026, 11, 27)
    )
    in_vacation = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    with time_machine.travel(MONDAY_NOON, tick=False):
        with pytest.raises(ValidationError) as error:
            task_create(actor=head, data={"title": "Call", "assignee": anna, "due_at": in_vacation})
        [warning] = error.value.error_dict["due_at"]
        assert warning.code == "absent"
        assert "Anna First is away then (vacation" in error.value.messages[0]
        task = task_create(
            actor=head,
            data={"title": "Call", "assignee": anna, "due_at": MONDAY_NOON + timedelta(hours=2)},
        )
        with pytest.raises(ValidationError):
            task_reschedule(actor=head, task=task, due_at=in_vacation)
        task = task_reschedule(actor=head, task=task, due_at=in_vacation, allow_absent=True)
        assert task.due_at == in_vacation
        # Changing something else of a task already in the vacation asks nothing again.
        assert task_update(actor=head, task=task, data={"title": "Renamed"}).title == "Renamed"


def test_the_overdue_task_of_a_member_away_goes_to_the_head_at_once_and_once(admin, sales):
    team, head, (anna, _boris, _vera) = sales
    team.escalation_minutes = 120
    team.save()
    with time_machine.travel(MONDAY_NOON - timedelta(hours=3), tick=False):
        task = task_create(actor=anna, data={"title": "Send the offer", "due_at": MONDAY_NOON})
    absence_add(
        actor=head, user=anna, kind="sick", starts=date(2026, 11, 23), ends=date(2026, 11, 23)
    )
    tick(MONDAY_NOON + timedelta(minutes=1))
    tick(MONDAY_NOON + timedelta(minutes=2))
    [notice] = Notification.objects.filter(user=head)
    assert (notice.kind, notice.task, notice.data["away"]) == ("escalation", task, True)
    tick(MONDAY_NOON + timedelta(hours=3))  # past the grace period: nothing more
    assert Notification.objects.filter(user=head).count() == 1
    assert Task.objects.get(pk=task.pk).escalated_at == MONDAY_NOON + timedelta(minutes=1)


def test_a_waiting_lead_someone_took_meanwhile_keeps_its_owner(admin, sales):
    from accord.contacts.services import person_update

    team, _head, (anna, _boris, _vera) = sales
    lead = new_lead(admin, "Night owl", team, SATURDAY_NIGHT)
    person_update(actor=admin, person=Person.objects.get(pk=lead.pk), data={"owner": anna})
    tick(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    assert owners([lead]) == ["Anna First"]
    assignment = LeadAssignment.objects.get(person=lead)
    assert (assignment.user, assignment.assigned_at) == (
        anna,
        datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
    )
    assert not Notification.objects.filter(kind="lead").exists()
    assert not timeline_of(lead).filter(kind="assigned").exists()
