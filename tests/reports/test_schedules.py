"""A dashboard e-mailed on a schedule: each recipient gets a PDF of their own figures in
their language, once per sending however many workers tick, and once after downtime."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from pypdf import PdfReader

from accord.accounts.models import Role
from accord.accounts.services import user_create
from accord.reports import scheduler
from accord.reports.models import Schedule, Widget
from accord.reports.services import dashboard_create, next_sending, schedule_save
from accord.sales.services import deal_create, deal_win
from tests.conftest import PASSWORD, log_in


def pdf_text(mail) -> str:
    attachment = next(p for p in mail.walk() if p.get_content_type() == "application/pdf")
    pages = PdfReader(io.BytesIO(attachment.get_payload(decode=True))).pages
    return "".join(page.extract_text() for page in pages)


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=timezone.get_default_timezone())


def test_a_schedule_falls_on_its_day_and_hour_on_the_company_clock():
    weekly = Schedule(frequency=Schedule.WEEKLY, weekday=0, hour=8)  # Mondays at 8
    assert next_sending(weekly, at("2026-12-06 09:00")) == at("2026-12-07 08:00")
    assert next_sending(weekly, at("2026-12-07 07:59")) == at("2026-12-07 08:00")
    assert next_sending(weekly, at("2026-12-07 08:00")) == at("2026-12-14 08:00")
    monthly = Schedule(frequency=Schedule.MONTHLY, day=28, hour=18)
    assert next_sending(monthly, at("2027-01-29 10:00")) == at("2027-02-28 18:00")
    daily = Schedule(frequency=Schedule.DAILY, hour=0)
    assert next_sending(daily, at("2026-12-31 23:30")) == at("2027-01-01 00:00")


def test_a_schedule_is_checked(admin, owner):
    private = dashboard_create(actor=admin, data={"name": "Mine"})
    with pytest.raises(ValidationError) as refused:
        schedule_save(actor=admin, dashboard=private, data={"user": owner, "hour": 25})
    assert set(refused.value.message_dict) == {"user", "hour"}  # not shared; no such hour
    with pytest.raises(ValidationError) as refused:
        schedule_save(actor=admin, dashboard=private, data={})
    assert "one colleague or to everyone in one role" in refused.value.message_dict["user"][0]
    assert schedule_save(actor=admin, dashboard=private, data={"user": admin}).next_at


def test_the_monday_report_reaches_each_reader_with_their_own_figures(admin, owner, smtp_server):
    owner.language = "ru"
    owner.save(update_fields=["language"])
    other = user_create(email="other@example.com", password=PASSWORD, role="manager")
    for actor, amount in ((owner, "100"), (other, "7777")):
        deal_win(
            actor=actor,
            deal=deal_create(actor=actor, data={"title": "D", "amount": Decimal(amount)}),
        )
    board = dashboard_create(
        actor=admin,
        data={"name": "Monday report", "shared": True},
        widgets=[Widget(report="sales", chart="table", period="this_month")],
    )
    schedule_save(
        actor=admin,
        dashboard=board,
        data={"role": Role.objects.get(slug="manager"), "frequency": "daily", "hour": 8},
    )
    due = Schedule.objects.get().next_at
    assert scheduler.tick(due - datetime.timedelta(minutes=1)) == 0  # not yet
    assert scheduler.tick(due) == 2 and scheduler.tick(due) == 0  # once
    mails = {m["To"]: m for m in smtp_server}
    assert set(mails) == {owner.email, other.email}
    texts = {email: pdf_text(mail) for email, mail in mails.items()}
    assert "100" in texts[owner.email] and "777" not in texts[owner.email]  # not the other's
    assert "7,777" in texts[other.email] and "100.00" not in texts[other.email]
    assert "Объём продаж" in texts[owner.email]  # in the reader's language
    assert "Monday report" in mails[owner.email]["Subject"]
    # Down for three days: one sending, and the next one falls after now.
    later = due + datetime.timedelta(days=3, hours=2)
    assert scheduler.tick(later) == 2
    assert Schedule.objects.get().next_at > later


def test_the_edit_page_adds_and_stops_a_sending(admin):
    board = dashboard_create(actor=admin, data={"name": "Weekly"})
    client = Client()
    assert log_in(client, admin.email)
    page = client.post(
        f"/reports/dashboards/{board.pk}/schedules/",
        {
            "role": Role.objects.get(slug="manager").pk,
            "frequency": "weekly",
            "weekday": 0,
            "day": 1,
            "hour": 8,
        },
    )
    assert "Share the dashboard with everyone first" in page.content.decode()
    client.post(
        f"/reports/dashboards/{board.pk}/schedules/",
        {"user": admin.pk, "frequency": "weekly", "weekday": 4, "day": 1, "hour": 17},
    )
    schedule = Schedule.objects.get()
    assert (schedule.user, schedule.weekday, schedule.hour) == (admin, 4, 17)
    assert "Every week" in client.get(f"/reports/dashboards/{board.pk}/edit/").content.decode()
    client.post(f"/reports/schedules/{schedule.pk}/delete/")
    assert not Schedule.objects.exists()
