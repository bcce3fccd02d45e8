from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from accord.core import events
from accord.core.events import emit, held, subscribe, unsubscribe
from accord.core.models import OutboxEvent


@pytest.fixture
def received():
    events = []

    def handler(event):
        events.append(event)

    subscribe("deal.won", "*")(handler)
    yield events
    unsubscribe(handler)


@pytest.mark.django_db(transaction=True)
def test_it_announces_an_event_only_after_the_transaction_commits(received):
    with transaction.atomic():
        emit("deal.won", deal_id=7)
        assert received == []
    assert [(e.name, e.payload) for e in received] == [("deal.won", {"deal_id": 7})]


@pytest.mark.django_db(transaction=True)
def test_it_announces_nothing_when_the_transaction_rolls_back(received):
    with pytest.raises(RuntimeError), transaction.atomic():
        emit("deal.won", deal_id=7)
        raise RuntimeError("the write failed")
    assert received == []


@pytest.mark.django_db(transaction=True)
def test_a_wildcard_subscriber_hears_every_event_once(received):
    emit("contact.created", contact_id=1)
    assert [e.name for e in received] == ["contact.created"]


def test_it_refuses_a_model_instance_in_the_payload(db, owner):
    with pytest.raises(TypeError, match="user"):
        emit("deal.won", user=owner)
    with pytest.raises(TypeError, match=r"ids\[1\]"):
        emit("deal.won", ids=[1, owner])


@pytest.mark.django_db(transaction=True)
def test_a_failing_subscriber_does_not_stop_the_others(received):
    def broken(event):
        raise ValueError("boom")

    subscribe("deal.won")(broken)
    try:
        emit("deal.won", deal_id=1)
    finally:
        unsubscribe(broken)
    assert [e.payload for e in received] == [{"deal_id": 1}]


@pytest.mark.django_db(transaction=True)
def test_a_failing_handlers_writes_are_undone_and_the_others_kept(received):
    def writes_then_fails(event):
        if event.name == "deal.won":
            emit("deal.noted", deal_id=event.payload["deal_id"])
            raise ValueError("boom")

    def writes(event):
        if event.name == "deal.won":
            emit("deal.counted", deal_id=event.payload["deal_id"])

    subscribe("deal.won")(writes_then_fails)
    subscribe("deal.won")(writes)
    try:
        with transaction.atomic():
            emit("deal.won", deal_id=1)
            emit("deal.won", deal_id=2)
    finally:
        unsubscribe(writes_then_fails)
        unsubscribe(writes)
    names = sorted(OutboxEvent.objects.values_list("name", flat=True))
    assert names == ["deal.counted", "deal.counted", "deal.won", "deal.won"]
    assert sorted(e.payload["deal_id"] for e in received if e.name == "deal.won") == [1, 2]


# --- The outbox: recorded with the change, run at least once --------------------------


@pytest.mark.django_db(transaction=True)
def test_an_event_is_recorded_in_the_changes_transaction_and_done_after_its_handlers(received):
    with transaction.atomic():
        emit("deal.won", deal_id=7)
        row = OutboxEvent.objects.get()
        assert (row.name, row.payload, row.state) == ("deal.won", {"deal_id": 7}, "pending")
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("done", 1) and row.done_at is not None
    assert [(e.id, e.attempt) for e in received] == [(row.pk, 1)]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_leaves_no_event_behind(received):
    with pytest.raises(RuntimeError), transaction.atomic():
        emit("deal.won", deal_id=7)
        raise RuntimeError("the write failed")
    assert not OutboxEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_events_of_a_savepoint_rolled_back_are_not_announced(received):
    with transaction.atomic():
        emit("deal.won", deal_id=1)
        with pytest.raises(RuntimeError), transaction.atomic():
            emit("deal.won", deal_id=2)
            raise RuntimeError("this part failed")
        emit("deal.won", deal_id=3)
    assert [e.payload["deal_id"] for e in received] == [1, 3]
    assert set(OutboxEvent.objects.values_list("state", flat=True)) == {"done"}


