"""Deals through their services: create, move, win, lose, line items, the funnel."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accord.accounts.services import user_create
from accord.catalog.models import Product
from accord.contacts.services import person_create
from accord.core.errors import StaleVersion
from accord.core.models import OutboxEvent
from accord.core.timeline import timeline_of
from accord.sales.models import StageMove
from accord.sales.queries import board, funnel, win_rate
from accord.sales.services import (
    deal_create,
    deal_lose,
    deal_move,
    deal_win,
    line_item_save,
    pipeline_create,
    product_save,
    stage_retire,
)
from tests.conftest import PASSWORD


def test_a_new_deal_starts_in_the_first_stage_owned_by_its_creator(owner, pipeline, stages):
    deal = deal_create(actor=owner, data={"title": "3 windows", "amount": "1200.50"})
    assert (deal.stage, deal.owner, deal.amount, deal.currency) == (
        stages["Request"],
        owner,
        Decimal("1200.50"),
        "EUR",
    )
    assert [m.to_stage.name for m in StageMove.objects.filter(deal=deal)] == ["Request"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "X", "currency": "XYZ"}, "currency"),
        ({"title": "X", "amount": "-5"}, "amount"),
        ({"title": "X", "amount": "lots"}, "amount"),
    ],
)
def test_bad_deal_input_is_refused_by_field(owner, pipeline, data, field):
    with pytest.raises(ValidationError) as error:
        deal_create(actor=owner, data=data)
    assert field in error.value.message_dict


def test_moving_records_from_to_who_and_time_spent(owner, pipeline, stages, time_machine):
    deal = deal_create(actor=owner, data={"title": "Balcony"})
    time_machine.move_to(timezone.now() + timedelta(days=2))
    deal = deal_move(actor=owner, deal=deal, stage=stages["Measured"])
    move = StageMove.objects.filter(deal=deal).last()
    assert (move.from_stage, move.to_stage, move.actor) == (
        stages["Request"],
        stages["Measured"],
        owner,
    )
    assert 2 * 86400 - 5 <= move.seconds_in_from <= 2 * 86400 + 5
    assert timeline_of(deal).first().data == {"from": "Request", "to": "Measured"}


def test_a_deal_cannot_move_to_another_pipelines_stage_or_be_dropped_on_won(
    owner, admin, pipeline, stages
):
    other = pipeline_create(
        actor=admin,
        name="Wholesale",
        stages=[{"name": "New"}, {"name": "Won", "kind": "won"}, {"name": "Lost", "kind": "lost"}],
    )
    deal = deal_create(actor=owner, data={"title": "Door"})
    with pytest.raises(ValidationError, match="another pipeline"):
        deal_move(actor=owner, deal=deal, stage=other.stages.first())
    with pytest.raises(ValidationError, match="won instead"):
        deal_move(actor=owner, deal=deal, stage=stages["Won"])
    deal.refresh_from_db()
    assert (deal.stage, deal.version) == (stages["Request"], 1)


def test_two_people_moving_the_same_card_the_second_is_told(owner, pipeline, stages):
    deal = deal_create(actor=owner, data={"title": "Door"})
    deal_move(actor=owner, deal=deal, stage=stages["Measured"], version=1)
    with pytest.raises(StaleVersion):
        deal_move(actor=owner, deal=deal, stage=stages["Offer"], version=1)


def test_winning_makes_the_lead_a_client_and_a_second_win_a_repeat_customer(owner, pipeline):
    anna = person_create(actor=owner, data={"first_name": "Anna"})
    for title in ["First order", "Second order"]:
        deal_win(actor=owner, deal=deal_create(actor=owner, data={"title": title, "person": anna}))
        anna.refresh_from_db()
        assert anna.kind == "client"
    assert anna.is_repeat


def test_losing_needs_a_reason(owner, pipeline, stages, too_expensive):
    deal = deal_create(actor=owner, data={"title": "Roof"})
    with pytest.raises(ValidationError, match="why the deal was lost"):
        deal_lose(actor=owner, deal=deal, reason=None)
    deal = deal_lose(actor=owner, deal=deal, reason=too_expensive, note="Found cheaper")
    assert (deal.status, deal.stage, deal.lost_reason) == ("lost", stages["Lost"], too_expensive)
    assert timeline_of(deal).first().data == {"reason": "Too expensive", "note": "Found cheaper"}


def test_line_items_make_the_amount_and_refuse_nonsense(owner, admin, pipeline):
    window = product_save(
        actor=admin,
        data={"name": "PVC window", "price": "250.00", "currency": "EUR", "unit": "pcs"},
    )
    deal = deal_create(actor=owner, data={"title": "Flat"})
    line_item_save(
        actor=owner, deal=deal, data={"product": window, "quantity": "3", "discount_percent": "10"}
    )
    line_item_save(
        actor=owner,
        deal=deal,
        data={"name": "Installation", "unit_price": "100", "tax_percent": "20"},
    )
    deal.refresh_from_db()
    assert deal.amount == Decimal("795.00")  # 3 × 250 − 10 % + 100 + 20 %
    for bad in [{"quantity": "-1"}, {"discount_percent": "120"}, {"unit_price": "free"}]:
        with pytest.raises(ValidationError):
            line_item_save(actor=owner, deal=deal, data={"name": "X", "unit_price": "1", **bad})
    deal.refresh_from_db()
    assert deal.amount == Decimal("795.00")
    rub = product_save(actor=admin, data={"name": "Sill", "price": "900", "currency": "RUB"})
    with pytest.raises(ValidationError, match="RUB"):
        line_item_save(actor=owner, deal=deal, data={"product": rub})
    assert Product.objects.count() == 2


def test_retiring_a_stage_moves_its_deals_to_the_chosen_stage(owner, admin, pipeline, stages):
    deal = deal_create(actor=owner, data={"title": "Gate"})
    with pytest.raises(ValidationError):
        stage_retire(actor=admin, stage=stages["Request"], move_to=None)
    stage_retire(actor=admin, stage=stages["Request"], move_to=stages["Measured"])
    deal.refresh_from_db()
    assert deal.stage == stages["Measured"]
    with pytest.raises(PermissionDenied):
        stage_retire(actor=owner, stage=stages["Offer"], move_to=stages["Measured"])


def test_a_manager_sees_only_own_and_teams_deals_on_the_board(owner, admin, pipeline, stages):
    other = user_create(email="rival@example.com", password=PASSWORD, role="manager")
    deal_create(actor=owner, data={"title": "Mine", "amount": "100"})
    deal_create(actor=other, data={"title": "Theirs", "amount": "900"})
    columns = board(owner, pipeline)
    first = columns[0]
    assert (first.count, first.total, [d.title for d in first.cards]) == (
        1,
        Decimal("100"),
        ["Mine"],
    )
    assert board(admin, pipeline)[0].count == 2


def test_the_funnel_counts_conversion_time_and_redundant_stages(
    owner, pipeline, stages, too_expensive
):
    now = timezone.now()
    for index in range(4):
        deal = deal_create(actor=owner, data={"title": f"D{index}"})
        deal = deal_move(actor=owner, deal=deal, stage=stages["Offer"])  # "Measured" is skipped
        if index < 3:
            deal_win(actor=owner, deal=deal)
        else:
            deal_lose(actor=owner, deal=deal, reason=too_expensive)
    rows = {
        row.stage.name: row
        for row in funnel(owner, pipeline, now - timedelta(days=1), now + timedelta(days=1))
    }
    assert (rows["Request"].entered, rows["Request"].conversion) == (4, 1.0)
    assert rows["Measured"].skipped
    assert rows["Request"].never_loses
    assert (rows["Offer"].entered, rows["Offer"].lost_from) == (4, 1)
    assert win_rate(list(rows.values())) == 0.75


def test_a_new_company_starts_with_a_pipeline_and_lost_reasons(db):
    from accord.sales.models import LostReason, Pipeline

    starter = Pipeline.objects.get()
    kinds = [stage.kind for stage in starter.stages.all()]
    assert kinds.count("won") == kinds.count("lost") == 1 and "open" in kinds
    assert LostReason.objects.count() >= 3


def test_the_funnel_reads_the_median_time_in_a_stage(owner, pipeline, stages):
    from accord.sales.models import StageMove

    now = timezone.now()
    for days in (1, 2, 5):
        deal = deal_create(actor=owner, data={"title": f"{days} days"})
        deal_move(actor=owner, deal=deal, stage=stages["Offer"])
        StageMove.objects.filter(deal=deal, from_stage=stages["Request"]).update(
            seconds_in_from=days * 86400
        )
    rows = {
        row.stage.name: row
        for row in funnel(owner, pipeline, now - timedelta(days=1), now + timedelta(days=1))
    }
    assert rows["Request"].median_days == 2.0
    assert rows["Measured"].median_days is None


def test_the_funnel_reads_alike_for_a_viewer_of_all_deals_and_of_some(
    owner, admin, pipeline, stages
):
    """An administrator's funnel is read from indexes by position, a viewer of some deals by
    grouping the moves they may see: the same deals give the same report."""
    from accord.core.visibility import ALL, READ, effective_level
    from accord.sales.models import StageMove

    assert effective_level(admin, "deals", READ) == ALL
    assert effective_level(owner, "deals", READ) != ALL
    now = timezone.now()
    for days in (1, 2, 4, 9, None):  # an even number of timed moves, and one untimed
        deal = deal_create(actor=owner, data={"title": f"{days} days"})
        deal_move(actor=owner, deal=deal, stage=stages["Offer"])
        StageMove.objects.filter(deal=deal, from_stage=stages["Request"]).update(
            seconds_in_from=days * 86400 if days else None
        )
    period = (now - timedelta(days=1), now + timedelta(days=1))
    seen = [
        [
            (r.stage.name, r.entered, r.moved_on, r.median_days)
            for r in funnel(viewer, pipeline, *period)
        ]
        for viewer in (admin, owner)
    ]
    assert seen[0] == seen[1]
    assert ("Request", 5, 5, 3.0) in seen[0]  # the middle two of 1, 2, 4, 9 days
    assert funnel(admin, pipeline, now - timedelta(days=3), now - timedelta(days=2))[0].entered == 0


def test_a_reorder_within_a_column_announces_no_stage_change(owner, pipeline, stages):
    first = deal_create(actor=owner, data={"title": "First"})
    second = deal_create(actor=owner, data={"title": "Second"})
    deal_move(actor=owner, deal=first, stage=stages["Request"], after=second)  # a reorder
    assert not OutboxEvent.objects.filter(name="deal.stage_changed").exists()
    deal_move(actor=owner, deal=first, stage=stages["Measured"])
    moved = OutboxEvent.objects.get(name="deal.stage_changed")
    assert (moved.payload["from_stage_id"], moved.payload["stage_id"]) == (
        stages["Request"].pk,
        stages["Measured"].pk,
    )
