"""A task that asks for its deal's fields when it is completed, through the services: the
measurer writes the sizes onto a deal their role may not change, on the deal's timeline
and in its events; all asked fields or nothing; exactly those fields, no other."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accord.core.models import OutboxEvent
from accord.core.services import custom_field_retire
from accord.core.timeline import timeline_of
from accord.sales.models import Deal
from accord.sales.services import deal_create, deal_update
from accord.work.models import Task
from accord.work.services import task_complete, task_create, task_update
from tests.work.conftest import COUNT, SIZES, measurement


def test_the_measurer_writes_the_sizes_onto_a_deal_their_role_may_not_change(
    admin, owner, measurer, window_deal
):
    with pytest.raises(PermissionDenied):  # not by themselves
        deal_update(actor=measurer, deal=window_deal, data={"custom_fields": {"window_sizes": "1"}})
    task = measurement(admin, window_deal, measurer)
    assert task.asks == [COUNT, SIZES]

    task_complete(actor=measurer, task=task, result="Balcony door too",
                  fields={COUNT: "3", SIZES: "1200×1400, 800×1400 ×2"})  # fmt: skip

    window_deal.refresh_from_db()
    assert window_deal.custom_fields == {
        "number_of_windows": 3,
        "window_sizes": "1200×1400, 800×1400 ×2",
    }
    changed = timeline_of(window_deal).get(kind="changed")
    assert changed.actor == measurer
    assert changed.data["changes"] == [
        {"field": COUNT, "old": None, "new": 3},
        {"field": SIZES, "old": None, "new": "1200×1400, 800×1400 ×2"},
    ]
    updated = OutboxEvent.objects.get(name="deal.updated")
    assert updated.payload["fields"] == [COUNT, SIZES]
    assert updated.payload["actor_id"] == measurer.pk
    task.refresh_from_db()
    assert (task.status, task.result) == (Task.DONE, "Balcony door too")
    with pytest.raises(PermissionDenied):  # the task granted those fields once, for itself
        deal_update(actor=measurer, deal=window_deal, data={"custom_fields": {"window_sizes": "2"}})


def test_every_asked_field_is_required_and_nothing_is_written_without_them(
    admin, owner, measurer, window_deal
):
    task = measurement(admin, window_deal, measurer)
    with pytest.raises(ValidationError) as error:
        task_complete(actor=measurer, task=task, fields={SIZES: ""})
    assert set(error.value.message_dict) == {COUNT, SIZES}
    with pytest.raises(ValidationError) as error:
        task_complete(actor=measurer, task=task, fields={COUNT: "many", SIZES: "1200×1400"})
    assert error.value.message_dict == {COUNT: ["Enter a number."]}
    task.refresh_from_db()
    window_deal.refresh_from_db()
    assert (task.status, window_deal.custom_fields, window_deal.version) == (Task.OPEN, {}, 1)
    assert not timeline_of(window_deal).filter(kind="changed").exists()
    assert not timeline_of(task).filter(kind="done").exists()


def test_the_task_grants_exactly_the_asked_fields(admin, owner, measurer, window_deal):
    task = measurement(admin, window_deal, measurer, asks=[SIZES])
    with pytest.raises(ValidationError) as error:
        task_complete(actor=measurer, task=task, fields={SIZES: "1200×1400", "amount": "900"})
    assert error.value.message_dict == {"amount": ["This task does not ask for it."]}
    with pytest.raises(PermissionDenied):  # the sales service keeps to what is granted
        deal_update(actor=measurer, deal=window_deal, data={"amount": "900"}, granted={SIZES})
    window_deal.refresh_from_db()
    assert window_deal.amount == 0


def test_only_someone_who_may_change_the_task_completes_it_and_fills_the_deal(
    admin, owner, measurer, window_deal
):
    task = measurement(admin, window_deal, owner)  # the owner's own visit
    with pytest.raises(PermissionDenied):
        task_complete(actor=measurer, task=task, fields={COUNT: 3, SIZES: "1200×1400"})
    window_deal.refresh_from_db()
    assert window_deal.custom_fields == {}
    task_complete(actor=admin, task=task, fields={COUNT: 3, SIZES: "1200×1400"})
    window_deal.refresh_from_db()
    assert window_deal.custom_fields["window_sizes"] == "1200×1400"


def test_the_amount_the_expected_close_and_a_choice_are_typed(admin, owner, measurer, window_deal):
    asks = ["amount", "expected_close_date", "custom_fields.frame_colour"]
    task = measurement(admin, window_deal, measurer, asks=asks)
    with pytest.raises(ValidationError) as error:
        task_complete(actor=measurer, task=task, fields={
            "amount": "-5", "expected_close_date": "next week",
            "custom_fields.frame_colour": "pink"})  # fmt: skip
    assert set(error.value.message_dict) == {"expected_close_date"}  # read first, then the rest
    with pytest.raises(ValidationError) as error:
        task_complete(actor=measurer, task=task, fields={
            "amount": "-5", "expected_close_date": "2026-04-01",
            "custom_fields.frame_colour": "pink"})  # fmt: skip
    assert set(error.value.message_dict) == {"amount", "custom_fields.frame_colour"}
    task_complete(actor=measurer, task=task, fields={
        "amount": "2 400,50", "expected_close_date": "2026-04-01",
        "custom_fields.frame_colour": "white"})  # fmt: skip
    deal = Deal.objects.get(pk=window_deal.pk)
    assert (str(deal.amount), deal.expected_close_date, deal.custom_fields) == (
        "2400.50", date(2026, 4, 1), {"frame_colour": "white"})  # fmt: skip


def test_a_task_asks_only_for_fields_a_deal_has_and_only_with_a_deal(owner, window_deal):
    due = timezone.now() + timedelta(days=1)
    with pytest.raises(ValidationError) as error:
        task_create(actor=owner, data={"title": "Measure", "due_at": due, "deal": window_deal,
                                       "asks": ["custom_fields.colour", "title"]})  # fmt: skip
    assert error.value.message_dict["asks"] == [
        "The deal has no field custom_fields.colour, title to ask for."
    ]
    with pytest.raises(ValidationError) as error:
        task_create(actor=owner, data={"title": "Measure", "due_at": due, "asks": [SIZES]})
    assert "choose the deal" in error.value.message_dict["asks"][0]
    task = task_create(actor=owner, data={"title": "Measure", "due_at": due, "deal": window_deal,
                                          "asks": [SIZES]})  # fmt: skip
    with pytest.raises(ValidationError):  # unlinking the deal would leave it asking
        task_update(actor=owner, task=task, data={"deal": None})
    task_update(actor=owner, task=task, data={"asks": [COUNT, SIZES]})
    changed = timeline_of(task).get(kind="changed")
    assert changed.data["changes"] == [
        {"field": "asks", "old": ["Window sizes"], "new": ["Number of windows", "Window sizes"]}
    ]


def test_a_retired_field_is_asked_no_more(admin, owner, measurer, window_deal, window_fields):
    task = measurement(admin, window_deal, measurer)
    custom_field_retire(actor=admin, field=window_fields["Number of windows"])
    task_complete(actor=measurer, task=task, fields={SIZES: "1200×1400"})
    window_deal.refresh_from_db()
    assert window_deal.custom_fields == {"window_sizes": "1200×1400"}


def test_a_task_asking_nothing_takes_no_fields(owner, window_deal):
    task = task_create(
        actor=owner, data={"title": "Call", "deal": window_deal, "due_at": timezone.now()},
        allow_past=True,
    )  # fmt: skip
    with pytest.raises(ValidationError) as error:
        task_complete(actor=owner, task=task, fields={SIZES: "1200×1400"})
    assert "fields" in error.value.message_dict
    assert task_complete(actor=owner, task=task).status == Task.DONE


def test_only_someone_who_may_change_the_deal_makes_a_task_ask_for_its_fields(
    admin, owner, measurer, window_deal
):
    """Else a measurer could grant themselves the deal's amount with a task of their own."""
    due = timezone.now() + timedelta(days=1)
    own = {"title": "Mine", "due_at": due, "deal": window_deal, "assignee": measurer}
    with pytest.raises(ValidationError) as error:
        task_create(actor=measurer, data={**own, "asks": ["amount"]})
    assert error.value.message_dict["asks"] == [
        "Only someone who may change the deal makes a task ask for its fields."
    ]
    mine = task_create(actor=measurer, data=own)
    with pytest.raises(ValidationError):
        task_update(actor=measurer, task=mine, data={"asks": ["amount"]})
    # Their measurement (asked by the owner's side) stays theirs to edit, not to move.
    task = measurement(admin, window_deal, measurer)
    task_update(actor=measurer, task=task, data={"title": "Measure, 3rd floor", "asks": task.asks})
    other = deal_create(actor=admin, data={"title": "Not theirs"})
    with pytest.raises(ValidationError) as error:
        task_update(actor=measurer, task=task, data={"deal": other})
    assert "asks" in error.value.message_dict
