"""The navigation: the sidebar holds every entry the user may use; a phone's bottom bar at
most five places, the fifth being "More" with the rest when there are more than five."""

import re

from django.test import Client

from accord.accounts.services import user_create
from tests.conftest import PASSWORD, log_in


def bottom_bar(page: str) -> tuple[list[str], list[str], list[str]]:
    """What a phone shows: the addresses on the bar, those hidden there, those under More."""
    entries = re.findall(r'<li( class="nav-extra")?><a href="([^"]+)" class="nav-link', page)
    on_bar = [url for extra, url in entries if not extra]
    hidden = [url for extra, url in entries if extra]
    under_more = re.findall(r'nav-more-link[^"]*" role="menuitem" href="([^"]+)"', page)
    return on_bar, hidden, under_more


def test_an_administrator_sees_four_places_and_more_with_the_rest(admin_client):
    page = admin_client.get("/").content.decode()
    on_bar, hidden, under_more = bottom_bar(page)
    assert on_bar == ["/", "/clients/", "/deals/", "/tasks/"]
    assert hidden == under_more == ["/inbox/", "/calendar/", "/reports/", "/settings/"]
    assert 'class="menu nav-more"' in page


def test_more_is_marked_current_on_a_page_under_it(admin_client):
    page = admin_client.get("/reports/").content.decode()
    summary = re.search(r'<summary class="([^"]*)">\s*<svg[^>]*>.*?#ellipsis', page, re.S)
    assert summary and "is-active" in summary.group(1)
    assert re.search(r'nav-more-link is-active" role="menuitem" href="/reports/"', page)


def test_a_user_with_six_entries_has_four_on_the_bar_and_two_under_more(db):
    user_create(email="sam@example.com", password=PASSWORD, role="support", full_name="Sam")
    client = Client()
    assert log_in(client, "sam@example.com")
    page = client.get("/").content.decode()
    on_bar, hidden, under_more = bottom_bar(page)
    assert on_bar == ["/", "/clients/", "/deals/", "/tasks/"]
    assert hidden == under_more == ["/inbox/", "/calendar/"]


def test_a_user_with_few_entries_has_them_all_on_the_bar_and_no_more(db, admin):
    from accord.accounts.models import Role
    from accord.accounts.services import role_save
    from accord.core.visibility import RECORD_TYPES

    access = {kind: {"read": "all", "write": "all"} for kind in RECORD_TYPES}
    for kind in ("tasks", "reports", "settings"):
        access[kind] = {"read": "none", "write": "none"}
    role_save(actor=admin, name="Desk", access=access, capabilities=[])
    user_create(email="dee@example.com", password=PASSWORD, role=Role.objects.get(name="Desk").slug)
    client = Client()
    assert log_in(client, "dee@example.com")
    page = client.get("/").content.decode()
    on_bar, hidden, under_more = bottom_bar(page)
    assert on_bar == ["/", "/clients/", "/deals/", "/inbox/"]
    assert hidden == under_more == []
    assert "nav-more" not in page


def test_a_head_of_sales_reaches_automation_from_the_navigation(db):
    user_create(email="hugo@example.com", password=PASSWORD, role="head-of-sales")
    client = Client()
    log_in(client, "hugo@example.com")
    page = client.get("/").content.decode()
    assert 'href="/settings/"' in page
    opened = client.get("/settings/", follow=True)
    assert opened.redirect_chain[-1][0] == "/settings/automation/"
    tabs = opened.content.decode()
    assert "/settings/users/" not in tabs and "/settings/pipelines/" not in tabs
