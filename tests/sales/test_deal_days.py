"""The closed deals' daily rollups: every way a deal changes — won, lost, reopened, its
amount (by hand or by its line items), owner or pipeline changed once closed — leaves
them equal to the deals counted one by one, and a rebuild agrees."""

from decimal import Decimal

import time_machine
from django.db.models import Count, Sum

from accord.accounts.services import user_create
from accord.core.company import company_date
from accord.sales.models import Deal, DealDay
from accord.sales.services import deal_create, deal_lose, deal_move, deal_update, deal_win
from accord.sales.services.deal_days import deal_days_rebuild
from accord.sales.services.lines import line_item_save
from tests.conftest import PASSWORD


def counted() -> dict:
    rows = DealDay.objects.values("day", "owner", "pipeline", "currency", "status")
    return {
        tuple(r[k] for k in ("day", "owner", "pipeline", "currency", "status")): (r["n"], r["a"])
        for r in rows.annotate(n=Sum("count"), a=Sum("amount")).order_by()
        if r["n"]
    }


def direct() -> dict:
    found: dict = {}
    closed = Deal.objects.filter(status__in=(Deal.WON, Deal.LOST))
    for deal in closed:
        key = (company_date(deal.closed_at), deal.owner_id, deal.pipeline_id, deal.currency,
               deal.status)  # fmt: skip
        n, total = found.get(key, (0, Decimal(0)))
        found[key] = (n + 1, total + deal.amount)
    return found


def test_every_change_of_a_closed_deal_keeps_the_rollups_true(admin, owner, stages, too_expensive):
    other = user_create(email="sam@example.com", password=PASSWORD, role="manager")
    with time_machine.travel("2026-03-02 10:00Z"):
        won = deal_create(actor=admin, data={"title": "A", "amount": Decimal("1000")})
        deal_win(actor=admin, deal=won)
        lost = deal_create(actor=admin, data={"title": "B", "amount": Decimal("300")})
        deal_lose(actor=admin, deal=lost, reason=too_expensive)
        reopened = deal_create(actor=admin, data={"title": "C", "amount": Decimal("50")})
        deal_win(actor=admin, deal=reopened)
    assert counted() == direct() and sum(n for n, _a in counted().values()) == 3

    with time_machine.travel("2026-03-05 10:00Z"):
        deal_move(actor=admin, deal=reopened, stage=stages["Offer"])  # open again: not counted
        deal_update(actor=admin, deal=won, data={"amount": Decimal("1200"), "owner": other})
        line_item_save(actor=admin, deal=lost, data={"name": "Window", "unit_price": "400"})
        deal_win(actor=admin, deal=Deal.objects.get(pk=reopened.pk))  # won on another day
    assert counted() == direct()
    assert Deal.objects.get(pk=lost.pk).amount == Decimal("400.00")
    assert sum(n for n, _a in counted().values()) == 3
    assert (DealDay.objects.filter(owner=other).aggregate(a=Sum("amount"))["a"]
            == Decimal("1200"))  # fmt: skip

    saved = counted()
    assert deal_days_rebuild() >= 3
    assert counted() == saved
    assert not DealDay.objects.filter(count__lt=0).exists()
    assert Deal.objects.values("status").annotate(n=Count("id")).count() >= 2
