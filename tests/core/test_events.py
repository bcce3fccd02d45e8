import pytest
from django.db import transaction

from accord.core.events import emit, subscribe, unsubscribe


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
