"""Demo dashboards: the head of sales' "Monday report", shared with everyone (each reader
sees their own figures in it) and e-mailed to them each Monday, and the marketer's own
"Channels this quarter"."""

import random
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.contacts.models import Person, Segment
from accord.contacts.services import person_create, segment_save
from accord.reports import learning
from accord.reports.models import Dashboard, ForecastSnapshot, Widget
from accord.reports.periods import Period
from accord.reports.services import (
    dashboard_create,
    forecast_snapshot_record,
    quarter_of,
    schedule_save,
)
from accord.sales.models import Deal
from accord.sales.services import deal_create, deal_win

PLANS = [
    ("head@example.com", "Monday report", True, [
        ("sales", "number", "last_month", ""), ("win_rate", "number", "last_month", ""),
        ("sales_cycle", "number", "last_quarter", ""), ("tasks", "number", "this_month", ""),
        ("sales_by_manager", "bar", "last_month", ""), ("forecast", "bar", "next_3_months", ""),
        ("forecast_accuracy", "bar", "last_12_months", ""),
        ("performance", "table", "last_month", "wide"),
    ]),
    ("marketing@example.com", "Channels this quarter", False, [
        ("channels", "number", "this_quarter", ""), ("new_clients", "number", "this_quarter", ""),
        ("channels", "bar", "this_quarter", ""), ("sales_by_channel", "bar", "this_quarter", ""),
        ("sales_by_client_group", "bar", "last_12_months", ""),
        ("channels", "table", "last_12_months", "wide"),
    ]),
]  # fmt: skip


PAST_LEADS = [
    "Lena Orlova",
    "Yoav Mizrahi",
    "Karen Sargsyan",
    "Marc Muller",
    "Irina Kuznetsova",
    "Noam Friedman",
    "Ani Grigoryan",
    "Luc Weber",
    "Pavel Sokolov",
    "Tamar Azoulay",
    "Hayk Petrosyan",
    "Sophie Klein",
    "Oleg Volkov",
    "Michal Ben-David",
    "Gor Avetisyan",
]


def past_leads() -> None:
    """A year and a half of leads before the demo's clients: those who left a phone and were
    called mostly bought, those who left only an e-mail mostly did not — the history the
    lead score learns from."""
    admin = User.objects.filter(email="admin@example.com").first()
    if admin is None or Person.objects.filter(source="past lead").exists():
        return
    rng = random.Random(5)
    now = timezone.now()
    for index in range(90):
        first, last = rng.choice(PAST_LEADS).split(" ", 1)
        keen = rng.random() < 0.45
        phone = f"+3526619{index:05d}" if keen or rng.random() < 0.15 else None
        person = person_create(actor=admin, data={
            "first_name": first, "last_name": last, "source": "past lead",
            "emails": [f"lead{index}@example.org"], "phones": [phone] if phone else [],
        })  # fmt: skip
        came = now - timedelta(days=rng.uniform(45, 540))
        deal = None
        if keen and rng.random() < 0.8:
            amount = rng.choice([900, 1500, 2400])
            deal = deal_create(actor=admin, data={"title": "Windows", "person": person,
                                                  "amount": amount})  # fmt: skip
            deal = deal_win(actor=admin, deal=deal)
        _backdate(person, deal, came, came + timedelta(days=rng.uniform(5, 40)))


def _backdate(person: Person, deal: Deal | None, came, closed) -> None:
    """A past lead came, and bought, when the history says (as the sales demo does)."""
    Person.objects.filter(pk=person.pk).update(created_at=came)
    if deal is not None:
        Deal.objects.filter(pk=deal.pk).update(created_at=came, closed_at=closed)


def forecast_history() -> None:
    """The forecasts the last four quarters and this one began with, as Accord would have
    kept them: the deals open then that were to close in the quarter (most did; some
    slipped to the next), each at a stage's probability."""
    if ForecastSnapshot.objects.exists():
        return
    rng = random.Random(11)
    today = timezone.localdate()
    first, _last = quarter_of(today)
    quarters = [first]
    for _n in range(4):
        quarters.insert(0, quarter_of(quarters[0] - timedelta(days=1))[0])
    for start in quarters:
        end = quarter_of(start)[1]
        began = Period(start, end)
        # The demo's history is made of short deals: those the quarter closed stand for
        # what its pipeline held when it began.
        deals = Deal.objects.filter(created_at__lt=began.end).exclude(closed_at__lt=began.start)
        entries = []
        for deal in deals.order_by("pk"):
            closes_in = deal.closed_at is not None and deal.closed_at < began.end
            if deal.status == Deal.OPEN:
                closes_in = deal.expected_close_date is not None and (
                    start <= deal.expected_close_date <= end
                )
            if not closes_in and rng.random() > 0.3:  # expected then, slipped since
                continue
            stage_probability = rng.choice([20, 40, 60, 80])
            entries.append({"deal_id": deal.pk, "amount": deal.amount, "currency": deal.currency,
                            "probability": stage_probability, "learned": None})  # fmt: skip
        forecast_snapshot_record(quarter=start, taken_at=began.start, entries=entries)


def client_groups() -> None:
    """The company's groups of clients, as segments shared with everyone (the clients
    carry these tags): sales per group on the marketing dashboard."""
    admin = User.objects.filter(role__slug="administrator", is_active=True).first()
    if admin is None or Segment.objects.filter(shared=True, filters__has_key="tag").exists():
        return
    for name, tag in ((_("VIP clients"), "vip"), (_("Wholesale buyers"), "wholesale"),
                      (_("Regular clients"), "repeat")):  # fmt: skip
        segment_save(actor=admin, name=name, record_type="person", filters={"tag": tag},
                     shared=True)  # fmt: skip


def populate() -> None:
    past_leads()
    forecast_history()
    client_groups()
    learning.train()  # the win probability, from the demo's two years of deals
    learning.train_leads()  # and the lead score, from its leads
    if Dashboard.objects.exists():
        return
    for email, name, shared, widgets in PLANS:
        owner = User.objects.filter(email=email, is_active=True).first()
        if owner is None:
            continue
        dashboard = dashboard_create(
            actor=owner,
            data={"name": name, "shared": shared},
            widgets=[
                Widget(report=report, chart=chart, period=period, wide=bool(wide))
                for report, chart, period, wide in widgets
            ],
        )
        if shared:  # the head of sales gets it every Monday at 8
            weekly = {"user": owner, "frequency": "weekly", "weekday": 0, "hour": 8}
            schedule_save(actor=owner, dashboard=dashboard, data=weekly)
