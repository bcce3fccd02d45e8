"""Login, logout, the home screen and the health check, through the Django test client."""

import re
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


def test_a_poll_after_the_session_ended_leaves_the_page_where_it_is(client, db):
    """The bell and the Inbox badge ask by themselves: a logged-out answer must not pull
    the page away from under someone typing (their next click goes to the login)."""
    for path in ("/notifications/bell/", "/inbox/badge/"):
        response = client.get(path, headers={"HX-Request": "true", "X-Accord-Background": "true"})
        assert response.status_code == 204 and "HX-Redirect" not in response


def test_a_screen_reader_hears_each_fields_help_and_error_with_it(admin_client):
    """Django's inputs name their help and error by id (aria-describedby); the field
    template must carry those ids, or the reader says nothing."""
    page = admin_client.post("/settings/email/new/", {"name": "", "address": "not an address"})
    html = page.content.decode()
    described = re.findall(r'aria-describedby="([^"]+)"', html)
    assert any(ref.endswith("_error") for refs in described for ref in refs.split())
    assert any(ref.endswith("_helptext") for refs in described for ref in refs.split())
    ids = set(re.findall(r'\bid="([^"]+)"', html))
    missing = {ref for refs in described for ref in refs.split()} - ids
    assert missing == set()
    assert "{#" not in html and "#}" not in html  # the template's own notes stay unseen


def test_no_template_note_spans_lines_where_the_page_would_show_it():
    """Django's `{# … #}` ends on its own line: one spread over two is printed on the page
    (the field template's was, over every form)."""
    from pathlib import Path

    import accord

    root = Path(accord.__file__).parent
    spread = [
        f"{path.relative_to(root)}:{number}"
        for path in root.rglob("templates/**/*.html")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if line.count("{#") > line.count("#}")
    ]
    assert spread == []
