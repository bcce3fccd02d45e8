"""What a rule sees of a record: the values its conditions compare and its templates show."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from accord.accounts.models import Team
from accord.automation import records
from accord.contacts.services import company_create, person_create
from accord.sales.services import deal_create
from accord.work.services import task_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def north(owner):
    team = Team.objects.create(name="North")
    owner.team = team
    owner.save()
    return team


@pytest.fixture
def acme(admin, owner, north):
    return company_create(
        actor=admin,
        data={"name": "Acme", "city": "Yerevan", "owner": owner, "tags": ["b2b", "Big"]},
    )


@pytest.fixture
def anna(admin, owner, acme):
    return person_create(
        actor=admin,
        data={
            "first_name": "Anna",
            "last_name": "Petrova",
            "company": acme,
            "birthday": date(1990, 2, 3),
            "owner": owner,
            "tags": ["vip"],
        },
    )


def test_a_deal_shows_its_stage_tags_owner_and_client(admin, owner, stages, anna):
    deal = deal_create(
        actor=admin,
        data={"title": "3 windows", "amount": "12.50", "person": anna, "owner": owner,
              "tags": ["z", "hot"], "expected_close_date": date(2030, 1, 2)},
    )  # fmt: skip
    seen = records.view("deal", deal.pk)
    assert seen["deal"] == seen["record"]
    assert {k: seen["deal"][k] for k in ("title", "amount", "stage", "tags", "owner_team")} == {
        "title": "3 windows",
        "amount": "12.50",
        "stage": deal.stage.name,
        "tags": ["hot", "z"],
        "owner_team": "North",
    }
    assert seen["deal"]["expected_close_date"] == "2030-01-02"
    assert seen["owner"] == {"id": owner.pk, "email": owner.email, "name": "Olivia Owner",
                             "team": "North"}  # fmt: skip
    client = seen["client"]
    assert (client["type"], client["name"], client["company"], client["tags"]) == (
        "person",
        "Anna Petrova",
        "Acme",
        ["vip"],
    )
    assert client["birthday"] == "1990-02-03"


def test_a_deal_without_a_client_or_owner_shows_them_empty(admin, stages):
    deal = deal_create(actor=admin, data={"title": "Bare", "amount": "0"})
    seen = records.view("deal", deal.pk)
    assert seen["client"] == {} and seen["deal"]["tags"] == []


def test_a_task_shows_its_deal_and_its_deals_owner_as_owner(admin, owner, stages, anna):
    deal = deal_create(actor=admin, data={"title": "Roof", "amount": "5", "owner": owner})
    task = task_create(
        actor=admin,
        data={"title": "Call", "due_at": timezone.now() + timedelta(days=1), "deal": deal,
              "person": anna, "assignee": admin},
        allow_past=True,
    )  # fmt: skip
    seen = records.view("task", task.pk)
    assert (seen["task"]["title"], seen["task"]["assignee"]) == ("Call", admin.email)
    assert seen["deal"]["title"] == "Roof" and seen["owner"]["email"] == owner.email
    assert seen["client"]["first_name"] == "Anna"


def test_a_company_shows_its_own_values(acme):
    seen = records.view("company", acme.pk)
    assert seen["company"] is seen["client"]
    assert (seen["client"]["name"], seen["client"]["tags"], seen["owner"]["team"]) == (
        "Acme",
        ["Big", "b2b"],
        "North",
    )


def test_a_record_that_is_gone_has_no_view(admin, stages):
    assert records.view("deal", 987654) is None
