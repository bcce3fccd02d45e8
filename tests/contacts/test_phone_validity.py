"""A phone number must be valid in its country, not merely have the right number of
digits: 052-000-1007 is an Israeli mobile, and read as a Russian number it would become
+70520001007, which nobody has. The form and the API refuse it, naming the field."""

from accord.contacts.models import Person

ISRAELI = "052-000-1007"


def test_the_api_refuses_a_number_not_valid_in_the_region_naming_the_field(api, settings):
    settings.ACCORD_PHONE_REGION = "RU"
    data = {"first_name": "Noa", "phones": [{"number": ISRAELI}]}
    refused = api.post_json("/api/v1/people", data)
    assert refused.status_code == 422
    assert refused["Content-Type"].startswith("application/problem+json")
    [error] = refused.json()["errors"]
    assert error["field"] == "phones"
    assert ISRAELI in error["message"] and "not a valid phone number" in error["message"]
    assert not Person.objects.exists()


def test_the_api_refuses_an_invalid_number_given_with_its_country_code(api):
    refused = api.post_json(
        "/api/v1/people", {"first_name": "Noa", "phones": [{"number": "+70520001007"}]}
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "phones"


def test_the_same_number_in_region_il_is_stored_as_an_israeli_one(api, settings):
    settings.ACCORD_PHONE_REGION = "IL"
    created = api.post_json(
        "/api/v1/people", {"first_name": "Noa", "phones": [{"number": ISRAELI}]}
    )
    assert created.status_code == 201, created.content
    assert created.json()["phones"][0]["number"] == "+972520001007"
    assert Person.objects.get().primary_phone == "+972520001007"


def test_the_form_shows_the_error_under_the_phone_and_keeps_what_was_typed(
    manager_client, settings
):
    settings.ACCORD_PHONE_REGION = "RU"
    response = manager_client.post("/clients/people/new/", {
        "first_name": "Noa", "phone_value": [ISRAELI], "phone_label": ["mobile"],
    })  # fmt: skip
    assert response.status_code in (200, 422)
    page = response.content.decode()
    assert f"“{ISRAELI}” is not a valid phone number in Russia" in page
    assert f'value="{ISRAELI}"' in page
    assert 'value="Noa"' in page
    assert not Person.objects.exists()


def test_the_form_saves_the_number_read_in_region_il(manager_client, settings):
    settings.ACCORD_PHONE_REGION = "IL"
    manager_client.post("/clients/people/new/", {
        "first_name": "Noa", "phone_value": [ISRAELI], "phone_label": ["mobile"],
    })  # fmt: skip
    assert Person.objects.get().primary_phone == "+972520001007"


def test_the_phone_field_shows_an_example_from_the_companys_country(manager_client, settings):
    settings.ACCORD_PHONE_REGION = "IL"
    page = manager_client.get("/clients/people/new/").content.decode()
    assert 'placeholder="+972 50-234-5678"' in page
    settings.ACCORD_PHONE_REGION = "RU"
    page = manager_client.get("/clients/people/new/").content.decode()
    assert 'placeholder="+7 912 345-67-89"' in page
