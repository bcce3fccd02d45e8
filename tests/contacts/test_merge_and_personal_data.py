"""Duplicates are found and merged with their whole history; personal data is exported
and erased on request."""

import json

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from accord.contacts.models import Company, Person
from accord.contacts.queries import duplicate_pairs
from accord.contacts.services import (
    clients_merge,
    company_create,
    note_add,
    person_create,
    person_erase,
)
from accord.core.timeline import timeline_of


def two_annas(owner):
    first = person_create(
        actor=owner,
        data={
            "first_name": "Anna",
            "phones": [{"number": "+79123456789"}],
            "tags": ["vip"],
        },
    )
    second = person_create(
        actor=owner,
        data={
            "first_name": "Anya",
            "last_name": "Smirnova",
            "city": "Kazan",
            "phones": [{"number": "+79123456789"}],
            "emails": [{"address": "anya@example.com"}],
            "tags": ["repeat"],
        },
    )
    note_add(actor=owner, record=first, text="first history")
    note_add(actor=owner, record=second, text="second history")
    return first, second


def test_people_sharing_a_phone_are_listed_as_duplicates(owner):
    first, second = two_annas(owner)
    person_create(
        actor=owner, data={"first_name": "Unrelated", "phones": [{"number": "+79990000000"}]}
    )
    pairs = duplicate_pairs(owner, "person")
    assert [(p["a"], p["b"], p["reason"]) for p in pairs] == [(first, second, "+79123456789")]


def test_same_name_in_the_same_company_is_a_duplicate_too(owner):
    acme = company_create(actor=owner, data={"name": "Acme"})
    a = person_create(actor=owner, data={"first_name": "Lev", "last_name": "Kats", "company": acme})
    b = person_create(actor=owner, data={"first_name": "lev", "last_name": "KATS", "company": acme})
    assert [(p["a"], p["b"]) for p in duplicate_pairs(owner, "person")] == [(a, b)]


def test_merging_keeps_chosen_values_and_both_histories(owner, admin):
    first, second = two_annas(owner)
    survivor = clients_merge(
        actor=admin, survivor=first, other=second, take_from_other=["last_name", "city"]
    )
    assert (survivor.full_name, survivor.city) == ("Anna Smirnova", "Kazan")
    assert survivor.primary_email == "anya@example.com"
    assert sorted(t.name for t in survivor.tags.all()) == ["repeat", "vip"]
    assert survivor.contact_points.filter(kind="phone").count() == 1
    assert not Person.objects.filter(pk=second.pk).exists()
    history = list(timeline_of(survivor))
    assert history[0].kind == "merged"
    assert history[0].data["merged_name"] == "Anya Smirnova"
    notes = {e.data["text"] for e in history if e.kind == "note"}
    assert notes == {"first history", "second history"}


def test_merging_companies_moves_their_people(owner, admin, api):
    a = company_create(actor=owner, data={"name": "Acme"})
    b = company_create(actor=owner, data={"name": "Zebracorp"})
    worker = person_create(actor=owner, data={"first_name": "Bob", "company": b})
    clients_merge(actor=admin, survivor=a, other=b)
    worker.refresh_from_db()
    assert worker.company == a
    assert list(Company.objects.all()) == [a]
    # Search follows the move: Bob is found by his new company's name, not the old one.
    assert [p["first_name"] for p in api.get("/api/v1/people", {"q": "acme"}).json()["items"]] == [
        "Bob"
    ]
    assert api.get("/api/v1/people", {"q": "zebracorp"}).json()["items"] == []


def test_merging_needs_the_right_to_delete(owner):
    first, second = two_annas(owner)
    with pytest.raises(PermissionDenied):
        clients_merge(actor=owner, survivor=first, other=second)
    assert Person.objects.count() == 2


def test_the_merge_screen_merges_with_the_values_picked(admin_client, owner):
    first, second = two_annas(owner)
    page = admin_client.get(f"/clients/people/merge/?a={first.pk}&b={second.pk}").content.decode()
    assert "Anya" in page
    assert admin_client.get("/clients/people/merge/?a=abc&b=1").status_code == 404
    response = admin_client.post(
        "/clients/people/merge/",
        {
            "a": first.pk,
            "b": second.pk,
            "first_name": "b",
            "last_name": "b",
        },
    )
    assert response["Location"] == f"/clients/people/{first.pk}/"
    first.refresh_from_db()
    assert first.full_name == "Anya Smirnova"


def test_merge_through_the_api(admin, owner):
    from accord.accounts.services import token_create
    from tests.conftest import ApiClient

    api = ApiClient(token_create(user=admin, name="a")[1])
    first, second = two_annas(owner)
    response = api.post_json(
        f"/api/v1/people/{first.pk}/merge", {"other": str(second.pk), "take_from_other": ["city"]}
    )
    assert response.status_code == 200
    assert response.json()["city"] == "Kazan"
    bad = api.post_json(f"/api/v1/people/{first.pk}/merge", {"other": str(first.pk)})
    assert bad.status_code == 422


def test_a_person_downloads_everything_we_hold_about_them(manager_client, owner):
    first, _second = two_annas(owner)
    response = manager_client.get(f"/clients/people/{first.pk}/export/")
    data = json.loads(response.content)
    assert data["phones"] == [{"number": "+79123456789", "label": ""}]
    assert [e["kind"] for e in data["history"]] == ["note", "created"]
    assert "attachment" in response["Content-Disposition"]


def test_erasing_removes_the_data_and_keeps_only_the_fact(owner, admin, api):
    first, _second = two_annas(owner)
    person_erase(actor=admin, person=first)
    first.refresh_from_db()
    assert first.first_name == "" and first.primary_phone == "" and first.erased_at
    assert [e.kind for e in timeline_of(first)] == ["erased"]
    assert api.get("/api/v1/people", {"q": "Anna"}).json()["items"] == []
    assert "first history" not in json.dumps(api.get(f"/api/v1/people/{first.pk}/export").json())


def test_a_read_only_user_cannot_erase(owner, db):
    from accord.accounts.services import user_create
    from tests.conftest import PASSWORD, log_in

    viewer = user_create(email="view@example.com", password=PASSWORD, role="read-only")
    first, _second = two_annas(owner)
    client = Client()
    log_in(client, viewer.email)
    client.post(f"/clients/people/{first.pk}/erase/")
    first.refresh_from_db()
    assert first.first_name == "Anna"
