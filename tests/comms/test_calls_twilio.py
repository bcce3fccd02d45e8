"""Twilio's voice status callbacks and recording callbacks as Twilio sends them: form
fields signed in `X-Twilio-Signature` (HMAC-SHA1 of the address Twilio called and the
sorted parameters, under the auth token); the recording fetched with the account's key.

An inbound call runs the number's TwiML, so Twilio itself "answers" it: whether a person
did is told by the leg <Dial> rings (a softphone "client:alice", a SIP phone
"sip:101@…", a mobile), which carries the call's sid as its ParentCallSid, or by <Dial>'s
action callback."""

import base64
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import Client

from accord.accounts.services import user_create
from accord.comms.models import Call, CallEvent
from accord.comms.services.calls import extensions_set, telephony_save
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


@pytest.fixture
def alice(admin, twilio):
    user = user_create(email="alice@example.com", password="x" * 12, role="manager")
    extensions_set(actor=admin, telephony=twilio, extensions={"alice": user, "101": admin})
    return user


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


def leg(parent: str, sid: str, call_status: str, to: str, **more) -> dict:
    """The leg <Dial> rings, as its statusCallback tells it."""
    return status(sid, call_status, ParentCallSid=parent, Direction="outbound-dial", To=to,
                  **more)  # fmt: skip


def at(second: int) -> str:
    return f"Sun, 06 Dec 2026 10:{second // 60:02d}:{second % 60:02d} +0000"


def test_an_unanswered_inbound_call_is_missed_and_becomes_a_task(twilio):
    assert callback(twilio, status("CA1", "ringing")).status_code == 200
    assert callback(twilio, status("CA1", "no-answer", CallDuration="0")).status_code == 200
    call = Call.objects.get()
    assert (call.state, call.disposition, call.number) == (Call.MISSED, "no-answer",
                                                            "+79161234567")  # fmt: skip
    assert Person.objects.get().pk == call.person_id
    assert Task.objects.get().person_id == call.person_id


def test_a_completed_call_and_its_recording_play_through_accord(
    twilio, alice, settings, httpserver, admin
):
    settings.ACCORD_WEBHOOK_ALLOWED_HOSTS = [f"{httpserver.host}:{httpserver.port}"]
    settings.ACCORD_TWILIO_HOST = httpserver.host  # Twilio's own, played here
    callback(twilio, status("CA2", "in-progress"))
    callback(twilio, leg("CA2", "CA2b", "in-progress", "client:alice"))
    callback(twilio, status("CA2", "completed", CallDuration="95"))
    recording = httpserver.url_for(f"/2010-04-01/Accounts/{ACCOUNT}/Recordings/RE1")
    callback(twilio, {"AccountSid": ACCOUNT, "CallSid": "CA2", "RecordingSid": "RE1",
                      "RecordingUrl": recording, "RecordingStatus": "completed"})  # fmt: skip
    call = Call.objects.get()
    assert (call.state, call.recording) == (Call.ENDED, recording)
    basic = "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
    httpserver.expect_request(
        f"/2010-04-01/Accounts/{ACCOUNT}/Recordings/RE1.mp3", headers={"Authorization": basic}
    ).respond_with_data(AUDIO, content_type="audio/mpeg")
    client = Client()
    assert log_in(client, admin.email)
    played = client.get(f"/calls/{call.pk}/recording/")
    assert played.status_code == 200 and played.content == AUDIO


def test_a_call_answered_on_a_softphone_is_the_agents_and_lasts_from_the_answer(twilio, alice):
    callback(twilio, status("CA6", "ringing", Timestamp=at(0)))
    callback(twilio, status("CA6", "in-progress", Timestamp=at(1)))  # Twilio runs the TwiML
    assert Call.objects.get().state == Call.RINGING
    callback(twilio, leg("CA6", "CA6b", "ringing", "client:alice", Timestamp=at(2)))
    call = Call.objects.get()
    assert (call.state, call.extension, call.user) == (Call.RINGING, "alice", alice)
    callback(twilio, leg("CA6", "CA6b", "in-progress", "client:alice", Timestamp=at(10)))
    callback(twilio, leg("CA6", "CA6b", "completed", "client:alice", CallDuration="50",
                         Timestamp=at(60)))  # fmt: skip
    callback(twilio, status("CA6", "completed", CallDuration="61", Timestamp=at(61)))
    call = Call.objects.get()  # the legs are one call
    assert (call.state, call.user, call.direction, call.number) == (
        Call.ENDED, alice, "in", "+79161234567")  # fmt: skip
    assert call.duration == 51  # from alice's answer to the end, not Twilio's pickup
    assert not Task.objects.exists()


