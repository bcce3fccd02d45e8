"""The lists cost the same number of queries for 3 rows as for 30: the people, companies
and deals lists, the board, Today and the API lists (Saleor's guard against N+1). Each
row has tags, an owner, phones, e-mails, a company and custom field values."""

import datetime
import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accord.accounts.services import team_save, token_create, user_create
from accord.contacts.services import company_create, person_create
from accord.core.services import custom_field_save
from accord.sales.models import Pipeline
from accord.sales.services import deal_create, pipeline_create
from accord.work.services import task_create
from tests.conftest import PASSWORD, ApiClient
from tests.sales.conftest import STAGES

SERIAL = itertools.count(1)


@pytest.fixture
def world(admin):
    Pipeline.objects.all().delete()
    pipeline = pipeline_create(actor=admin, name="Windows", stages=STAGES)
    for record_type in ("person", "company", "deal"):
        custom_field_save(actor=admin, record_type=record_type, label="Segment",
                          type="choice", choices=["retail", "dealer"])  # fmt: skip
        custom_field_save(actor=admin, record_type=record_type, label="Budget", type="number")
    owners = [admin] + [
        user_create(email=f"owner{n}@example.com", password=PASSWORD, role="manager")
        for n in range(3)
    ]
    team_save(actor=admin, name="Sales", head=admin, members=owners[1:])
    return {"admin": admin, "owners": owners, "pipeline": pipeline}


def add_rows(world, count: int) -> None:
    """`count` more of each: a company, a person in it, a deal and a task of the person."""
    admin, owners = world["admin"], world["owners"]
    stages = list(world["pipeline"].stages.filter(kind="open"))
    for i in range(count):
        n = next(SERIAL)  # names unique in the process; who owns what: the same each call
        owner = owners[i % len(owners)]  # the admin owns the first (its Today shows a deal)
        custom = {"segment": "dealer" if n % 2 else "retail", "budget": n}
        company = company_create(actor=admin, data={
            "name": f"Company {n}", "owner": owner, "tags": [f"tag{n % 4}", "b2b"],
            "phones": [{"value": f"+7912{n:07d}"}], "custom_fields": custom,
        })  # fmt: skip
        person = person_create(actor=admin, data={
            "first_name": f"Person {n}", "owner": owner, "company": company,
            "tags": [f"tag{n % 4}", "vip"], "custom_fields": custom,
            "phones": [{"value": f"+7913{n:07d}"}, {"value": f"+7914{n:07d}"}],
            "emails": [{"value": f"person{n}@example.com"}],
        })  # fmt: skip
        deal = deal_create(actor=admin, data={
            "title": f"Deal {n}", "owner": owner, "person": person, "company": company,
            "pipeline": world["pipeline"], "stage": stages[n % len(stages)],
            "amount": n * 100, "tags": [f"tag{n % 4}"], "custom_fields": custom,
        })  # fmt: skip
        due = timezone.now() + datetime.timedelta(hours=n % 3 - 1, minutes=5)
        task_create(actor=admin, data={
            "title": f"Task {n}", "assignee": admin if n % 2 else owner, "due_at": due,
            "person": person, "deal": deal,
        }, allow_past=True, allow_absent=True)  # fmt: skip


def queries_of(client, url: str) -> tuple[int, str]:
    """The number of queries of a request, asked twice (the first warms the caches)."""
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        answer = client.get(url)
    assert answer.status_code == 200, url
    return len(captured), answer.content.decode()


def assert_flat(world, client, url: str, shows: str) -> None:
    add_rows(world, 3)
    few, page = queries_of(client, url)
    assert page.count(shows) >= 3, (url, shows)
    if url in SHOWS_FIELDS_AND_TAGS:
        assert "dealer" in page and "tag1" in page, (url, "custom fields and tags shown")
    add_rows(world, 27)
    many, page = queries_of(client, url)
    assert page.count(shows) >= 30 or shows == "Task", (url, shows)
    assert many == few, f"{url}: {few} queries for 3 rows, {many} for 30"


EVERY_COLUMN = {  # the columns that read other tables: a list shows them all here
    "/clients/people/columns/": ["phone", "email", "company", "owner", "tags", "kind",
                                 "last_contact_at", "cf:segment", "cf:budget"],
    "/clients/companies/columns/": ["phone", "email", "owner", "tags", "kind",
                                    "cf:segment", "cf:budget"],
    "/deals/columns/": ["client", "stage", "amount", "owner", "tags", "cf:segment",
                        "cf:budget"],
}  # fmt: skip


@pytest.fixture
def admin_client(admin_client):
    for url, names in EVERY_COLUMN.items():
        assert admin_client.post(url, {"columns": names}).status_code == 302
    return admin_client


SHOWS_FIELDS_AND_TAGS = {
    "/clients/people/",
    "/clients/companies/",
    "/deals/list/",
    "/api/v1/people?limit=100",
    "/api/v1/companies?limit=100",
}

PAGES = [
    ("/clients/people/", "Person "),
    ("/clients/companies/", "Company "),
    ("/deals/list/", "Deal "),
    ("/", "Task "),
]


@pytest.mark.parametrize(("url", "shows"), PAGES, ids=[p[0] for p in PAGES])
def test_a_page_costs_the_same_queries_for_3_rows_and_30(world, admin_client, url, shows):
    assert_flat(world, admin_client, url, shows)


def test_the_board_costs_the_same_queries_for_3_deals_and_30(world, admin_client):
    assert_flat(world, admin_client, f"/deals/board/{world['pipeline'].pk}/", "Deal ")


API = [
    ("/api/v1/people?limit=100", "Person "),
    ("/api/v1/companies?limit=100", "Company "),
    ("/api/v1/deals?limit=100", "Deal "),
    ("/api/v1/tasks?limit=100", "Task "),
]


@pytest.mark.parametrize(("url", "shows"), API, ids=[a[0] for a in API])
def test_an_api_list_costs_the_same_queries_for_3_rows_and_30(world, url, shows):
    api = ApiClient(token_create(user=world["admin"], name="counts")[1])
    assert_flat(world, api, url, shows)
