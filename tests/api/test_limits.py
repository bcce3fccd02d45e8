"""What one record may hold: 50 tags, 20 phones, 20 e-mails, texts as long as their
column; an API body and its lists are bounded. Over a limit: 422 naming the field and
the limit, in the API, the forms and the services, and nothing is written."""

import json
from urllib.parse import urlencode

import pytest
from django.core.exceptions import ValidationError

from accord.contacts.models import Person, Tag
from accord.contacts.services import person_create, person_update
from accord.sales.models import Deal
from accord.sales.services import deal_create
from tests.api.test_errors import assert_problem


def errors_of(response) -> list[dict]:
    return assert_problem(response, 422)["errors"]


def test_ten_thousand_tags_are_refused_at_once_and_nothing_is_written(
    api, django_assert_max_num_queries
):
    tags = [f"tag {n}" for n in range(10_000)]
    # Refused before any tag is looked at: the token's few queries, none per tag.
    with django_assert_max_num_queries(5):
        response = api.post_json("/api/v1/people", {"first_name": "Anna", "tags": tags})
    assert errors_of(response) == [{"field": "tags", "message": "At most 50 tags."}]
    assert not Person.objects.exists()
    assert not Tag.objects.exists()


@pytest.mark.parametrize(
    ("field", "item", "limit", "message"),
    [
        ("tags", "vip {n}", 50, "At most 50 tags."),
        ("phones", {"number": "+4930123456{n:02}"}, 20, "At most 20 phone numbers."),
        ("emails", {"address": "a{n}@example.com"}, 20, "At most 20 e-mail addresses."),
    ],
)
def test_one_over_the_limit_is_a_422_and_the_limit_itself_is_fine(api, field, item, limit, message):
    def items(count):
        if isinstance(item, str):
            return [item.format(n=n) for n in range(count)]
        return [{key: value.format(n=n) for key, value in item.items()} for n in range(count)]

    over = api.post_json("/api/v1/people", {"first_name": "Anna", field: items(limit + 1)})
    assert errors_of(over) == [{"field": field, "message": message}]
    created = api.post_json("/api/v1/people", {"first_name": "Anna", field: items(limit)})
    assert created.status_code == 201, created.content
    assert len(created.json()[field]) == limit


def test_the_services_refuse_too_many_for_every_path(owner):
    with pytest.raises(ValidationError) as refused:
        person_create(
            actor=owner,
            data={
                "first_name": "Anna",
                "phones": [{"number": f"+49301234{n:04}"} for n in range(21)],
            },
        )
    assert refused.value.message_dict == {"phones": ["At most 20 phone numbers."]}
    person = person_create(actor=owner, data={"first_name": "Anna", "tags": ["a"]})
    with pytest.raises(ValidationError) as refused:
        person_update(actor=owner, person=person, data={"tags": [str(n) for n in range(51)]})
    assert refused.value.message_dict == {"tags": ["At most 50 tags."]}
    with pytest.raises(ValidationError) as refused:
        deal_create(actor=owner, data={"title": "Balcony", "tags": [str(n) for n in range(51)]})
    assert refused.value.message_dict == {"tags": ["At most 50 tags."]}
    assert [t.name for t in Person.objects.get().tags.all()] == ["a"]
    assert not Deal.objects.exists()


def test_a_deal_with_too_many_tags_through_the_api(api):
    tags = [str(n) for n in range(51)]
    response = api.post_json("/api/v1/deals", {"title": "Balcony", "tags": tags})
    assert errors_of(response) == [{"field": "tags", "message": "At most 50 tags."}]
    assert not Deal.objects.exists()


def test_the_form_says_the_limit_on_the_field_and_keeps_what_was_typed(manager_client):
    typed = ", ".join(f"tag{n}" for n in range(51))
    response = manager_client.post("/clients/people/new/", {"first_name": "Anna", "tags": typed})
    assert response.status_code == 200
    page = response.content.decode()
    assert "At most 50 tags." in page and "tag50" in page
    assert not Person.objects.exists()


def test_a_text_longer_than_its_column_is_refused_naming_the_field(api, owner):
    body = errors_of(api.post_json("/api/v1/people", {"first_name": "A" * 101}))
    assert body == [{"field": "first_name", "message": "At most 100 characters."}]
    deal = errors_of(api.post_json("/api/v1/deals", {"title": "Balcony", "source": "s" * 101}))
    assert deal == [{"field": "source", "message": "At most 100 characters."}]
    assert not Person.objects.exists() and not Deal.objects.exists()


def test_any_text_in_a_body_is_capped_and_a_list_of_ids_bounded(api):
    huge = api.post_json("/api/v1/people", {"first_name": "Anna", "address": "x" * 100_001})
    assert errors_of(huge) == [{"field": "address", "message": "At most 100000 characters."}]
    members = api.post_json("/api/v1/teams", {"name": "Many", "members": ["1"] * 1001})
    assert errors_of(members) == [{"field": "members", "message": "At most 1000 items."}]
    assert not Person.objects.exists()


def test_a_body_over_the_size_limit_is_a_413_problem_and_nothing_is_read(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"first_name": "Anna", "address": "x" * 20_000})
    response = api.post("/api/v1/people", body, content_type="application/json")
    problem = assert_problem(response, 413)
    assert "10000 bytes" in problem["detail"]
    assert not Person.objects.exists()


@pytest.mark.parametrize("encoding", ["multipart/form-data", "application/x-www-form-urlencoded"])
def test_a_nul_in_a_form_is_refused_naming_the_field(manager_client, encoding):
    data, url = {"first_name": "An\x00na"}, "/clients/people/new/"
    if encoding == "multipart/form-data":
        response = manager_client.post(url, data)  # the test client's default encoding
    else:
        response = manager_client.post(url, urlencode(data), content_type=encoding)
    assert response.status_code == 400
    assert "first_name" in response.content.decode()
    assert not Person.objects.exists()


def test_every_record_refuses_text_no_database_stores_whatever_the_door(owner):
    # A path that skips its service's checks (a script, a later feature) meets the same wall.
    person = person_create(actor=owner, data={"first_name": "Anna"})
    person.city = "Ri\x00ga"
    with pytest.raises(ValidationError) as refused:
        person.save()
    assert list(refused.value.message_dict) == ["city"]
    person.city = "Riga\ud800"
    with pytest.raises(ValidationError):
        person.save()
    person.city, person.source = "Riga", "s" * 101
    with pytest.raises(ValidationError) as refused:
        person.save()
    assert refused.value.message_dict == {"source": ["At most 100 characters."]}


def test_a_lone_surrogate_cannot_come_through_a_form(manager_client):
    # A form is UTF-8 on the wire: the bytes a lone surrogate would be are not UTF-8, and
    # Django reads them as replacement characters, which any database stores.
    body = "first_name=An%ED%A0%80na"
    response = manager_client.post(
        "/clients/people/new/", body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 302
    assert Person.objects.get().first_name == "An\ufffd\ufffd\ufffdna"
