"""Login, logout, the home screen and the health check, through the Django test client."""

from datetime import timedelta

from django.utils import timezone

from accord.core.services import heartbeat_beat
from tests.conftest import PASSWORD


def test_the_home_screen_asks_an_anonymous_visitor_to_log_in(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_logging_in_by_e_mail_opens_the_home_screen(client, owner):
    response = client.post("/login/", {"username": "OLIVIA@example.com", "password": PASSWORD},
                           follow=True)  # fmt: skip
    assert response.status_code == 200
    page = response.content.decode()
    assert "Olivia Owner" in page
    assert 'aria-current="page"' in page


def test_a_wrong_password_keeps_the_e_mail_and_explains(client, owner):
    response = client.post("/login/", {"username": owner.email, "password": "wrong"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "do not match an account" in page
    assert f'value="{owner.email}"' in page


def test_logging_out_ends_the_session_on_the_server(client, owner):
    client.force_login(owner)
    session_key = client.session.session_key
    client.post("/logout/")
    from django.contrib.sessions.models import Session

    assert not Session.objects.filter(session_key=session_key).exists()
    assert client.get("/").status_code == 302


def test_pages_carry_a_content_security_policy_without_inline_script(client, owner):
    client.force_login(owner)
    policy = client.get("/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]


def test_health_reports_the_database_and_the_workers_heartbeat(client, db):
    body = client.get("/healthz").json()
    assert body["database"] == "ok"
    assert body["worker_heartbeat_age_seconds"] is None  # no worker has reported yet

    heartbeat_beat(worker_id="w1", backend="db", started_at=timezone.now() - timedelta(hours=1))
    body = client.get("/healthz").json()
    assert 0 <= body["worker_heartbeat_age_seconds"] < 60


def test_an_htmx_request_after_the_session_expired_sends_the_browser_to_log_in(client, owner):
    client.force_login(owner)
    client.session.flush()
    client.cookies.clear()
    response = client.get("/search/?q=ol", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/login/?next=")
