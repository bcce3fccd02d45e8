"""The forecast kept when each quarter begins, and the report that holds it against what
the quarter won: kept once by the worker (the first tick of a quarter), the deals it
counted as they stood then, each reader seeing the deals they may see."""

import datetime
from decimal import Decimal

import time_machine
from django.utils import timezone

from accord.reports.models import ForecastEntry, ForecastSnapshot
from accord.reports.scheduler import forecast_tick
from accord.sales.services import deal_create, deal_move, deal_win
from tests.reports.test_catalog import figures

D = datetime.date


def test_the_first_tick_of_a_quarter_keeps_its_forecast_once(admin, stages):
    with time_machine.travel("2026-07-01 00:05Z"):
        inside = deal_create(actor=admin, data={
            "title": "In July", "amount": Decimal("1000"), "expected_close_date": D(2026, 7, 20),
        })  # fmt: skip
        deal_create(actor=admin, data={
            "title": "In October", "amount": Decimal("500"), "expected_close_date": D(2026, 10, 2),
        })  # fmt: skip
        deal_create(actor=admin, data={"title": "Undated", "amount": Decimal("70")})
        forecast_tick(timezone.now())
        deal_move(actor=admin, deal=inside, stage=stages["Offer"])  # after: not in it
        forecast_tick(timezone.now())  # a second tick, or a second worker: nothing new

    snapshot = ForecastSnapshot.objects.get()
    assert (snapshot.quarter, snapshot.deals) == (D(2026, 7, 1), 1)
    entry = ForecastEntry.objects.get()
    assert (entry.deal, entry.amount, entry.probability) == (inside, Decimal("1000"), 10)


def test_the_report_holds_each_quarters_forecast_against_what_it_won(admin, owner, stages):
    with time_machine.travel("2026-06-20 10:00Z"):
        big = deal_create(actor=admin, data={
            "title": "Big", "amount": Decimal("2000"), "expected_close_date": D(2026, 8, 1),
        })  # fmt: skip
        deal_move(actor=admin, deal=big, stage=stages["Offer"])  # 70 %
        small = deal_create(actor=admin, data={
            "title": "Small", "amount": Decimal("1000"), "expected_close_date": D(2026, 9, 1),
            "owner": owner,
        })  # fmt: skip
        deal_move(actor=admin, deal=small, stage=stages["Measured"])  # 40 %
    with time_machine.travel("2026-07-01 06:00Z"):
        forecast_tick(timezone.now())
    with time_machine.travel("2026-08-03 10:00Z"):
        deal_win(actor=admin, deal=big)
        surprise = deal_create(actor=admin, data={"title": "Walk-in", "amount": Decimal("300")})
        deal_win(actor=admin, deal=surprise)  # won, though nobody forecast it
    with time_machine.travel("2026-10-10 10:00Z"):
        forecast_tick(timezone.now())  # Accord ran late into October: said so
        found = figures(admin, "forecast_accuracy", D(2026, 4, 1), D(2026, 12, 31))
        mine = figures(owner, "forecast_accuracy", D(2026, 7, 1), D(2026, 9, 30))

    rows = {r["label"]: r for r in found.rows}
    assert list(rows) == ["Q2 2026", "Q3 2026", "Q4 2026 so far"]
    q3 = rows["Q3 2026"]
    assert (q3["expected"], q3["forecast"]) == (Decimal("3000"), Decimal("1800.00"))
    assert (q3["won_deals"], q3["won"]) == (2, Decimal("2300"))
    assert q3["hit"] == 127.8  # 2,300 won of 1,800 forecast
    assert rows["Q2 2026"]["forecast"] is None  # nothing was kept then
    assert any("Q2 2026" in note and "no forecast was kept" in note for note in found.notes)
    assert any("Q4 2026" in note and "9 days into the quarter" in note for note in found.notes)
    assert found.series[0]["data"][1] == 1800.0 and found.series[1]["data"][1] == 2300.0

    # The manager sees what their own deals forecast (400 of 1,000) and won (nothing).
    (q3_mine,) = mine.rows
    assert (q3_mine["forecast"], q3_mine["won"], q3_mine["hit"]) == (Decimal("400.00"), 0, 0.0)
    assert mine.total == 0.0


def test_an_instance_without_deals_shows_an_empty_report_that_says_why(admin):
    with time_machine.travel("2026-12-05 10:00Z"):
        forecast_tick(timezone.now())
        found = figures(admin, "forecast_accuracy", D(2026, 1, 1), D(2026, 12, 31))
    assert found.empty and found.total is None
    assert ForecastSnapshot.objects.get().deals == 0
    assert sum("no forecast was kept" in note for note in found.notes) == 3  # Q1–Q3
