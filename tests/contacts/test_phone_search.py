"""Search by phone finds the client however a person types the number: whole in any
format, without the trunk prefix, or only its last seven or more digits — in the global
search, the people list and the API, on both engines."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from accord.contacts.models import ContactPoint, Person
from accord.contacts.services import company_create, person_create
from accord.core.services import company_profile_update

TYPED = ["8 915 123 45 67", "+7 (915) 123-45-67", "89151234567", "915 123 45 67",
         "9151234567", "123-45-67", "1234567", "51234567", "151 234 567"]  # fmt: skip


@pytest.fixture
def clients(owner, admin, settings):
    settings.ACCORD_PHONE_REGION = ""
    company_profile_update(actor=admin, country="RU", currency="RUB", time_zone="Europe/Moscow")
    person_create(actor=owner, data={"first_name": "Ivan", "phones": [{"number": "+79151234567"}]})
    person_create(actor=owner, data={"first_name": "Near", "phones": [{"number": "+79151234568"}]})
    person_create(actor=owner, data={"first_name": "Ends", "phones": [{"number": "+79161234567"}]})
    company_create(actor=owner, data={"name": "Okna", "phones": [{"number": "+74951234567"}]})


@pytest.mark.parametrize("typed", TYPED)
def test_the_api_finds_the_person_however_the_number_is_typed(api, clients, typed):
    found = {p["first_name"] for p in api.get("/api/v1/people", {"q": typed}).json()["items"]}
    if len(typed.replace(" ", "").replace("-", "")) == 7:
        assert found == {"Ivan", "Ends"}, typed  # both numbers end in these seven digits
    else:
        assert found == {"Ivan"}, typed


def test_the_global_search_and_the_list_find_a_number_by_its_end(manager_client, clients):
    search = manager_client.get("/search/", {"q": "123-45-67"}).content.decode()
    assert "Ivan" in search and "Ends" in search and "Okna" in search and "Near" not in search
    listed = manager_client.get("/clients/people/", {"q": "+7 (915) 123-45-67"}).content.decode()
    assert "Ivan" in listed and "Near" not in listed and "Ends" not in listed


def test_a_few_digits_are_not_taken_for_a_numbers_end(api, clients):
    assert api.get("/api/v1/people", {"q": "45-67"}).json()["items"] == []
    assert api.get("/api/v1/people", {"q": "123-45-69"}).json()["items"] == []


def test_a_number_kept_as_typed_is_found_by_its_end_too(api, owner):
    person_create(actor=owner, data={"first_name": "Dana", "phones": [{"number": "+972520001007"}]})
    found = api.get("/api/v1/people", {"q": "000-1007"}).json()["items"]
    assert [p["first_name"] for p in found] == ["Dana"]
    assert Person.objects.count() == ContactPoint.objects.filter(kind="phone").count() == 1


def test_search_rebuild_indexes_records_made_before_the_index_knew_number_ends(api, clients):
    table = "search_fts" if connection.vendor == "sqlite" else "core_searchentry"
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608 (a fixed name)
    assert api.get("/api/v1/people", {"q": "123-45-67"}).json()["items"] == []
    call_command("search_rebuild", stdout=io.StringIO())
    found = api.get("/api/v1/people", {"q": "123-45-67"}).json()["items"]
    assert {p["first_name"] for p in found} == {"Ivan", "Ends"}
