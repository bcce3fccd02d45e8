"""Settings → users, teams, roles, security, as an administrator uses them."""

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from accord.accounts.models import Role, SecurityPolicy, Team, User
from accord.accounts.services import token_create, user_create
from accord.core.visibility import RECORD_TYPES
from tests.conftest import PASSWORD, ApiClient, log_in


def test_people_who_may_not_manage_users_do_not_find_settings(manager_client):
    for path in ["/settings/users/", "/settings/roles/", "/settings/teams/", "/settings/security/"]:
        assert manager_client.get(path).status_code == 404
    assert 'href="/settings/"' not in manager_client.get("/").content.decode()


def test_an_admin_creates_a_user_who_must_choose_a_password_at_first_login(admin_client, db):
    support = Role.objects.get(slug="support")
    response = admin_client.post("/settings/users/new/", {
        "full_name": "Lena New", "email": "lena@example.com", "role": support.pk,
        "team": "", "password": "first-password-123",
    })  # fmt: skip
    assert response.status_code == 302
    lena = User.objects.get(email="lena@example.com")
    assert (lena.full_name, lena.role.slug, lena.must_change_password) == (
        "Lena New",
        "support",
        True,
    )

    client = Client()
    assert log_in(client, "lena@example.com", "first-password-123")
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/profile/password/")
    client.post("/profile/password/", {"old_password": "first-password-123",
                                       "new_password": "lena-own-secret-42"})  # fmt: skip
    assert client.get("/").status_code == 200


def test_a_new_user_form_with_a_weak_password_keeps_the_input_and_explains(admin_client):
    response = admin_client.post("/settings/users/new/", {
        "full_name": "Weak", "email": "weak@example.com",
        "role": Role.objects.get(slug="manager").pk, "password": "12345678",
    })  # fmt: skip
    page = response.content.decode()
    assert response.status_code == 200
    assert "This password is too short" in page
    assert 'value="weak@example.com"' in page
    assert not User.objects.filter(email="weak@example.com").exists()


def test_an_admin_cannot_change_their_own_role(admin_client, admin):
    response = admin_client.post(f"/settings/users/{admin.pk}/", {
        "full_name": admin.full_name, "email": admin.email,
        "role": Role.objects.get(slug="manager").pk, "team": "",
    })  # fmt: skip
    assert response.status_code == 200
    assert "You cannot change your own role" in response.content.decode()
    admin.refresh_from_db()
    assert admin.role.slug == "administrator"


def test_deactivating_a_user_ends_their_sessions_and_tokens_at_once(admin_client, owner):
    their_browser = Client()
    assert log_in(their_browser, owner.email)
    _token, key = token_create(user=owner, name="script")
    assert their_browser.get("/").status_code == 200

    admin_client.post(f"/settings/users/{owner.pk}/activation/", {"active": "0"})

    owner.refresh_from_db()
    assert owner.is_active is False
    assert their_browser.get("/").status_code == 302
    assert ApiClient(key).get("/api/v1/me").status_code == 401
    assert not log_in(Client(), owner.email)


def test_an_admin_cannot_deactivate_themselves(admin_client, admin):
    admin_client.post(f"/settings/users/{admin.pk}/activation/", {"active": "0"})
    admin.refresh_from_db()
    assert admin.is_active


def test_a_team_gets_its_head_and_members(admin_client, owner, admin):
    other = user_create(email="other@example.com", password=PASSWORD, role="manager")
    response = admin_client.post("/settings/teams/new/", {
        "name": "Wholesale", "head": admin.pk, "members": [owner.pk],
    })  # fmt: skip
    assert response.status_code == 302
    team = Team.objects.get(name="Wholesale")
    assert team.head == admin
    assert set(team.members.all()) == {owner, admin}

    admin_client.post(f"/settings/teams/{team.pk}/", {"name": "Wholesale", "head": "",
                                                      "members": [other.pk]})  # fmt: skip
    assert set(team.members.all()) == {other}


def test_a_role_cannot_change_more_than_it_sees(admin_client):
    data = {"name": "Odd", "description": "", "capabilities": []}
    for kind in RECORD_TYPES:
        data[f"{kind}__read"], data[f"{kind}__write"] = "own", "own"
    data["deals__write"] = "all"
    response = admin_client.post("/settings/roles/new/", data)
    assert response.status_code == 200
    assert "one cannot change more than one can see" in response.content.decode()
    assert not Role.objects.filter(name="Odd").exists()

    data["deals__write"] = "own"
    assert admin_client.post("/settings/roles/new/", data).status_code == 302
    assert Role.objects.get(name="Odd").level("deals", "write") == "own"


def test_a_role_in_use_cannot_be_deleted(admin_client, owner):
    manager = Role.objects.get(slug="manager")
    admin_client.post(f"/settings/roles/{manager.pk}/", {"delete": "1"})
    assert Role.objects.filter(slug="manager").exists()


def test_an_expired_password_must_be_changed_before_anything_else(admin_client, owner):
    admin_client.post("/settings/security/", {"password_max_age_days": "30"})
    assert SecurityPolicy.current().password_max_age_days == 30
    User.objects.filter(pk=owner.pk).update(password_changed_at=timezone.now() - timedelta(days=31))

    client = Client()
    assert log_in(client, owner.email)
    response = client.get("/")
    assert response["Location"].startswith("/profile/password/")
    assert "has expired" in client.get(response["Location"]).content.decode()
    client.post(
        "/profile/password/", {"old_password": PASSWORD, "new_password": "a-fresh-one-2026"}
    )
    assert client.get("/").status_code == 200


def test_a_team_sets_when_its_head_hears_of_overdue_work(admin_client, admin, owner):
    from accord.accounts.models import Team

    data = {"name": "Retail", "head": admin.pk, "members": [owner.pk]}
    admin_client.post("/settings/teams/new/", {**data, "escalation_minutes": "15"})
    team = Team.objects.get()
    assert team.escalation_minutes == 15
    refused = admin_client.post(f"/settings/teams/{team.pk}/", {**data, "escalation_minutes": "-3"})
    assert refused.status_code == 200
    admin_client.post(f"/settings/teams/{team.pk}/", {**data, "escalation_minutes": ""})
    team.refresh_from_db()
    assert team.escalation_minutes is None


def test_a_users_language_and_zone_end_with_their_request(client, owner):
    """The server's thread serves the next request, perhaps someone else's: a user's
    language and time zone must not stay on it."""
    from django.utils import timezone, translation

    from tests.conftest import log_in

    owner.language, owner.time_zone = "hy", "Asia/Yerevan"
    owner.save()
    before = translation.get_language(), timezone.get_current_timezone_name()
    assert log_in(client, owner.email)
    page = client.get("/").content.decode()
    assert 'lang="hy"' in page
    assert (translation.get_language(), timezone.get_current_timezone_name()) == before
