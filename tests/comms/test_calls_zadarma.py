"""Zadarma's notifications as Zadarma sends them: form fields, the `Signature` header
(base64 of the hex HMAC-SHA1 of some fields under the API secret), the address check
with `zd_echo`, and numbers without their "+"."""

import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from accord.comms.models import Call, CallEvent
from accord.comms.services.calls import extensions_set, telephony_save
from accord.comms.telephony import ZADARMA_SIGNED, zadarma_signature
from accord.contacts.models import Person
from accord.core.company import default_time_zone
from accord.work.models import Task
from tests.conftest import run_worker

SECRET = "zadarma-api-secret"
START = "2026-12-05 10:15:07"


@pytest.fixture
def zadarma(admin):
    return telephony_save(
        actor=admin,
        data={"name": "Zadarma", "provider": "zadarma", "api_key": "key1", "secret": SECRET},
    )


def notify(connection, fields: dict, *, secret: str = SECRET):
    signed = "".join(fields.get(name, "") for name in ZADARMA_SIGNED[fields["event"]])
    answer = Client().post(
        f"/hooks/telephony/{connection.hook_token}/", urlencode(fields),
        content_type="application/x-www-form-urlencoded",
        headers={"Signature": zadarma_signature(secret, signed)},
    )  # fmt: skip
    run_worker()
    return answer


def start(call_id: str) -> dict:
    return {"event": "NOTIFY_START", "call_start": START, "pbx_call_id": call_id,
            "caller_id": "79161234567", "called_did": "74951112233"}  # fmt: skip


def end(call_id: str, disposition: str, duration: str = "0", **more) -> dict:
    fields = {"event": "NOTIFY_END", "internal": "101", "duration": duration,
              "disposition": disposition, "status_code": "16", "is_recorded": "0"}  # fmt: skip
    return {**start(call_id), **fields, **more}


def test_the_address_check_echoes_zd_echo(zadarma):
    response = Client().get(f"/hooks/telephony/{zadarma.hook_token}/", {"zd_echo": "abc123"})
    assert response.status_code == 200 and response.content == b"abc123"


def on_the_pbx_clock(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(default_time_zone()))


def test_an_unanswered_incoming_call_is_missed_and_becomes_a_task(zadarma):
    with time_machine.travel(on_the_pbx_clock("2026-12-05 10:15:09"), tick=False):
        assert notify(zadarma, start("in-1")).status_code == 200
    call = Call.objects.get()
    assert call.state == Call.RINGING and call.number == "+79161234567"
    assert call.started_at == on_the_pbx_clock(START)  # Zadarma's call_start, on its clock

    assert notify(zadarma, end("in-1", "no answer")).status_code == 200
    call.refresh_from_db()
    assert call.state == Call.MISSED and call.disposition == "no answer"
    assert Person.objects.get().pk == call.person_id
    assert Task.objects.get().person_id == call.person_id


def test_an_answered_call_carries_its_extensions_user_and_recording(zadarma, admin, owner):
    extensions_set(actor=admin, telephony=zadarma, extensions={"101": owner})
    notify(zadarma, start("in-2"))
    answer = {"event": "NOTIFY_ANSWER", "call_start": START, "pbx_call_id": "in-2",
              "caller_id": "79161234567", "destination": "101"}  # fmt: skip
    notify(zadarma, answer)
    notify(zadarma, end("in-2", "answered", "95", is_recorded="1", call_id_with_rec="rec-2"))
    call = Call.objects.get()
    assert (call.state, call.duration, call.user) == (Call.ENDED, 95, owner)
    assert call.recording == "rec-2"
    assert not Task.objects.exists()


def test_an_outgoing_call_and_its_recording_arriving_later(zadarma, admin, owner):
    extensions_set(actor=admin, telephony=zadarma, extensions={"101": owner})
    out = {"event": "NOTIFY_OUT_END", "call_start": START, "pbx_call_id": "out-1",
           "caller_id": "74951112233", "destination": "79161234567", "internal": "101",
           "duration": "42", "disposition": "answered", "status_code": "16",
           "is_recorded": "1", "call_id_with_rec": ""}  # fmt: skip
    record = {"event": "NOTIFY_RECORD", "pbx_call_id": "out-1", "call_id_with_rec": "rec-9"}
    notify(zadarma, out)
    notify(zadarma, record)
    call = Call.objects.get()
    assert (call.direction, call.state, call.user, call.recording) == (
        "out",
        Call.ENDED,
        owner,
        "rec-9",
    )
    # Nobody is created for a number we called that no client has.
    assert not Person.objects.exists()


def test_a_recording_before_its_call_waits_for_the_call(zadarma):
    record = {"event": "NOTIFY_RECORD", "pbx_call_id": "in-3", "call_id_with_rec": "rec-3"}
    assert notify(zadarma, record).status_code == 200
    assert CallEvent.objects.get().state == CallEvent.PENDING
    notify(zadarma, end("in-3", "answered", "20"))
    from accord.comms.services.calls import call_events_apply

    call_events_apply(list(CallEvent.objects.filter(state="pending").values_list("pk", flat=True)))
    assert Call.objects.get().recording == "rec-3"


def test_a_notification_signed_with_another_secret_is_refused(zadarma):
    response = notify(zadarma, start("in-4"), secret="someone-else")
    assert response.status_code == 403
    assert not Call.objects.exists() and not CallEvent.objects.exists()


def test_an_event_accord_does_not_read_is_a_400(zadarma):
    response = Client().post(
        f"/hooks/telephony/{zadarma.hook_token}/",
        "event=NOTIFY_IVR",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert "NOTIFY_IVR" in response.json()["error"]


def test_a_start_on_another_clock_than_the_companys_is_not_taken(zadarma):
    """Zadarma's account on Moscow time, the company on another zone: the call starts when
    its event came, not hours away."""
    moment = on_the_pbx_clock("2026-12-05 15:40:00")  # five and a half hours after START
    with time_machine.travel(moment, tick=False):
        notify(zadarma, start("in-9"))
    assert Call.objects.get().started_at == moment
