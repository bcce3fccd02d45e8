"""Input that once answered 500 answers a 4xx problem document, and writes nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accord.accounts.models import Team
from accord.accounts.services import token_create, token_revoke
from accord.contacts.models import Person
from accord.contacts.services import company_create, person_create
from accord.sales.services import deal_create
from accord.work.services import task_create
from tests.api.test_errors import assert_problem
from tests.conftest import ApiClient


@pytest.fixture
def admin_api(admin):
    return ApiClient(token_create(user=admin, name="admin")[1])


def field_names(body) -> list[str]:
    return [error["field"] for error in body["errors"]]


def test_companies_export_through_the_api_like_people(admin_api, admin):
    company_create(actor=admin, data={"name": "Glass & Co", "city": "Riga"})
    created = admin_api.post_json("/api/v1/exports", {"record_type": "companies", "format": "csv"})
    assert created.status_code == 201, created.content
    download = admin_api.get(created.json()["file"])
    text = b"".join(download.streaming_content).decode("utf-8-sig")
    assert "Glass & Co" in text and "Riga" in text


def test_an_unknown_record_type_to_export_is_a_422(admin_api):
    body = assert_problem(
        admin_api.post_json("/api/v1/exports", {"record_type": "unicorns", "format": "csv"}), 422
    )
    assert field_names(body) == ["record_type"]


def test_a_task_patched_with_all_day_null_is_a_422(api, owner):
    tomorrow = timezone.now() + timedelta(days=1)
    task = task_create(actor=owner, data={"title": "Call back", "due_at": tomorrow})
    response = api.patch_json(f"/api/v1/tasks/{task.pk}", {"all_day": None})
    body = assert_problem(response, 422)
    assert field_names(body) == ["all_day"]


def test_a_team_member_id_that_is_not_a_number_is_a_422(admin_api):
    body = assert_problem(
        admin_api.post_json("/api/v1/teams", {"name": "X", "members": ["9²"]}), 422
    )
    assert field_names(body) == ["members"]
    assert not Team.objects.filter(name="X").exists()


def test_a_webhook_address_that_is_not_a_host_name_is_a_422(admin_api):
    rule = {
        "name": "Hook",
        "subject": "deal",
        "trigger": "created",
        "actions": [{"type": "call_webhook", "params": {"url": "http://xn--localhost/"}}],
    }
    body = assert_problem(admin_api.post_json("/api/v1/rules", rule), 422)
    assert "actions" in field_names(body)[0]


@pytest.mark.parametrize("bad", ["\ud800", "a\x00b"])
def test_a_lone_surrogate_or_a_nul_in_any_text_is_a_422_naming_the_field(api, bad):
    body = assert_problem(
        api.post_json("/api/v1/people", {"first_name": "Anna", "city": f"Ri{bad}ga"}), 422
    )
    assert field_names(body) == ["city"]
    nested = api.post_json("/api/v1/people", {"first_name": "Anna", "phones": [{"number": bad}]})
    assert field_names(assert_problem(nested, 422)) == ["phones.0.number"]
    assert not Person.objects.exists()


def test_a_nul_in_a_query_is_a_422_naming_the_parameter(api):
    # (A query string cannot carry a lone surrogate: Django decodes it with replacement.)
    body = assert_problem(api.get("/api/v1/people", {"city": "Ri\x00ga"}), 422)
    assert field_names(body) == ["city"]


def test_a_note_on_a_deal_through_the_api(api, owner):
    deal = deal_create(actor=owner, data={"title": "Balcony"})
    response = api.post_json(f"/api/v1/deals/{deal.pk}/notes", {"text": "Called, will decide"})
    assert response.status_code == 201, response.content
    timeline = api.get(f"/api/v1/deals/{deal.pk}/timeline").json()["items"]
    assert timeline[0]["data"]["text"] == "Called, will decide"
    empty = api.post_json(f"/api/v1/deals/{deal.pk}/notes", {"text": " "})
    assert field_names(assert_problem(empty, 422)) == ["text"]


class CsrfCheckingClient(ApiClient):
    """As a program calls the API: Django's test client skips the CSRF check unless told."""

    def __init__(self, token):
        super().__init__(token)
        self.handler.enforce_csrf_checks = True


@pytest.mark.parametrize("method", ["post", "patch", "delete"])
def test_a_revoked_or_unknown_token_on_a_write_is_a_401(owner, method):
    person = person_create(actor=owner, data={"first_name": "Anna"})
    token, key = token_create(user=owner, name="old")
    token_revoke(token=token)
    path = "/api/v1/people" if method == "post" else f"/api/v1/people/{person.pk}"
    for client in (CsrfCheckingClient(key), CsrfCheckingClient("nonsense")):
        response = getattr(client, method)(path, {}, content_type="application/json")
        body = assert_problem(response, 401)
        assert "Bearer" in body["detail"]
    assert Person.objects.filter(pk=person.pk).exists()


def test_a_nul_in_a_page_query_is_a_400_naming_the_parameter(manager_client):
    response = manager_client.get("/clients/people/", {"q": "An\x00na"})
    assert response.status_code == 400
    assert response.content.decode().startswith("q: ")
