"""Custom fields: an admin defines them; they appear in forms, cards, filters and the API."""

import pytest

from accord.contacts.models import Person
from accord.contacts.services import person_create
from accord.core.models import CustomField


@pytest.fixture
def fields(admin_client):
    admin_client.post("/settings/fields/person/new/", {"label": "Shoe size", "type": "number"})
    admin_client.post(
        "/settings/fields/person/new/",
        {
            "label": "Interest",
            "type": "choice",
            "choices": "Windows\nDoors\nBalconies",
        },
    )
    return {f.key: f for f in CustomField.objects.all()}


def test_an_admin_adds_fields_with_keys_for_the_api(fields):
    assert sorted(fields) == ["interest", "shoe_size"]
    assert fields["interest"].choices == ["Windows", "Doors", "Balconies"]


def test_a_choice_field_needs_choices_and_money_a_currency(admin_client):
    response = admin_client.post(
        "/settings/fields/person/new/", {"label": "Budget", "type": "money"}
    )
    assert "three-letter code" in response.content.decode()
    response = admin_client.post(
        "/settings/fields/person/new/", {"label": "Size", "type": "choice"}
    )
    assert "at least one choice" in response.content.decode()
    assert not CustomField.objects.exists()


def test_a_manager_cannot_reach_the_fields_screen(manager_client):
    assert manager_client.get("/settings/fields/").status_code == 404


def test_values_are_typed_through_the_form_and_shown_on_the_card(fields, manager_client, owner):
    person = person_create(actor=owner, data={"first_name": "Dina"})
    form = {
        "first_name": "Dina",
        "full": "1",
        "version": "1",
        "kind": "lead",
        "owner": owner.pk,
        "cf_shoe_size": "38",
        "cf_interest": "Doors",
    }
    response = manager_client.post(f"/clients/people/{person.pk}/edit/", form)
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.custom_fields == {"shoe_size": 38, "interest": "Doors"}
    card = manager_client.get(f"/clients/people/{person.pk}/").content.decode()
    assert "Shoe size" in card and "Doors" in card


def test_the_api_validates_values_and_filters_by_them(fields, api, owner):
    person_create(actor=owner, data={"first_name": "Dina", "custom_fields": {"interest": "Doors"}})
    person_create(actor=owner, data={"first_name": "Eli", "custom_fields": {"interest": "Windows"}})
    found = api.get("/api/v1/people", {"cf.interest": "Doors"}).json()["items"]
    assert [p["first_name"] for p in found] == ["Dina"]
    assert found[0]["custom_fields"] == {"interest": "Doors"}

    bad = api.post_json(
        "/api/v1/people", {"first_name": "X", "custom_fields": {"shoe_size": "big"}}
    )
    assert bad.status_code == 422
    assert bad.json()["errors"] == [
        {"field": "custom_fields.shoe_size", "message": "Enter a number."}
    ]
    wrong_choice = api.post_json(
        "/api/v1/people", {"first_name": "X", "custom_fields": {"interest": "Roofs"}}
    )
    assert wrong_choice.status_code == 422
    assert not Person.objects.filter(first_name="X").exists()
    unknown = api.get("/api/v1/people", {"cf.colour": "red"})
    assert unknown.status_code == 400


def test_a_retired_field_leaves_the_form_but_keeps_its_values(fields, admin_client, owner):
    person = person_create(
        actor=owner, data={"first_name": "Dina", "custom_fields": {"shoe_size": 38}}
    )
    admin_client.post(f"/settings/fields/{fields['shoe_size'].pk}/action/", {"action": "retire"})
    page = admin_client.get(f"/clients/people/{person.pk}/edit/").content.decode()
    assert "Shoe size" not in page
    person.refresh_from_db()
    assert person.custom_fields == {"shoe_size": 38}


def test_fields_can_be_reordered(fields, admin_client):
    admin_client.post(f"/settings/fields/{fields['interest'].pk}/action/", {"action": "up"})
    assert [f.key for f in CustomField.objects.filter(record_type="person")] == [
        "interest",
        "shoe_size",
    ]


def test_a_multiple_choice_field_filters_by_one_of_its_values(admin_client, api, owner):
    admin_client.post(
        "/settings/fields/person/new/",
        {
            "label": "Products",
            "type": "multi_choice",
            "choices": "Windows\nDoors",
        },
    )
    person_create(
        actor=owner,
        data={"first_name": "Both", "custom_fields": {"products": ["Doors", "Windows"]}},
    )
    person_create(
        actor=owner, data={"first_name": "One", "custom_fields": {"products": ["Windows"]}}
    )
    found = api.get("/api/v1/people", {"cf.products": "Doors"}).json()["items"]
    assert [p["first_name"] for p in found] == ["Both"]
    assert found[0]["custom_fields"]["products"] == ["Windows", "Doors"]


def test_the_list_filters_by_a_choice_field_and_offers_it_in_more_filters(
    fields, manager_client, owner
):
    person_create(actor=owner, data={"first_name": "Dina", "custom_fields": {"interest": "Doors"}})
    person_create(actor=owner, data={"first_name": "Eli", "custom_fields": {"interest": "Windows"}})
    page = manager_client.get("/clients/people/", {"cf.interest": "Doors"}).content.decode()
    assert "Dina" in page and "Eli" not in page
    assert "<option selected>Doors</option>" in page


def test_a_list_sorts_and_pages_by_a_custom_field(api, admin, owner, manager_client):
    from accord.contacts.services import person_create
    from accord.core.services import custom_field_save

    custom_field_save(actor=admin, record_type="person", label="Floors", type="number")
    custom_field_save(
        actor=admin,
        record_type="person",
        label="Tags list",
        type="multi_choice",
        choices=["a", "b"],
    )
    for name, floors in [("Nine", 9), ("Ten", 10), ("Two", 2), ("None", None)]:
        data = {"first_name": name}
        if floors is not None:
            data["custom_fields"] = {"floors": floors}
        person_create(actor=owner, data=data)
    seen, url = [], "/api/v1/people?sort=cf.floors&limit=3"
    while url:
        page = api.get(url).json()
        seen += [p["first_name"] for p in page["items"]]
        cursor = page["next_cursor"]
        url = f"/api/v1/people?sort=cf.floors&limit=3&cursor={cursor}" if cursor else ""
    assert seen == ["None", "Two", "Nine", "Ten"]  # as numbers, not as text
    down = api.get("/api/v1/people?sort=-cf.floors").json()["items"]
    assert [p["first_name"] for p in down] == ["Ten", "Nine", "Two", "None"]
    assert api.get("/api/v1/people?sort=cf.tags_list").status_code == 400
    assert api.get("/api/v1/people?sort=cf.nothing").status_code == 400
    assert api.get("/api/v1/people?sort=cf_sort").status_code == 400
    page = manager_client.get("/clients/people/?sort=-cf.floors").content.decode()
    assert page.index(">Ten<") < page.index(">Nine<") < page.index(">Two<")
