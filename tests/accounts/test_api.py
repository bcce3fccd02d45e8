"""Users, teams and roles through the API: everyone reads, administrators write."""

import pytest

from accord.accounts.models import Role, Team, User
from accord.accounts.services import token_create
from tests.conftest import PASSWORD, ApiClient


@pytest.fixture
def admin_api(admin):
    return ApiClient(token_create(user=admin, name="admin")[1])


def test_an_admin_creates_a_user_through_the_api(admin_api):
    response = admin_api.post_json("/api/v1/users", {
        "email": "Zara@Example.com", "full_name": "Zara", "password": PASSWORD, "role": "support",
    })  # fmt: skip
    assert response.status_code == 201
    assert response.json()["email"] == "zara@example.com"
    assert response.json()["role"]["slug"] == "support"
    assert User.objects.get(email="zara@example.com").must_change_password


def test_a_manager_may_read_users_but_not_create_or_change_them(api, admin):
    assert api.get(f"/api/v1/users/{admin.pk}").status_code == 200
    created = api.post_json("/api/v1/users", {"email": "x@example.com", "password": PASSWORD,
                                              "role": "administrator"})  # fmt: skip
    assert created.status_code == 403
    assert created["Content-Type"] == "application/problem+json"
    changed = api.patch(f"/api/v1/users/{admin.pk}", {"full_name": "Hacked"},
                        content_type="application/json")  # fmt: skip
    assert changed.status_code == 403
    admin.refresh_from_db()
    assert admin.full_name == "Ada Admin"
    assert not User.objects.filter(email="x@example.com").exists()


def test_nobody_changes_their_own_role_through_the_api(admin_api, admin):
    response = admin_api.patch(f"/api/v1/users/{admin.pk}", {"role": "manager"},
                               content_type="application/json")  # fmt: skip
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "role"
    admin.refresh_from_db()
    assert admin.role.slug == "administrator"


def test_a_failed_change_writes_nothing_at_all(admin_api, owner):
    response = admin_api.patch(f"/api/v1/users/{owner.pk}",
                               {"full_name": "Changed", "email": "not-an-email"},
                               content_type="application/json")  # fmt: skip
    assert response.status_code == 422
    owner.refresh_from_db()
    assert owner.full_name == "Olivia Owner"


def test_deactivating_through_the_api_closes_that_users_tokens(admin_api, api, owner):
    response = admin_api.patch(f"/api/v1/users/{owner.pk}", {"is_active": False},
                               content_type="application/json")  # fmt: skip
    assert response.json()["is_active"] is False
    assert api.get("/api/v1/me").status_code == 401


def test_i_change_my_own_language_and_time_zone(api):
    response = api.patch("/api/v1/me", {"language": "he", "time_zone": "Asia/Jerusalem"},
                         content_type="application/json")  # fmt: skip
    assert (response.json()["language"], response.json()["time_zone"]) == ("he", "Asia/Jerusalem")
    bad = api.patch("/api/v1/me", {"time_zone": "Mars/Base"}, content_type="application/json")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "time_zone"


def test_teams_are_created_and_read_through_the_api(admin_api, api, owner, admin):
    created = admin_api.post_json("/api/v1/teams", {"name": "Retail", "head": str(admin.pk),
                                                    "members": [str(owner.pk)]})  # fmt: skip
    assert created.status_code == 201
    listed = api.get("/api/v1/teams").json()
    assert [(t["name"], t["head"]["email"], len(t["members"])) for t in listed] == [
        ("Retail", admin.email, 2)
    ]
    assert api.post_json("/api/v1/teams", {"name": "Mine"}).status_code == 403
    unknown = admin_api.post_json("/api/v1/teams", {"name": "Ghosts", "members": ["999999"]})
    assert unknown.status_code == 422
    assert not Team.objects.filter(name="Ghosts").exists()


def test_roles_are_validated_through_the_api(admin_api):
    access = {kind: {"read": "all", "write": "own"} for kind in ["clients", "deals"]}
    response = admin_api.post_json("/api/v1/roles", {"name": "Intern", "access": access,
                                                     "capabilities": ["export"]})  # fmt: skip
    assert response.status_code == 201
    body = response.json()
    assert body["access"]["clients"] == {"read": "all", "write": "own"}
    assert body["access"]["invoices"] == {"read": "none", "write": "none"}
    assert body["capabilities"] == ["export"]

    bad = admin_api.post_json("/api/v1/roles", {"name": "Bad", "access": {"deals": {"read": "x"}},
                                                "capabilities": ["fly"]})  # fmt: skip
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"access", "capabilities"}
    assert not Role.objects.filter(name="Bad").exists()
