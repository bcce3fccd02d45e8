"""A list filtered by a tag shows exactly the tagged clients, in the list's order, whether
few or many carry the tag (the query takes another shape past TAGGED_FEW)."""

import pytest

from accord.accounts.services import token_create
from accord.contacts import queries
from accord.contacts.services import company_create, person_create
from tests.conftest import ApiClient


@pytest.fixture
def tagged(admin):
    names = ["Vera", "Anna", "Boris", "Dina", "Gleb"]
    for n, name in enumerate(names):
        tags = ["vip", "dealer"] if n % 2 == 0 else ["dealer"]
        person_create(actor=admin, data={"first_name": name, "tags": tags})
    company_create(actor=admin, data={"name": "Glass LLC", "tags": ["vip"]})
    company_create(actor=admin, data={"name": "Frame LLC", "tags": ["dealer"]})
    return ApiClient(token_create(user=admin, name="tags")[1])


def names(api, url):
    answer = api.get(url)
    assert answer.status_code == 200
    return [item.get("first_name") or item.get("name") for item in answer.json()["items"]]


@pytest.mark.parametrize("few", [queries.TAGGED_FEW, 2], ids=["few-tagged", "many-tagged"])
def test_the_tag_filter_lists_exactly_the_tagged_clients_in_order(tagged, monkeypatch, few):
    monkeypatch.setattr(queries, "TAGGED_FEW", few)
    assert names(tagged, "/api/v1/people?tag=VIP&sort=full_name") == ["Boris", "Gleb", "Vera"]
    assert names(tagged, "/api/v1/people?tag=vip&sort=-full_name") == ["Vera", "Gleb", "Boris"]
    assert len(names(tagged, "/api/v1/people?tag=dealer")) == 5
    assert names(tagged, "/api/v1/people?tag=nobody") == []
    assert names(tagged, "/api/v1/companies?tag=vip") == ["Glass LLC"]
