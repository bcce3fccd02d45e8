"""Every API error is an RFC 9457 problem document; bad input never writes."""

import pytest

from accord.accounts.models import ApiToken

PROBLEM = "application/problem+json"


def assert_problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    return body


@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api/v2/me", "/api/"])
def test_unknown_api_addresses_are_404_problems(anonymous_api, path):
    assert_problem(anonymous_api.get(path), 404)


def test_without_credentials_the_api_answers_401_and_says_how_to_log_in(anonymous_api):
    response = anonymous_api.get("/api/v1/me")
    body = assert_problem(response, 401)
    assert "Bearer" in body["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_method_is_a_405_problem(api):
    assert_problem(api.put("/api/v1/me", {}), 405)


def test_a_body_that_is_not_json_is_a_400_problem_and_creates_nothing(api, owner):
    response = api.post("/api/v1/me/tokens", "{not json", content_type="application/json")
    assert_problem(response, 400)
    assert ApiToken.objects.filter(user=owner).count() == 1  # only the client's own


def test_missing_and_invalid_fields_are_named_in_errors(api, owner):
    body = assert_problem(api.post_json("/api/v1/me/tokens", {}), 422)
    assert [e["field"] for e in body["errors"]] == ["name"]

    body = assert_problem(api.post_json("/api/v1/me/tokens", {"name": "   "}), 422)
    assert body["errors"] == [{"field": "name", "message": "Give the token a name."}]
    assert ApiToken.objects.filter(user=owner).count() == 1


def test_bad_list_parameters_are_400_or_422_problems(api):
    body = assert_problem(api.get("/api/v1/users?limit=0"), 422)
    assert body["errors"][0]["field"] == "limit"
    body = assert_problem(api.get("/api/v1/users?sort=password"), 400)
    assert body["errors"][0]["field"] == "sort"
    body = assert_problem(api.get("/api/v1/users?cursor=garbage"), 400)
    assert body["errors"][0]["field"] == "cursor"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/users/999999",
        "/api/v1/users/not-a-number",
        "/api/v1/deals/0",
        "/api/v1/tasks/99999999999999999999999",
        "/api/v1/people/-1/timeline",
    ],
)
def test_a_record_that_does_not_exist_is_a_404_problem(api, path):
    assert_problem(api.get(path), 404)


def test_session_auth_without_the_csrf_token_is_refused(owner, client):
    client.force_login(owner)
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    response = strict.post("/api/v1/me/tokens", {"name": "x"}, content_type="application/json")
    assert_problem(response, 403)
    assert ApiToken.objects.filter(user=owner).count() == 0
