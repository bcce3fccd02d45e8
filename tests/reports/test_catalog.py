"""The reports' figures, from real deals, tasks and expenses: what each counts over a
period, whose (the reader's visibility, a team, one colleague), and what it leaves out."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from accord.accounts.services import team_save, user_create
from accord.billing.models import ExpenseCategory
from accord.billing.services import expense_save
from accord.contacts.models import Segment
from accord.contacts.services import person_create, segment_save
from accord.core.company import default_currency
from accord.marketing.models import Channel, Touch
from accord.marketing.services import campaign_save
from accord.reports.catalog import REPORTS
from accord.reports.models import Widget
from accord.reports.periods import Period
from accord.reports.queries import scope_for, shown
from accord.sales.models import Deal
from accord.sales.services import deal_create, deal_lose, deal_move, deal_win
from tests.conftest import PASSWORD

D = datetime.date


def won_on(actor, day: str, amount: str, *, owner=None, currency=None, **data) -> Deal:
    with time_machine.travel(f"{day} 10:00Z"):
        deal = deal_create(
            actor=actor,
            data={
                "title": f"Deal {amount}",
                "amount": Decimal(amount),
                "owner": owner or actor,
                "currency": currency or default_currency(),
                **data,
            },
        )
    with time_machine.travel(f"{day} 12:00Z"):
        return deal_win(actor=actor, deal=deal)


def figures(user, key: str, since: D, until: D, **filters):
    return REPORTS[key].compute(scope_for(user, period=Period(since, until), **filters))


@pytest.fixture
def seller(admin):
    return user_create(email="sam@example.com", password=PASSWORD, role="manager", full_name="Sam")


def test_sales_volume_counts_wins_per_month_in_the_company_currency(admin, owner, stages):
    won_on(owner, "2026-01-10", "1000")
    won_on(owner, "2026-01-20", "500")
    won_on(owner, "2026-03-05", "2000")
    won_on(owner, "2026-03-06", "700", currency="USD" if default_currency() != "USD" else "EUR")
    won_on(owner, "2025-12-31", "9999")  # before the period
    found = figures(admin, "sales", D(2026, 1, 1), D(2026, 5, 31))  # by month
    assert [(r["deals"], r["revenue"]) for r in found.rows] == [
        (2, Decimal("1500")),
        (0, 0),
        (1, Decimal("2000")),
        (0, 0),
        (0, 0),
    ]
    assert found.total == Decimal("3500") and found.total_kind == "money"
    assert found.series[0]["data"] == [1500.0, 0.0, 2000.0, 0.0, 0.0]
    assert len(found.notes) == 1 and "700" in found.notes[0]  # the other currency, named


def test_a_manager_sees_their_own_sales_and_a_head_picks_a_team_or_one_colleague(
    admin, owner, seller, stages
):
    won_on(owner, "2026-02-01", "100")
    won_on(seller, "2026-02-02", "40")
    period = (D(2026, 2, 1), D(2026, 2, 28))
    assert figures(owner, "sales", *period).total == Decimal("100")  # own deals only
    assert figures(admin, "sales", *period).total == Decimal("140")
    assert figures(admin, "sales", *period, member=seller).total == Decimal("40")
    team = team_save(actor=admin, name="North", head=None, members=[seller])
    assert figures(admin, "sales", *period, team=team).total == Decimal("40")
    by_manager = figures(admin, "sales_by_manager", *period)
    assert [(r["label"], r["revenue"]) for r in by_manager.rows] == [
        ("Olivia Owner", Decimal("100")),
        ("Sam", Decimal("40")),
    ]


def test_the_forecast_weights_open_deals_by_their_stage_per_expected_month(admin, stages):
    with time_machine.travel("2026-05-10 09:00Z"):
        early = deal_create(
            actor=admin,
            data={"title": "A", "amount": Decimal("1000"), "expected_close_date": D(2026, 5, 20)},
        )
        later = deal_create(
            actor=admin,
            data={"title": "B", "amount": Decimal("2000"), "expected_close_date": D(2026, 7, 1)},
        )
        deal_move(actor=admin, deal=later, stage=stages["Offer"])  # 70 %
        deal_create(actor=admin, data={"title": "C", "amount": Decimal("300")})  # no date
        late = deal_create(
            actor=admin,
            data={"title": "D", "amount": Decimal("50"), "expected_close_date": D(2026, 4, 1)},
        )
        won_on(admin, "2026-05-10", "5000", expected_close_date=D(2026, 5, 30))  # not open
        ahead = Period.named("next_3_months")
        found = figures(admin, "forecast", ahead.since, ahead.until)
    del early, late
    rows = {r["label"]: (r["deals"], r["expected"], r["weighted"]) for r in found.rows}
    assert rows["Overdue"] == (1, Decimal("50.00"), Decimal("5.00"))
    assert rows["May 2026"] == (1, Decimal("1000.00"), Decimal("100.00"))
    assert rows["June 2026"] == (0, Decimal("0.00"), Decimal("0.00"))
    assert rows["July 2026"] == (1, Decimal("2000.00"), Decimal("1400.00"))
    assert rows["No date"] == (1, Decimal("300.00"), Decimal("30.00"))
    assert found.total == Decimal("1535.00")


def test_win_rate_and_sales_cycle(admin, stages, too_expensive):
    with time_machine.travel("2026-03-01 10:00Z"):
        slow = deal_create(actor=admin, data={"title": "Slow", "amount": 1})
        gone = deal_create(actor=admin, data={"title": "Gone", "amount": 1})
    with time_machine.travel("2026-03-11 10:00Z"):
        deal_win(actor=admin, deal=slow)  # 10 days
        deal_lose(actor=admin, deal=gone, reason=too_expensive)
    won_on(admin, "2026-03-20", "1")  # the same day: 0.1 days
    period = (D(2026, 3, 1), D(2026, 3, 31))
    assert figures(admin, "win_rate", *period).total == pytest.approx(66.7)
    cycle = figures(admin, "sales_cycle", *period)
    assert cycle.total == pytest.approx(5.0, abs=0.1)  # the median of 10 and 0.08 days
    assert figures(admin, "win_rate", D(2026, 4, 1), D(2026, 4, 30)).total is None


def test_channels_show_leads_cost_and_sales_and_flag_the_one_that_only_spends(admin, stages):
    social, ads = Channel.objects.get(code="social"), Channel.objects.get(code="ads")
    spring = campaign_save(
        actor=admin, data={"name": "Spring", "channel": ads, "currency": default_currency()}
    )
    insta = campaign_save(
        actor=admin, data={"name": "Insta", "channel": social, "currency": default_currency()}
    )
    category = ExpenseCategory.objects.first()
    for campaign, amount in ((spring, "300"), (insta, "100")):
        expense_save(
            actor=admin,
            data={
                "amount": amount,
                "currency": default_currency(),
                "spent_on": D(2026, 4, 2),
                "category": category,
                "campaign": campaign,
                "description": "Ads",
            },
        )
    moment = timezone.make_aware(datetime.datetime(2026, 4, 3, 12))
    sold = won_on(admin, "2026-04-05", "1000")
    for channel, deal in ((social, None), (social, sold), (ads, None), (ads, None)):
        Touch.objects.create(
            kind=Touch.FIRST if deal is None else Touch.LAST, channel=channel, deal=deal, at=moment
        )
    found = figures(admin, "channels", D(2026, 4, 1), D(2026, 4, 30))
    rows = {r["label"]: r for r in found.rows}
    assert (rows["Online ads"]["leads"], rows["Online ads"]["spent"]) == (2, Decimal("300.00"))
    assert rows["Online ads"]["per_lead"] == Decimal("150.00") and rows["Online ads"]["flag"]
    assert rows["Social networks"]["won"] == 1 and not rows["Social networks"]["flag"]
    assert rows["Social networks"]["return"] == Decimal("900")  # (1000 − 100) ÷ 100
    assert found.flagged == 1
    by_channel = figures(admin, "sales_by_channel", D(2026, 4, 1), D(2026, 4, 30))
    assert [(r["label"], r["revenue"]) for r in by_channel.rows] == [
        ("Social networks", Decimal("1000"))
    ]


def test_a_leads_later_deal_keeps_its_channel_and_the_rest_is_not_known(admin, stages):
    ads, social = Channel.objects.get(code="ads"), Channel.objects.get(code="social")
    vera = person_create(actor=admin, data={"first_name": "Vera"})
    january = timezone.make_aware(datetime.datetime(2026, 1, 3, 12))
    Touch.objects.create(person=vera, kind=Touch.FIRST, channel=ads, at=january)
    won_on(admin, "2026-04-05", "700", person=vera)  # months after her first visit
    by_form = won_on(admin, "2026-04-06", "500")
    Touch.objects.create(deal=by_form, kind=Touch.LAST, channel=social, at=january)
    won_on(admin, "2026-04-07", "300")  # nobody knows how this client came
    found = figures(admin, "sales_by_channel", D(2026, 4, 1), D(2026, 4, 30))
    assert [(r["label"], r["deals"], r["revenue"]) for r in found.rows] == [
        ("Online ads", 1, Decimal("700")),
        ("Social networks", 1, Decimal("500")),
        ("Not known", 1, Decimal("300")),
    ]
    assert found.total == Decimal("1500")
    channels = {
        r["label"]: r for r in figures(admin, "channels", D(2026, 4, 1), D(2026, 4, 30)).rows
    }
    assert (channels["Online ads"]["won"], channels["Online ads"]["revenue"]) == (1, Decimal("700"))


def test_a_number_compares_with_the_period_before_and_knows_when_less_is_better(admin, stages):
    won_on(admin, "2026-01-15", "100")
    won_on(admin, "2026-02-15", "150")
    with time_machine.travel("2026-02-20 10:00Z"):
        item = shown(admin, Widget(report="sales", chart="number", period="this_month"))
    assert item.period == Period(D(2026, 2, 1), D(2026, 2, 20))  # so far this month
    assert (item.figures.total, item.previous, item.change, item.good) == (
        Decimal("150"),
        Decimal("100"),
        50.0,
        True,
    )
    with time_machine.travel("2026-02-20 10:00Z"):
        tasks = shown(admin, Widget(report="tasks", chart="number", period="this_month"))
    assert tasks.report.lower_better


def test_periods_name_their_days_and_the_one_before():
    today = D(2026, 12, 6)
    assert Period.named("this_quarter", today) == Period(D(2026, 10, 1), D(2026, 12, 31))
    assert Period.named("last_quarter", today) == Period(D(2026, 7, 1), D(2026, 9, 30))
    assert Period.named("last_month", D(2026, 1, 15)) == Period(D(2025, 12, 1), D(2025, 12, 31))
    assert Period.named("next_6_months", today) == Period(D(2026, 12, 1), D(2027, 5, 31))
    assert Period(D(2026, 3, 1), D(2026, 3, 31)).previous() == Period(D(2026, 2, 1), D(2026, 2, 28))
    assert Period(D(2026, 12, 1), D(2026, 12, 6)).previous() == Period(
        D(2026, 11, 1), D(2026, 11, 6)
    )
    assert Period(D(2026, 1, 1), D(2026, 1, 10)).step == "day"
    assert Period(D(2026, 1, 1), D(2026, 3, 31)).step == "week"
    assert len(Period(D(2026, 1, 1), D(2026, 12, 31)).buckets()) == 12


def test_sales_by_client_group_counts_each_segment_and_the_clients_in_none(admin, owner, stages):
    vip = person_create(actor=owner, data={"first_name": "Vera", "tags": ["VIP"]})
    both = person_create(actor=owner, data={"first_name": "Boris", "tags": ["VIP", "Wholesale"],
                                            "owner": owner})  # fmt: skip
    plain = person_create(actor=owner, data={"first_name": "Pavel"})
    empty = figures(admin, "sales_by_client_group", D(2026, 2, 1), D(2026, 2, 28))
    assert empty.rows == [] and "segment" in empty.notes[-1]  # a new company: how to start
    won_on(owner, "2026-02-03", "100", person=vip)
    won_on(owner, "2026-02-04", "40", person=both)
    won_on(owner, "2026-02-05", "7", person=plain)
    won_on(owner, "2026-01-05", "999", person=vip)  # before the period
    found = figures(admin, "sales_by_client_group", D(2026, 2, 1), D(2026, 2, 28))
    assert found.rows == [{"label": "In no segment", "deals": 3, "revenue": Decimal("147")}]
    segment_save(actor=admin, name="VIP", record_type="person", filters={"tag": "vip"},
                 shared=True)  # fmt: skip
    segment_save(actor=admin, name="Wholesale", record_type="person",
                 filters={"tag": "wholesale"}, shared=True)  # fmt: skip
    segment_save(actor=admin, name="Admin's own", record_type="person",
                 filters={"tag": "nobody"})  # fmt: skip
    found = figures(admin, "sales_by_client_group", D(2026, 2, 1), D(2026, 2, 28))
    assert [(r["label"], r["deals"], r["revenue"]) for r in found.rows] == [
        ("VIP", 2, Decimal("140")),
        ("Wholesale", 1, Decimal("40")),
        ("In no segment", 1, Decimal("7")),
        ("Admin's own", 0, Decimal("0")),
    ]
    assert found.total == Decimal("147")  # each deal once
    assert "counts in both" in found.notes[-1]
    mine = figures(owner, "sales_by_client_group", D(2026, 2, 1), D(2026, 2, 28))
    assert "Admin's own" not in [r["label"] for r in mine.rows]  # another's own segment
    Segment.objects.create(
        name="Gone field",
        record_type="person",
        owner=admin,
        shared=True,
        filters={"cf.retired_since": "x"},
    )  # its field retired since
    found = figures(admin, "sales_by_client_group", D(2026, 2, 1), D(2026, 2, 28))
    assert "Gone field" not in [r["label"] for r in found.rows] and found.total == Decimal("147")
    assert any("Gone field" in note and "left out" in note for note in found.notes)