@pytest.mark.django_db(transaction=True)
def test_events_left_pending_are_run_once_by_the_workers_pass(received):
    with held():
        emit("deal.won", deal_id=1)
        with transaction.atomic():
            emit("deal.won", deal_id=2)
    assert received == []  # as if the process had died right after its commits
    assert OutboxEvent.objects.filter(state="pending").count() == 2
    assert events.catch_up(timezone.now()) == 2
    assert sorted(e.payload["deal_id"] for e in received) == [1, 2]
    assert events.catch_up(timezone.now()) == 0  # done: not again
    assert len(received) == 2


@pytest.mark.django_db(transaction=True)
def test_a_failing_handler_is_retried_later_up_to_a_cap_then_the_event_is_failed(received):
    calls = []

    def broken(event):
        calls.append(event.attempt)
        raise ValueError("boom")

    subscribe("deal.won")(broken)
    try:
        start = timezone.now()
        emit("deal.won", deal_id=1)
        row = OutboxEvent.objects.get()
        assert (row.state, row.attempts, calls) == ("pending", 1, [1])
        assert "boom" in row.error
        assert events.catch_up(start) == 0  # not due again yet: it waits its back-off
        moment = start
        for wait in events.RETRIES:
            moment += wait + timedelta(seconds=1)
            assert events.catch_up(moment) == 1
        assert events.catch_up(moment + timedelta(days=1)) == 0  # given up
    finally:
        unsubscribe(broken)
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("failed", 1 + len(events.RETRIES))
    # Each attempt told its number (the worker's pass may call a handler twice in one
    # attempt: first with the batch's others, which it rolls back, then on its own).
    assert sorted(set(calls)) == [1, 2, 3, 4, 5]
    assert sorted({e.attempt for e in received}) == [1, 2, 3, 4, 5]


@pytest.mark.django_db(transaction=True)
def test_a_handler_that_fails_once_succeeds_on_its_retry(received):
    calls = []

    def flaky(event):
        calls.append(event.id)
        if len(calls) == 1:
            raise ConnectionError("the database went away")

    subscribe("deal.won")(flaky)
    try:
        emit("deal.won", deal_id=1)
        assert OutboxEvent.objects.get().state == "pending"
        assert events.catch_up(timezone.now() + timedelta(minutes=1)) == 1
    finally:
        unsubscribe(flaky)
    row = OutboxEvent.objects.get()
    assert (row.state, row.attempts, row.error) == ("done", 2, "")
    assert calls == [row.pk, row.pk]


@pytest.mark.django_db(transaction=True)
def test_old_done_events_are_pruned_and_pending_ones_kept():
    with held():
        emit("deal.won", deal_id=1)
    emit("deal.won", deal_id=2)
    emit("deal.won", deal_id=3)
    now = timezone.now()
    OutboxEvent.objects.filter(payload__deal_id=2).update(done_at=now - timedelta(days=8))
    assert events.prune(now) == 1
    assert sorted(OutboxEvent.objects.values_list("payload__deal_id", flat=True)) == [1, 3]
    assert events.prune(now + events.KEEP + timedelta(seconds=1)) == 1
    assert list(OutboxEvent.objects.values_list("state", flat=True)) == ["pending"]


@pytest.mark.django_db(transaction=True)
def test_gathered_events_are_written_together_in_order_and_announced_after_commit(received):
    """A worker's batch gathers its events: none is in the outbox until the block ends,
    then all are, in the order they were emitted, and their handlers run after commit."""
    with transaction.atomic():
        with events.emits_gathered():
            emit("deal.won", deal_id=1)
            events.emit_many("deal.won", [{"deal_id": 2}, {"deal_id": 3}])
            emit("deal.lost", deal_id=4)
            assert not OutboxEvent.objects.exists()
        assert OutboxEvent.objects.count() == 4
        assert received == []
    assert [e.payload["deal_id"] for e in received] == [1, 2, 3, 4]
    assert list(OutboxEvent.objects.order_by("pk").values_list("name", flat=True)) == [
        "deal.won", "deal.won", "deal.won", "deal.lost",
    ]  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_a_gathering_block_that_fails_records_no_event(received):
    with pytest.raises(RuntimeError), transaction.atomic(), events.emits_gathered():
        emit("deal.won", deal_id=1)
        raise RuntimeError("the batch broke")
    with transaction.atomic(), events.emits_gathered():
        emit("deal.won", deal_id=2)  # the next batch starts with nothing left over
    assert [e.payload["deal_id"] for e in received] == [2]
    assert OutboxEvent.objects.count() == 1