def test_a_call_twilio_took_but_no_phone_answered_is_missed(twilio, alice):
    callback(twilio, status("CA7", "in-progress"))
    callback(twilio, leg("CA7", "CA7b", "ringing", "sip:101@acme.sip.twilio.com"))
    assert Call.objects.get().extension == "101"
    callback(twilio, leg("CA7", "CA7b", "no-answer", "sip:101@acme.sip.twilio.com"))
    assert Call.objects.get().state == Call.RINGING  # the voicemail may still play
    callback(twilio, status("CA7", "completed", CallDuration="40"))
    call = Call.objects.get()
    assert call.state == Call.MISSED
    assert Task.objects.get().person_id == call.person_id


def test_dials_action_callback_tells_the_answer_and_ends_the_twiml(twilio):
    callback(twilio, status("CA8", "in-progress"))
    dialed = {"DialCallSid": "CA8b", "DialCallStatus": "completed", "DialCallDuration": "42"}
    answer = callback(twilio, {**status("CA8", "in-progress"), **dialed})
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/xml")
    assert answer.content.endswith(b"<Response/>")  # nothing more for the call to do
    callback(twilio, status("CA8", "completed", CallDuration="50"))
    call = Call.objects.get()
    assert call.state == Call.ENDED and 41 <= call.duration <= 43
    missed = {**status("CA9", "in-progress"), "DialCallSid": "CA9b", "DialCallStatus": "busy"}
    assert callback(twilio, missed).status_code == 200
    callback(twilio, status("CA9", "completed", CallDuration="20"))
    assert Call.objects.get(provider_call_id="CA9").state == Call.MISSED


def test_a_call_from_a_softphone_is_the_agents_outgoing_call(twilio, alice):
    made = {"From": "client:alice", "To": "+79161234567"}
    callback(twilio, status("CA10", "in-progress", **made))
    callback(twilio, leg("CA10", "CA10b", "ringing", "+79161234567", From="+74955550100"))
    callback(twilio, leg("CA10", "CA10b", "in-progress", "+79161234567", From="+74955550100"))
    callback(twilio, status("CA10", "completed", CallDuration="30", **made))
    call = Call.objects.get()
    assert (call.direction, call.number, call.user, call.state) == (
        "out", "+79161234567", alice, Call.ENDED)  # fmt: skip
    unanswered = {"From": "client:alice", "To": "+79161234568"}
    callback(twilio, status("CA11", "in-progress", **unanswered))
    callback(twilio, leg("CA11", "CA11b", "no-answer", "+79161234568", From="+74955550100"))
    callback(twilio, status("CA11", "completed", CallDuration="25", **unanswered))
    assert Call.objects.get(provider_call_id="CA11").state == Call.NOT_REACHED
    # Dial's action callback first (a softphone's call whose own callbacks come at its end).
    dialed = {"From": "client:alice", "To": "+79161234569", "DialCallSid": "CA13b",
              "DialCallStatus": "completed", "DialCallDuration": "12"}  # fmt: skip
    callback(twilio, status("CA13", "in-progress", **dialed))
    call = Call.objects.get(provider_call_id="CA13")
    assert (call.direction, call.number, call.user, call.line) == ("out", "+79161234569",
                                                                    alice, "")  # fmt: skip
    internal = {"From": "client:alice", "To": "client:bob"}
    assert (
        callback(twilio, status("CA12", "completed", CallDuration="9", **internal)).status_code
        == 200
    )
    assert not Call.objects.filter(provider_call_id="CA12").exists()  # no client's call


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
