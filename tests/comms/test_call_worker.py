"""The webhook stores a PBX's events and queues the worker's pass; the worker applies
them in batches: a burst of events queues one pass, a call's events in one batch apply
in the order they came, and an event that breaks leaves the others of its batch applied."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accord.comms.models import Call, CallEvent, Telephony
from accord.comms.services import calls as call_services
from accord.comms.services.calls import (
    call_events_catch_up,
    call_events_store,
    extensions_set,
    telephony_save,
)
from accord.comms.telephony import Signal, generic_signature
from accord.contacts.models import Person
from accord.core.models import TimelineEvent
from accord.work.models import Task
from tests.conftest import run_worker

SECRET = "pbx-signing-secret"
CALLER = "+79161234567"
PASS = "accord.comms.tasks.apply_call_events"
REDIS_URL = "redis://127.0.0.1:6379/8"  # a database of its own


@pytest.fixture
def pbx(admin):
    return telephony_save(actor=admin, data={"name": "Office PBX", "secret": SECRET})


def post(pbx, events):
    """The PBX posts; the worker does not run (until the test says so)."""
    body = json.dumps(events).encode()
    return Client().post(
        f"/hooks/telephony/{pbx.hook_token}/", body, content_type="application/json",
        headers={"X-Accord-Signature": generic_signature(SECRET, body)},
    )  # fmt: skip


def event(call_id, kind, *, direction="in", number=CALLER, **more):
    ends = {"from": number, "to": "+74951112233"}
    if direction == "out":
        ends = {"from": "+74951112233", "to": number}
    return {"call_id": call_id, "event": kind, "direction": direction, **ends, **more}


def passes_waiting() -> int:
    return DBTaskResult.objects.ready().filter(task_path=PASS).count()


def test_the_webhook_stores_and_the_worker_applies(pbx):
    answer = post(pbx, [event("c1", "ringing")])
    assert answer.status_code == 200 and answer.json() == {"ok": True, "stored": 1}
    assert CallEvent.objects.get().state == CallEvent.PENDING
    assert not Call.objects.exists()  # nothing applied until the worker runs

    assert run_worker() == 1
    assert CallEvent.objects.get().state == CallEvent.DONE
    assert Call.objects.get().state == Call.RINGING


def test_a_burst_of_events_queues_one_pass_not_one_each(pbx):
    for n in range(60):
        assert post(pbx, [event(f"c{n}", "ringing", number=f"+7916123{n:04d}")]).status_code == 200
    assert passes_waiting() == 1
    assert CallEvent.objects.filter(state=CallEvent.PENDING).count() == 60

    assert run_worker() == 1  # one pass applies all 60 (in batches)
    assert Call.objects.count() == 60
    assert not CallEvent.objects.filter(state=CallEvent.PENDING).exists()
    pbx.refresh_from_db()
    assert pbx.events_queued_at is None

    # A repeat stores nothing and queues nothing; a new event after the pass queues one.
    post(pbx, [event("c0", "ringing", number="+79161230000")])
    assert passes_waiting() == 0
    post(pbx, [event("c0", "missed", number="+79161230000")])
    assert passes_waiting() == 1


def test_a_pass_queued_twice_finds_nothing_the_second_time(pbx):
    from accord.comms.tasks import apply_call_events

    post(pbx, [event("c1", "ringing")])
    apply_call_events.enqueue(pbx.pk)  # a duplicate, as an old mark taken for lost makes
    assert run_worker() == 2
    assert [job.return_value for job in DBTaskResult.objects.order_by("enqueued_at")] == [1, 0]
    assert Call.objects.count() == 1


def test_a_calls_events_in_one_batch_apply_in_the_order_they_came(pbx, admin, owner):
    """A missed call, then the manager calls the number back and talks: all in one batch.
    The caller becomes one person, the missed call's task is made and then closed by the
    talk — which only holds when the missed call is applied before the talk."""
    extensions_set(actor=admin, telephony=pbx, extensions={"101": owner, "102": admin})
    post(pbx, [event("c1", "ringing", extension="101", at="2026-12-05T10:00:00+03:00"),
               event("c1", "missed", at="2026-12-05T10:00:20+03:00")])  # fmt: skip
    post(pbx, [event("c2", "ringing", direction="out", extension="102",
                     at="2026-12-05T10:05:00+03:00"),
               event("c2", "answered", direction="out", extension="102",
                     at="2026-12-05T10:05:10+03:00"),
               event("c2", "ended", direction="out", duration=95,
                     at="2026-12-05T10:06:45+03:00")])  # fmt: skip
    assert passes_waiting() == 1

    run_worker()

    person = Person.objects.get()  # made once, for the missed call; the talk found them
    missed, talk = Call.objects.get(provider_call_id="c1"), Call.objects.get(provider_call_id="c2")
    assert (missed.state, missed.person, missed.returned_at) == (Call.MISSED, person, talk.ended_at)
    assert (talk.state, talk.person, talk.user, talk.duration) == (Call.ENDED, person, admin, 95)
    task = Task.objects.get()
    assert task.status == Task.DONE and task.person == person
    assert TimelineEvent.objects.filter(kind="call", subject_id=person.pk).count() == 2


def test_a_missed_calls_task_stays_linked_when_its_recording_comes_in_the_same_batch(pbx):
    """The call-back task is linked to the call as it is missed; the recording that
    follows in the same batch changes the call (written with the batch's other calls at
    its end), not the link to its task."""
    post(pbx, [event("c1", "ringing"), event("c1", "missed")])
    post(pbx, [event("c1", "recording", recording_url="https://pbx.example.com/r/c1.mp3")])
    assert passes_waiting() == 1

    run_worker()

    call = Call.objects.get()
    assert call.state == Call.MISSED and call.recording == "https://pbx.example.com/r/c1.mp3"
    assert call.task == Task.objects.get()
    assert TimelineEvent.objects.filter(kind="call", subject_id=call.person_id).count() == 1


def test_a_broken_event_leaves_the_others_of_its_batch_applied(pbx, admin):
    """Three events stored together; the middle one cannot be applied (a date that does
    not exist, as an older adapter let through). The batch is applied again one by one:
    the other two are applied once each, the broken one kept pending with its error."""
    now = timezone.now()
    signals = [
        Signal(key="c1:ringing", call_id="c1", kind="ringing", direction="in", number=CALLER),
        Signal(key="c2:ringing", call_id="c2", kind="ringing", direction="in",
               number="+79161110000", at="2026-02-30T10:00:00+03:00"),
        Signal(key="c3:ended", call_id="c3", kind="ended", direction="in",
               number="+79162220000", duration=0, answered=False),
    ]  # fmt: skip
    call_events_store(telephony=pbx, signals=signals, at=now)

    assert call_services.call_events_drain(pbx.pk) == 2

    assert sorted(Call.objects.values_list("provider_call_id", flat=True)) == ["c1", "c3"]
    assert Call.objects.get(provider_call_id="c3").state == Call.MISSED
    assert Task.objects.count() == 1 and Person.objects.count() == 1  # c3's caller, once
    broken = CallEvent.objects.get(key="c2:ringing")
    assert (broken.state, broken.attempts) == (CallEvent.PENDING, 1)
    assert "2026-02-30" in broken.error or "day" in broken.error
    assert set(CallEvent.objects.exclude(pk=broken.pk).values_list("state", flat=True)) == {
        CallEvent.DONE
    }
    # The worker's catch-up tries it again later; it fails again, and counts.
    call_events_catch_up(now + timedelta(minutes=1))
    broken.refresh_from_db()
    assert (broken.state, broken.attempts) == (CallEvent.PENDING, 2)


def test_events_a_lost_pass_left_are_applied_by_the_worker_s_catch_up(pbx):
    post(pbx, [event("c1", "ringing"), event("c1", "missed")])
    DBTaskResult.objects.all().delete()  # the queue lost the pass (Redis emptied, say)
    assert call_events_catch_up(timezone.now()) == 0  # not yet: they are fresh
    assert call_events_catch_up(timezone.now() + timedelta(minutes=1)) == 2
    assert Call.objects.get().state == Call.MISSED


def test_a_mark_left_by_a_lost_pass_does_not_stop_new_events_from_queuing_one(pbx):
    post(pbx, [event("c1", "ringing")])
    DBTaskResult.objects.all().delete()
    Telephony.objects.filter(pk=pbx.pk).update(
        events_queued_at=timezone.now() - timedelta(minutes=5)
    )
    post(pbx, [event("c1", "missed")])
    assert passes_waiting() == 1
    run_worker()
    assert Call.objects.get().state == Call.MISSED


@pytest.mark.django_db(transaction=True)
def test_the_redis_worker_applies_what_the_webhook_stored(pbx, settings, monkeypatch):
    import redis
    from django.core.management import call_command

    from accord.core import periodic

    monkeypatch.setattr(periodic, "JOBS", [])  # the task applies them, not the catch-up
    settings.RQ_QUEUES = {"default": {"URL": REDIS_URL}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    try:
        post(pbx, [event("c1", "ringing"), event("c1", "missed")])
        assert not DBTaskResult.objects.exists() and not Call.objects.exists()
        call_command("worker", batch=True, verbosity=0)
        assert Call.objects.get().state == Call.MISSED
        assert not CallEvent.objects.filter(state=CallEvent.PENDING).exists()
    finally:
        connection = redis.Redis.from_url(REDIS_URL)
        for key in connection.scan_iter("rq:*"):
            connection.delete(key)
