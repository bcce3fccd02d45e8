"""Login throttling, the second factor, and forms sent without their CSRF token."""

import re
from datetime import timedelta

from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accord.accounts.models import Role
from tests.conftest import PASSWORD, log_in


def fail_logins(client, email, times):
    for _attempt in range(times):
        client.post("/login/", {"username": email, "password": "wrong-password"})


def test_five_failures_pause_logins_for_the_account_even_with_the_right_password(owner):
    client = Client(REMOTE_ADDR="10.0.0.1")
    fail_logins(client, owner.email, 5)
    response = client.post("/login/", {"username": owner.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Logging in is paused for 15 minutes" in response.content.decode()
    # From another address too: the account itself is paused.
    other = Client(REMOTE_ADDR="10.0.0.2")
    assert (
        other.post("/login/", {"username": owner.email.upper(), "password": PASSWORD}).status_code
        == 429
    )


def test_the_lockout_looks_the_same_whether_the_account_exists_or_not(owner):
    real, ghost = Client(REMOTE_ADDR="10.0.0.3"), Client(REMOTE_ADDR="10.0.0.4")
    fail_logins(real, owner.email, 5)
    fail_logins(ghost, "nobody@example.com", 5)
    answers = [
        c.post("/login/", {"username": e, "password": "x"})
        for c, e in [(real, owner.email), (ghost, "nobody@example.com")]
    ]
    assert [a.status_code for a in answers] == [429, 429]
    # Identical but for the per-response CSRF token and CSP nonce.
    per_response = r'(CSRFToken": "|nonce=")[^"]+"'
    pages = [re.sub(per_response, "", a.content.decode()) for a in answers]
    assert pages[0] == pages[1]


def test_many_failures_from_one_address_pause_it_for_every_account(owner, admin):
    client = Client(REMOTE_ADDR="10.0.0.5")
    for email in [
        "a@example.com",
        "b@example.com",
        "c@example.com",
        "d@example.com",
        "e@example.com",
    ]:
        fail_logins(client, email, 1)
    assert (
        client.post("/login/", {"username": admin.email, "password": PASSWORD}).status_code == 429
    )


def enrol(client, user) -> list[str]:
    client.get("/profile/two-factor/")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post("/profile/two-factor/", {"code": str(totp(device.bin_key)).zfill(6)})
    assert response.status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    return response.context["recovery_codes"]


def test_with_two_factor_on_the_password_alone_does_not_open_accord(
    manager_client, owner, time_machine
):
    codes = enrol(manager_client, owner)
    assert len(codes) == 10
    time_machine.move_to(timezone.now() + timedelta(minutes=1))  # a fresh code from the app

    client = Client()
    assert log_in(client, owner.email)
    response = client.get("/")
    assert response["Location"].startswith("/login/verify/")
    assert client.get("/profile/").status_code == 302

    wrong = client.post("/login/verify/", {"code": "000000"})
    assert "That code is not right" in wrong.content.decode()
    time_machine.move_to(timezone.now() + timedelta(seconds=5))  # past the failure's throttle
    device = TOTPDevice.objects.get(user=owner)
    client.post("/login/verify/", {"code": str(totp(device.bin_key)).zfill(6)})
    assert client.get("/").status_code == 200


def test_a_recovery_code_logs_in_once(manager_client, owner):
    codes = enrol(manager_client, owner)
    first = Client()
    log_in(first, owner.email)
    first.post("/login/verify/", {"code": codes[0]})
    assert first.get("/").status_code == 200

    second = Client()
    log_in(second, owner.email)
    second.post("/login/verify/", {"code": codes[0]})
    assert second.get("/").status_code == 302


def test_a_role_that_requires_two_factor_sends_its_people_to_set_it_up(manager_client):
    Role.objects.filter(slug="manager").update(require_two_factor=True)
    response = manager_client.get("/")
    assert response["Location"].startswith("/profile/two-factor/")
    page = manager_client.get("/profile/two-factor/").content.decode()
    assert "Your role requires two-factor login" in page
    assert "<svg" in page  # the QR code, drawn inline


def test_a_form_without_its_csrf_token_gets_a_clear_page_not_an_error(owner):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": owner.email, "password": PASSWORD})
    assert response.status_code == 403
    assert "Nothing was saved" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_api_stays_closed_to_a_session_that_has_not_entered_the_second_factor(
    manager_client, owner
):
    enrol(manager_client, owner)
    client = Client()
    assert log_in(client, owner.email)
    assert client.get("/api/v1/me").status_code == 401
    assert (
        client.post(
            "/api/v1/me/tokens", {"name": "sneaky"}, content_type="application/json"
        ).status_code
        == 401
    )
    from accord.accounts.models import ApiToken

    assert not ApiToken.objects.filter(name="sneaky").exists()


def test_the_api_stays_closed_until_a_forced_password_change_is_done(owner):
    from accord.accounts.models import User

    User.objects.filter(pk=owner.pk).update(must_change_password=True)
    client = Client()
    assert log_in(client, owner.email)
    assert client.get("/api/v1/me").status_code == 401


def test_a_forced_password_change_keeps_the_bell_empty_rather_than_the_page_in_it(owner):
    from accord.accounts.models import User

    User.objects.filter(pk=owner.pk).update(must_change_password=True)
    client = Client()
    assert log_in(client, owner.email)
    assert client.get("/").url.startswith("/profile/password/")
    bell = client.get("/notifications/bell/", headers={"HX-Request": "true"})
    assert (bell.status_code, bell.content) == (204, b"")
