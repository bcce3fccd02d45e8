"""A manager leaves: their clients, open deals and open tasks go to one colleague (or are
shared out by a team's lead rule) in one step, with a summary; tasks due on the new
holder's days off move after one confirmation."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accord.accounts.models import User
from accord.accounts.services import absence_add, user_create
from accord.contacts.models import Company, Person
from accord.contacts.services import company_create, person_create
from accord.core.models import TimelineEvent
from accord.sales.models import Deal
from accord.sales.services import deal_create, deal_win
from accord.work.models import Task
from accord.work.services import task_create
from tests.conftest import PASSWORD


@pytest.fixture
def leaving(db):
    return user_create(email="ivan@example.com", password=PASSWORD, role="manager",
                       full_name="Ivan Leaving")  # fmt: skip


@pytest.fixture
def colleague(db):
    return user_create(email="olga@example.com", password=PASSWORD, role="manager",
                       full_name="Olga Colleague")  # fmt: skip


@pytest.fixture
def his_work(leaving):
    anna = person_create(actor=leaving, data={"first_name": "Anna"})
    company_create(actor=leaving, data={"name": "Okna"})
    deal = deal_create(actor=leaving, data={"title": "Kitchen", "person": anna})
    won = deal_create(actor=leaving, data={"title": "Old balcony", "person": anna})
    deal_win(actor=leaving, deal=won)
    soon = timezone.now() + timedelta(days=2)
    task_create(actor=leaving, data={"title": "Call Anna", "due_at": soon, "person": anna,
                                     "deal": deal})  # fmt: skip
    return anna


def test_one_step_hands_everything_over_and_deactivates(admin_client, leaving, colleague, his_work):
    page = admin_client.get(f"/settings/users/{leaving.pk}/hand-over/").content.decode()
    assert "1 people, 1 companies, 1 open deals and 1 open tasks" in page

    done = admin_client.post(
        f"/settings/users/{leaving.pk}/hand-over/", {"to_user": f"user:{colleague.pk}"}
    )
    assert done.status_code == 302
    leaving.refresh_from_db()
    assert not leaving.is_active
    assert Person.objects.get().owner == colleague and Company.objects.get().owner == colleague
    assert Deal.objects.get(title="Kitchen").owner == colleague
    assert Deal.objects.get(title="Old balcony").owner == leaving  # a closed deal stays his
    assert Task.objects.get().assignee == colleague
    history = TimelineEvent.objects.filter(subject_id=his_work.pk, kind="changed")
    assert history.exists()  # the move is on the client's timeline
    summary = admin_client.get(done["Location"]).content.decode()
    assert "Their 1 people, 1 companies, 1 open deals and 1 open tasks moved" in summary
    assert "Olga Colleague: 4" in summary


def test_tasks_due_while_the_colleague_is_away_move_after_one_confirmation(
    admin_client, admin, leaving, colleague, his_work
):
    today = timezone.localdate()
    absence_add(actor=admin, user=colleague, kind="vacation", starts=today,
                ends=today + timedelta(days=7))  # fmt: skip
    url = f"/settings/users/{leaving.pk}/hand-over/"
    asked = admin_client.post(url, {"to_user": f"user:{colleague.pk}"})
    assert asked.status_code == 200
    assert "1 task falls due while" in asked.content.decode()
    assert Task.objects.get().assignee == leaving and User.objects.get(pk=leaving.pk).is_active

    done = admin_client.post(url, {"to_user": f"user:{colleague.pk}", "move_while_away": "on"})
    assert done.status_code == 302
    assert Task.objects.get().assignee == colleague


def test_a_manager_cannot_hand_over_and_nobody_is_handed_to_himself(
    manager_client, admin_client, leaving, colleague, his_work
):
    url = f"/settings/users/{leaving.pk}/hand-over/"
    assert manager_client.post(url, {"to_user": f"user:{colleague.pk}"}).status_code == 404
    refused = admin_client.post(url, {"to_user": f"user:{leaving.pk}"})
    assert refused.status_code == 200 and refused.context["form"].errors["to_user"]
    assert User.objects.get(pk=leaving.pk).is_active
    assert Person.objects.get().owner == leaving


@pytest.fixture
def sales_team(admin, leaving, colleague):
    from accord.accounts.models import Team
    from accord.accounts.services import role_save, team_save

    boris = user_create(email="boris@example.com", password=PASSWORD, role="manager",
                        full_name="Boris Seller")  # fmt: skip
    # A role that does not sell (the measurer) is in the team for its tasks: no clients.
    measuring = role_save(actor=admin, name="Measurer", access={}, capabilities=[],
                          takes_leads=False)  # fmt: skip
    measurer = user_create(email="mark@example.com", password=PASSWORD, role=measuring.slug)
    return team_save(actor=admin, name="Sales", head=admin, lead_rule=Team.ROUND_ROBIN,
                     members=[leaving, colleague, boris, measurer])  # fmt: skip


def test_a_team_shares_the_work_out_and_each_clients_deals_and_tasks_go_with_it(
    admin_client, leaving, colleague, sales_team
):
    clients = [person_create(actor=leaving, data={"first_name": f"Client {n}"}) for n in range(4)]
    for client in clients:
        deal = deal_create(actor=leaving, data={"title": f"Deal of {client}", "person": client})
        task_create(actor=leaving, data={"title": f"Call {client}", "person": client, "deal": deal,
                                         "due_at": timezone.now() + timedelta(days=1)})  # fmt: skip
    page = admin_client.get(f"/settings/users/{leaving.pk}/hand-over/").content.decode()
    assert f'value="team:{sales_team.pk}"' in page
    done = admin_client.post(
        f"/settings/users/{leaving.pk}/hand-over/", {"to_user": f"team:{sales_team.pk}"}
    )
    assert done.status_code == 302
    owners = {p.first_name: p.owner.email for p in Person.objects.select_related("owner")}
    assert sorted(owners.values()) == ["boris@example.com"] * 2 + ["olga@example.com"] * 2
    for deal in Deal.objects.select_related("person"):
        assert deal.owner_id == deal.person.owner_id
    for task in Task.objects.select_related("person"):
        assert task.assignee_id == task.person.owner_id
    summary = admin_client.get(done["Location"]).content.decode()
    assert "Boris Seller: 6" in summary and "Olga Colleague: 6" in summary
    assert not User.objects.get(pk=leaving.pk).is_active


def test_a_team_with_nobody_at_work_not_even_its_head_is_refused_and_nothing_moves(
    admin, admin_client, leaving, colleague, sales_team, his_work
):
    today = timezone.localdate()
    for email in ("olga@example.com", "boris@example.com", "ada@example.com"):
        absence_add(actor=admin, user=User.objects.get(email=email), kind="vacation",
                    starts=today, ends=today + timedelta(days=3))  # fmt: skip
    refused = admin_client.post(
        f"/settings/users/{leaving.pk}/hand-over/", {"to_user": f"team:{sales_team.pk}"}
    )
    assert "Nobody in Sales takes leads and is at work today" in refused.content.decode()
    assert Person.objects.get().owner == leaving and User.objects.get(pk=leaving.pk).is_active
