"""Schedules, absences and lead distribution on the screens and through the API."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from accord.accounts.models import Absence, Team, WorkSchedule
from accord.accounts.services import absence_add, team_save, user_create
from accord.contacts.models import Person
from accord.work.services import task_create
from tests.conftest import PASSWORD

MONDAY_NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def team(admin, owner):
    head = user_create(
        email="hugo@example.com", password=PASSWORD, role="head-of-sales", full_name="Hugo Head"
    )
    mate = user_create(
        email="mira@example.com", password=PASSWORD, role="manager", full_name="Mira Mate"
    )
    return team_save(
        actor=admin,
        name="Sales",
        head=head,
        members=[head, owner, mate],
        lead_rule=Team.ROUND_ROBIN,
    )


def test_the_absence_calendar_shows_the_team_and_takes_a_new_absence(manager_client, owner, team):
    with time_machine.travel(MONDAY_NOON, tick=False):
        mate = team.members.get(email="mira@example.com")
        absence_add(
            actor=team.head,
            user=mate,
            kind="sick",
            starts=date(2026, 11, 24),
            ends=date(2026, 11, 25),
        )
        page = manager_client.get("/calendar/absences/").content.decode()
        assert "November 2026" in page
        assert "Mira Mate" in page and "Hugo Head" in page and "absence-sick" in page
        response = manager_client.post(
            "/calendar/absences/",
            {"user": owner.pk, "kind": "vacation", "starts": "2026-12-07", "ends": "2026-12-11",
             "note": "Skiing"},
        )  # fmt: skip
        assert response.status_code == 302 and response["Location"].endswith("?month=2026-12")
        december = manager_client.get(response["Location"]).content.decode()
        assert "December 2026" in december and "absence-vacation" in december
        assert "Skiing" in december
        # Someone else's absence is not the manager's to enter.
        refused = manager_client.post(
            "/calendar/absences/",
            {"user": mate.pk, "kind": "vacation", "starts": "2026-12-14", "ends": "2026-12-15"},
        )
        assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
        bad = manager_client.post(
            "/calendar/absences/",
            {"user": owner.pk, "kind": "vacation", "starts": "2026-12-09", "ends": "2026-12-20"},
        )
        assert "is already away from" in bad.content.decode()
    assert Absence.objects.filter(user=owner).count() == 1


def test_entering_an_absence_names_the_tasks_due_meanwhile(manager_client, owner, team):
    with time_machine.travel(MONDAY_NOON, tick=False):
        task_create(actor=owner, data={"title": "Call", "due_at": MONDAY_NOON + timedelta(days=2)})
        response = manager_client.post(
            "/calendar/absences/",
            {"user": owner.pk, "kind": "sick", "starts": "2026-11-25", "ends": "2026-11-25"},
            follow=True,
        )
    assert "Olivia Owner has 1 open task due while away" in response.content.decode()


def test_a_user_sets_their_schedule_and_a_manager_cannot_set_a_colleagues(
    manager_client, owner, team
):
    page = manager_client.get(f"/calendar/schedule/{owner.pk}/").content.decode()
    assert "My work schedule" in page and 'value="09:00' in page
    response = manager_client.post(
        f"/calendar/schedule/{owner.pk}/",
        {"weekdays": ["0", "1", "2", "3", "5"], "starts": "10:00", "ends": "19:00"},
    )
    assert response.status_code == 302
    saved = WorkSchedule.objects.get(user=owner)
    assert (saved.weekdays, str(saved.starts), str(saved.ends)) == (
        [0, 1, 2, 3, 5],
        "10:00:00",
        "19:00:00",
    )
    wrong = manager_client.post(
        f"/calendar/schedule/{owner.pk}/", {"weekdays": ["0"], "starts": "19:00", "ends": "10:00"}
    )
    assert "must end after it starts" in wrong.content.decode()
    mate = team.members.get(email="mira@example.com")
    assert manager_client.get(f"/calendar/schedule/{mate.pk}/").status_code == 404


def test_a_task_form_warns_about_a_vacation_and_keeps_it_on_the_second_save(
    manager_client, owner, team
):
    absence_add(
        actor=owner, user=owner, kind="vacation", starts=date(2026, 11, 25), ends=date(2026, 11, 27)
    )
    form = {"title": "Send the offer", "kind": "email", "assignee": owner.pk,
            "due_date": "2026-11-26", "due_time": "10:00", "priority": "1"}  # fmt: skip
    with time_machine.travel(MONDAY_NOON, tick=False):
        warned = manager_client.post("/tasks/new/", form)
        page = warned.content.decode()
        assert warned.status_code == 200
        assert "Olivia Owner is away then (vacation" in page
        assert (
            'name="confirm_absent" value="True"' in page
            or 'name="confirm_absent" value="on"' in page
        )
        kept = manager_client.post("/tasks/new/", {**form, "confirm_absent": "on"})
    assert kept.status_code == 302
    task = owner.tasks.get()
    moved = manager_client.post(f"/tasks/{task.pk}/move/", {"date": "2026-11-27"})
    assert moved.status_code == 200 and "away then" in moved.json()["warning"]
    assert owner.tasks.get().due_at.day == 26  # not moved until confirmed
    confirmed = manager_client.post(
        f"/tasks/{task.pk}/move/", {"date": "2026-11-27", "confirm": "1"}
    )
    assert confirmed.status_code == 200


def test_a_new_person_given_to_a_team_gets_an_owner_by_its_rule(admin_client, admin, owner, team):
    page = admin_client.get("/clients/people/new/").content.decode()
    assert "Or let a team choose the owner" in page
    with time_machine.travel(MONDAY_NOON, tick=False):
        response = admin_client.post(
            "/clients/people/new/",
            {"first_name": "Web", "last_name": "Lead", "assign_team": team.pk, "owner": admin.pk},
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    person = Person.objects.get(first_name="Web")
    assert person.owner == owner  # the first member after the head, in turn
    card = admin_client.get(response["Location"]).content.decode()
    assert "gave the lead to <bdi>Olivia Owner</bdi> (<bdi>Sales</bdi>, round robin)" in card


def test_the_team_settings_choose_how_leads_are_given_out(admin_client, team, owner):
    page = admin_client.get(f"/settings/teams/{team.pk}/").content.decode()
    assert "New leads" in page and "Round robin" in page
    members = [str(m.pk) for m in team.members.all()]
    form = {"name": "Sales", "head": team.head_id, "members": members, "escalation_minutes": "30"}
    missing = admin_client.post(f"/settings/teams/{team.pk}/", {**form, "lead_rule": "fixed"})
    assert "Choose the active user who takes every new lead" in missing.content.decode()
    admin_client.post(
        f"/settings/teams/{team.pk}/", {**form, "lead_rule": "fixed", "lead_user": owner.pk}
    )
    team.refresh_from_db()
    assert (team.lead_rule, team.lead_user) == ("fixed", owner)


def test_absences_and_schedules_through_the_api(api, owner, team):
    created = api.post_json(
        "/api/v1/absences",
        {"user": str(owner.pk), "kind": "vacation", "starts": "2026-12-07", "ends": "2026-12-11"},
    )
    assert created.status_code == 201, created.content
    absence_id = created.json()["id"]
    listed = api.get("/api/v1/absences?from=2026-12-01&until=2026-12-31").json()
    assert [a["id"] for a in listed["items"]] == [absence_id]
    assert api.get("/api/v1/absences?from=December").status_code == 400
    overlap = api.post_json(
        "/api/v1/absences",
        {"user": str(owner.pk), "kind": "sick", "starts": "2026-12-11", "ends": "2026-12-12"},
    )
    assert overlap.status_code == 422 and overlap.json()["errors"][0]["field"] == "starts"
    mate = team.members.get(email="mira@example.com")
    foreign = api.post_json(
        "/api/v1/absences",
        {"user": str(mate.pk), "kind": "sick", "starts": "2026-12-14", "ends": "2026-12-14"},
    )
    assert foreign.status_code == 403
    assert api.delete(f"/api/v1/absences/{absence_id}").status_code == 204
    assert not Absence.objects.exists()

    schedule = api.get(f"/api/v1/schedules/{owner.pk}").json()
    assert (schedule["weekdays"], schedule["starts"]) == ([0, 1, 2, 3, 4], "09:00:00")
    changed = api.put_json(
        f"/api/v1/schedules/{owner.pk}", {"weekdays": [1, 2], "starts": "08:00", "ends": "12:00"}
    )
    assert changed.status_code == 200 and changed.json()["weekdays"] == [1, 2]
    wrong = api.put_json(
        f"/api/v1/schedules/{owner.pk}", {"weekdays": [1], "starts": "12:00", "ends": "08:00"}
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "ends"


def test_a_person_created_through_the_api_for_a_team_is_distributed(api, admin, owner, team):
    from accord.accounts.services import token_create
    from tests.conftest import ApiClient

    integration = ApiClient(token_create(user=admin, name="web site")[1])
    with time_machine.travel(MONDAY_NOON, tick=False):
        created = integration.post_json(
            "/api/v1/people", {"first_name": "From", "last_name": "Web", "owner": f"team:{team.pk}"}
        )
        # A manager who may only own clients cannot hand one to the team.
        refused = api.post_json("/api/v1/people", {"first_name": "X", "owner": f"team:{team.pk}"})
    assert created.status_code == 201, created.content
    assert created.json()["owner"] == str(owner.pk)
    assert (
        refused.status_code == 422
        and "may not hand clients to Sales" in refused.json()["errors"][0]["message"]
    )
    unknown = integration.post_json("/api/v1/people", {"first_name": "X", "owner": "team:999999"})
    assert unknown.status_code == 422 and "No team with a lead rule" in unknown.content.decode()
    person_id = created.json()["id"]
    patched = integration.patch_json(
        f"/api/v1/people/{person_id}",
        {"owner": f"team:{team.pk}"},
        headers={"If-Match": created["ETag"]},
    )
    assert patched.status_code == 422 and "new people only" in patched.content.decode()
    assert Person.objects.count() == 1


def test_a_task_in_a_vacation_through_the_api_names_the_warning_to_waive(api, owner, team):
    absence_add(
        actor=owner, user=owner, kind="vacation", starts=date(2026, 11, 25), ends=date(2026, 11, 27)
    )
    task = {"title": "Call", "due_at": "2026-11-26T10:00:00Z"}
    with time_machine.travel(MONDAY_NOON, tick=False):
        warned = api.post_json("/api/v1/tasks", task)
        assert warned.status_code == 422
        assert warned.json()["errors"][0]["code"] == "absent"
        assert api.post_json("/api/v1/tasks", {**task, "allow_absent": True}).status_code == 201


def test_a_head_sees_on_today_who_of_the_team_is_away(client, team):
    from django.utils import timezone

    from tests.conftest import log_in

    mate = team.members.get(email="mira@example.com")
    today = timezone.localdate()
    absence_add(actor=team.head, user=mate, kind="sick", starts=today, ends=today)
    assert log_in(client, team.head.email)
    page = client.get("/").content.decode()
    row = page[page.index("Mira Mate") : page.index("</tr>", page.index("Mira Mate"))]
    assert "Sick leave" in row
    other = page[page.index("Olivia Owner") : page.index("</tr>", page.index("Olivia Owner"))]
    assert "Sick leave" not in other
