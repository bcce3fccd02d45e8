"""Bearer tokens and the session open the API; revoking or deactivating closes it."""

from django.test import Client

from accord.accounts.models import ApiToken
from accord.accounts.services import token_create, user_create
from tests.conftest import PASSWORD, ApiClient, log_in


def test_a_token_opens_the_api_as_its_user_and_notes_when_it_was_used(api, owner):
    response = api.get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["email"] == "olivia@example.com"
    assert response.json()["role"] == {"slug": "manager", "name": "Manager"}
    assert response.json()["id"] == str(owner.pk)
    assert ApiToken.objects.get(user=owner).last_used_at is not None


def test_the_browser_session_opens_the_api_too(owner):
    client = Client()
    assert log_in(client, "olivia@example.com")
    assert client.get("/api/v1/me").json()["email"] == "olivia@example.com"


def test_a_revoked_token_is_refused_at_once(api, owner):
    token = ApiToken.objects.get(user=owner)
    assert api.delete(f"/api/v1/me/tokens/{token.pk}").status_code == 204
    assert api.get("/api/v1/me").status_code == 401


def test_a_deactivated_users_token_is_refused(api, owner):
    owner.is_active = False
    owner.save()
    assert api.get("/api/v1/me").status_code == 401


def test_an_unknown_or_malformed_token_is_refused(db):
    for key in ["acc_unknown", "not-ours", "x" * 500]:
        assert ApiClient(key).get("/api/v1/me").status_code == 401


def test_a_new_token_is_shown_once_then_only_its_hint(api, owner):
    created = api.post_json("/api/v1/me/tokens", {"name": "Zapier"})
    assert created.status_code == 201
    secret = created.json()["token"]
    assert secret.startswith("acc_")
    assert ApiClient(secret).get("/api/v1/me").status_code == 200

    listed = api.get("/api/v1/me/tokens").json()
    assert {t["name"] for t in listed} == {"tests", "Zapier"}
    assert all("token" not in t for t in listed)
    assert secret not in str(ApiToken.objects.values_list("key_hash", "hint"))


def test_one_cannot_revoke_someone_elses_token(api, admin):
    theirs, _key = token_create(user=admin, name="admin's")
    assert api.delete(f"/api/v1/me/tokens/{theirs.pk}").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_users_are_listed_in_pages_with_a_cursor(api, owner):
    for n in range(4):
        user_create(email=f"u{n}@example.com", password=PASSWORD, role="support")
    first = api.get("/api/v1/users?limit=3&sort=email").json()
    second = api.get(f"/api/v1/users?limit=3&sort=email&cursor={first['next_cursor']}").json()
    emails = [u["email"] for u in first["items"] + second["items"]]
    assert emails == sorted(emails)
    assert len(emails) == 5
    assert second["next_cursor"] is None


def test_the_openapi_schema_and_docs_are_served_without_a_cdn(anonymous_api):
    schema = anonymous_api.get("/api/v1/openapi.json").json()
    assert schema["info"]["title"] == "Accord API"
    assert schema["servers"] == [{"url": "/api/v1"}]
    assert "/me" in schema["paths"]
    docs = anonymous_api.get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in docs
    assert "cdn" not in docs.lower()
