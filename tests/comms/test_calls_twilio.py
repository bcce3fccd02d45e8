"""Twilio's voice status callbacks and recording callbacks as Twilio sends them: form
fields signed in `X-Twilio-Signature` (HMAC-SHA1 of the address Twilio called and the
sorted parameters, under the auth token); the recording fetched with the account's key."""

import base64
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import Client

from accord.comms.models import Call, CallEvent
from accord.comms.services.calls import telephony_save
from accord.comms.telephony import twilio_signature
from accord.contacts.models import Person
from accord.work.models import Task
from tests.conftest import log_in, run_worker

ACCOUNT, TOKEN = "AC0123456789abcdef0123456789abcdef", "twilio-auth-token"
AUDIO = b"ID3\x03\x00twilio-mp3" * 50
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def twilio(admin):
    return telephony_save(actor=admin, data={
        "name": "Twilio", "provider": "twilio", "api_key": ACCOUNT, "secret": TOKEN,
    })  # fmt: skip


def callback(connection, params: dict, *, token: str = TOKEN):
    path = f"/hooks/telephony/{connection.hook_token}/"
    signature = twilio_signature(token, settings.ACCORD_BASE_URL + path, params)
    answer = Client().post(path, urlencode(params), content_type=FORM,
                           headers={"X-Twilio-Signature": signature})  # fmt: skip
    run_worker()
    return answer


def status(sid: str, call_status: str, **more) -> dict:
    numbers = {"From": "+79161234567", "To": "+74955550100"}
    return {"AccountSid": ACCOUNT, "CallSid": sid, "CallStatus": call_status,
            "Direction": "inbound", **numbers, **more}  # fmt: skip


def test_an_unanswered_inbound_call_is_missed_and_becomes_a_task(twilio):
    assert callback(twilio, status("CA1", "ringing")).status_code == 200
    assert callback(twilio, status("CA1", "no-answer", CallDuration="0")).status_code == 200
    call = Call.objects.get()
    assert (call.state, call.disposition, call.number) == (Call.MISSED, "no-answer",
                                                            "+79161234567")  # fmt: skip
    assert Person.objects.get().pk == call.person_id
    assert Task.objects.get().person_id == call.person_id


def test_a_completed_call_and_its_recording_play_through_accord(
    twilio, settings, httpserver, admin
):
    settings.ACCORD_WEBHOOK_ALLOWED_HOSTS = [f"{httpserver.host}:{httpserver.port}"]
    settings.ACCORD_TWILIO_HOST = httpserver.host  # Twilio's own, played here
    callback(twilio, status("CA2", "in-progress"))
    callback(twilio, status("CA2", "completed", CallDuration="95"))
    recording = httpserver.url_for(f"/2010-04-01/Accounts/{ACCOUNT}/Recordings/RE1")
    callback(twilio, {"AccountSid": ACCOUNT, "CallSid": "CA2", "RecordingSid": "RE1",
                      "RecordingUrl": recording, "RecordingStatus": "completed"})  # fmt: skip
    call = Call.objects.get()
    assert (call.state, call.duration, call.recording) == (Call.ENDED, 95, recording)
    basic = "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
    httpserver.expect_request(
        f"/2010-04-01/Accounts/{ACCOUNT}/Recordings/RE1.mp3", headers={"Authorization": basic}
    ).respond_with_data(AUDIO, content_type="audio/mpeg")
    client = Client()
    assert log_in(client, admin.email)
    played = client.get(f"/calls/{call.pk}/recording/")
    assert played.status_code == 200 and played.content == AUDIO


def test_an_outbound_call_nobody_answered_is_not_reached(twilio):
    params = {**status("CA3", "busy"), "Direction": "outbound-api", "From": "+74955550100",
              "To": "+79161234567"}  # fmt: skip
    callback(twilio, params)
    call = Call.objects.get()
    assert (call.direction, call.state, call.number) == ("out", Call.NOT_REACHED, "+79161234567")


def test_a_callback_signed_with_another_token_or_for_another_address_is_refused(twilio):
    assert callback(twilio, status("CA4", "ringing"), token="not-ours").status_code == 403
    path = f"/hooks/telephony/{twilio.hook_token}/"
    params = status("CA4", "ringing")
    forged = twilio_signature(TOKEN, "https://elsewhere.example" + path, params)
    answer = Client().post(path, urlencode(params), content_type=FORM,
                           headers={"X-Twilio-Signature": forged})  # fmt: skip
    assert answer.status_code == 403
    assert not CallEvent.objects.exists()


def test_a_status_accord_does_not_read_is_a_400(twilio):
    answer = callback(twilio, status("CA5", "teleported"))
    assert answer.status_code == 400 and "teleported" in answer.json()["error"]
