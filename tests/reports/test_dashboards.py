"""Dashboards: the one each role starts with, those a user builds (checked, theirs alone to
change, shared with the reader's own figures), a report's page and files, the PDF."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from openpyxl import load_workbook
from pypdf import PdfReader

from accord.accounts.services import token_create, user_create
from accord.reports.models import Dashboard, Widget
from accord.reports.queries import role_kind, starter
from accord.reports.services import dashboard_create, widget_move, widget_save
from accord.sales.services import deal_create, deal_win, pipeline_create
from tests.conftest import PASSWORD, ApiClient, log_in


@pytest.fixture
def marketer(db):
    return user_create(email="mark@example.com", password=PASSWORD, role="marketing")


def client_of(user) -> Client:
    client = Client()
    assert log_in(client, user.email)
    return client


def test_each_role_starts_with_a_dashboard_of_its_own(admin, owner, marketer):
    head = user_create(email="h@example.com", password=PASSWORD, role="head-of-sales")
    assert [role_kind(u) for u in (admin, head, owner, marketer)] == [
        "admin",
        "head",
        "manager",
        "marketing",
    ]
    _name, widgets = starter(owner)
    assert {w.member for w in widgets} == {owner}  # a manager's figures are their own
    assert {w.report for w in starter(marketer)[1]} >= {"channels", "new_clients"}
    assert "income" not in {w.report for w in starter(head)[1]}  # money is the admin's
    for user in (admin, head, owner, marketer):
        page = client_of(user).get("/reports/")
        assert page.status_code == 200, user
        assert page.content.decode().count('data-testid="widget"') == len(starter(user)[1])


def test_a_widget_is_checked_and_only_its_owner_changes_a_dashboard(admin, owner, marketer):
    theirs = dashboard_create(actor=marketer, data={"name": "Leads"})
    with pytest.raises(ValidationError) as refused:  # marketing reads no money
        widget_save(dashboard=theirs, actor=marketer, data={"report": "income"})
    assert "report" in refused.value.message_dict
    board = dashboard_create(actor=owner, data={"name": "Mine", "shared": True})
    with pytest.raises(ValidationError) as refused:
        widget_save(
            dashboard=board,
            actor=owner,
            data={"report": "sales", "chart": "funnel", "period": "forever", "member": admin.pk},
        )
    assert set(refused.value.message_dict) == {"chart", "period", "member"}
    first = widget_save(dashboard=board, actor=owner, data={"report": "sales", "chart": "number"})
    second = widget_save(dashboard=board, actor=owner, data={"report": "tasks"})
    assert (second.chart, second.period) == ("bar", "last_90")  # the report's usual way
    widget_move(widget=second, actor=owner, by=-1)
    assert list(board.widgets.values_list("pk", flat=True)) == [second.pk, first.pk]
    third = widget_save(dashboard=board, actor=owner, data={"report": "activity"})
    owner_client = client_of(owner)
    dropped = owner_client.post(f"/reports/widgets/{third.pk}/move/", {"to": "0"})
    assert dropped.status_code == 204  # a drag and drop: no page
    assert list(board.widgets.values_list("pk", flat=True)) == [third.pk, second.pk, first.pk]
    owner_client.post(f"/reports/widgets/{third.pk}/move/", {"to": "99"})  # past the end: last
    assert list(board.widgets.values_list("pk", flat=True)) == [second.pk, first.pk, third.pk]
    bad = owner_client.post(f"/reports/widgets/{third.pk}/move/", {"to": "-1"})
    assert bad.status_code == 400 and "whole number" in bad.content.decode()
    moved = client_of(admin).post(f"/reports/widgets/{third.pk}/move/", {"to": "0"})
    assert moved.status_code == 404  # another's dashboard
    assert list(board.widgets.values_list("pk", flat=True)) == [second.pk, first.pk, third.pk]
    with pytest.raises(PermissionDenied):
        widget_save(dashboard=board, actor=admin, data={"report": "sales"})
    with pytest.raises(ValidationError):
        dashboard_create(actor=owner, data={"name": " "})
    # Shared: the administrator opens it, cannot change it, and may copy it.
    admin_client = client_of(admin)
    assert admin_client.get(f"/reports/dashboards/{board.pk}/").status_code == 200
    assert admin_client.get(f"/reports/dashboards/{board.pk}/edit/").status_code == 404
    assert admin_client.post(f"/reports/widgets/{first.pk}/delete/").status_code == 404
    copied = admin_client.post("/reports/dashboards/new/", {"from": board.pk, "name": "Copy"})
    copy = Dashboard.objects.get(owner=admin, name="Copy")
    assert copied.url == f"/reports/dashboards/{copy.pk}/edit/"
    assert list(copy.widgets.values_list("report", flat=True)) == ["tasks", "sales", "activity"]
    Dashboard.objects.filter(pk=board.pk).update(shared=False)
    assert admin_client.get(f"/reports/dashboards/{board.pk}/").status_code == 404


def test_a_shared_dashboard_shows_each_reader_their_own_figures(admin, owner):
    for actor, amount in ((owner, "100"), (admin, "900")):
        deal_win(
            actor=actor,
            deal=deal_create(actor=actor, data={"title": "D", "amount": Decimal(amount)}),
        )
    board = dashboard_create(actor=admin, data={"name": "Sales", "shared": True})
    widget_save(
        dashboard=board,
        actor=admin,
        data={"report": "sales", "chart": "table", "period": "this_month"},
    )
    mine = client_of(owner).get(f"/reports/dashboards/{board.pk}/").content.decode()
    theirs = client_of(admin).get(f"/reports/dashboards/{board.pk}/").content.decode()
    assert "100.00" in mine and "1,000.00" not in mine
    assert "1,000.00" in theirs


def test_building_a_dashboard_in_the_pages(admin):
    client = client_of(admin)
    made = client.post("/reports/dashboards/new/", {"from": "starter", "name": "Monday"})
    board = Dashboard.objects.get(name="Monday")
    assert made.url == f"/reports/dashboards/{board.pk}/edit/"
    assert board.widgets.count() == len(starter(admin)[1])
    page = client.post(
        f"/reports/dashboards/{board.pk}/widgets/new/",
        {"report": "win_rate", "chart": "bar", "period": "last_90"},
    )
    assert "This report cannot be shown that way." in page.content.decode()
    client.post(
        f"/reports/dashboards/{board.pk}/widgets/new/",
        {"report": "win_rate", "chart": "line", "period": "last_90", "title": "Rate"},
    )
    assert board.widgets.filter(title="Rate", chart="line").exists()
    stale = client.post(
        f"/reports/dashboards/{board.pk}/edit/",
        {"name": "Monday report", "version": board.version - 1 or 99},
    )
    assert "changed this dashboard meanwhile" in stale.content.decode()
    client.post(
        f"/reports/dashboards/{board.pk}/edit/",
        {
            "name": "Monday report",
            "shared": "on",
            "version": Dashboard.objects.get(pk=board.pk).version,
        },
    )
    board.refresh_from_db()
    assert (board.name, board.shared) == ("Monday report", True)
    client.post(f"/reports/dashboards/{board.pk}/delete/")
    assert not Dashboard.objects.filter(pk=board.pk).exists()
    assert not Widget.objects.filter(dashboard_id=board.pk).exists()


def test_bad_filters_are_named_and_nothing_breaks(admin):
    client = client_of(admin)
    for query in (
        "period=custom&since=2026-05-01&until=2026-01-01",
        "period=eternity",
        "since=garbage",
        "pipeline=x&team=-1&member=999999",
        "since=2020-01-01&until=2026-01-01",
    ):
        page = client.get(f"/reports/?{query}")
        assert page.status_code == 200, query
        assert 'class="field-error"' in page.content.decode(), query
    assert (
        client.get("/reports/r/sales/?period=custom&since=2026-01-01&until=2026-03-31").status_code
        == 200
    )
    assert client.get("/reports/r/nothing/").status_code == 404
    assert client.get("/reports/r/sales/file.pdf").status_code == 404


def test_a_report_downloads_as_csv_and_xlsx_with_formulas_made_plain(admin):
    pipeline = pipeline_create(
        actor=admin,
        name="=HYPERLINK(1)",
        stages=[{"name": "New"}, {"name": "Won", "kind": "won"}, {"name": "Lost", "kind": "lost"}],
    )
    deal = deal_create(
        actor=admin, data={"title": "D", "amount": Decimal("1234.50"), "pipeline": pipeline}
    )
    deal_win(actor=admin, deal=deal)
    client = client_of(admin)
    text = client.get("/reports/r/sales_by_pipeline/file.csv?period=this_month").content.decode(
        "utf-8-sig"
    )
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "Name" and rows[0][2].startswith("Revenue (")
    assert rows[1] == ["'=HYPERLINK(1)", "1", "1234.5"]
    book = load_workbook(
        io.BytesIO(client.get("/reports/r/sales_by_pipeline/file.xlsx?period=this_month").content)
    )
    sheet = book.active
    assert [c.value for c in sheet[2]] == ["'=HYPERLINK(1)", 1, 1234.5]


def test_a_dashboard_prints_as_a_pdf(admin):
    response = client_of(admin).get("/reports/pdf/")
    assert response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    for title in ("Sales volume", "Win rate", "Forecast", "Team performance"):
        assert title in text
    assert "Ada Admin" in text  # whose figures they are


def test_the_api_answers_a_reports_figures_within_the_callers_access(api, owner, marketer):
    deal_win(
        actor=owner, deal=deal_create(actor=owner, data={"title": "D", "amount": Decimal("75")})
    )
    keys = {r["key"] for r in api.get("/api/v1/reports").json()}
    assert {"sales", "forecast", "tasks"} <= keys
    answer = api.get("/api/v1/reports/sales?period=this_month").json()
    assert answer["total"] == 75.0 and answer["columns"][0]["key"] == "label"
    assert sum(row["deals"] for row in answer["rows"]) == 1
    wrong = api.get("/api/v1/reports/sales?from=2026-05-01&to=2026-01-01")
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "to"
    _token, secret = token_create(user=marketer, name="reports")
    assert ApiClient(secret).get("/api/v1/reports/income").status_code == 404


def test_an_empty_report_says_what_would_fill_it(admin):
    # A new company: no segment yet, so the client-group report says how to make one
    # instead of only "choose a longer period".
    page = client_of(admin).get("/reports/r/sales_by_client_group/").content.decode()
    assert "Nothing in this period yet" in page
    assert "Save a filter on Clients as a segment" in page
    assert "Choose a longer period" not in page
    plain = client_of(admin).get("/reports/r/sales_by_pipeline/").content.decode()
    assert "Choose a longer period" in plain
