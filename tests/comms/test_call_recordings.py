"""A call's recording plays on the timeline through Accord: fetched from the PBX (a
generic one's address, or Zadarma's API link) for whoever may see the call, never
showing the PBX's address, and a 404 for anyone else."""

import json

import pytest
from django.test import Client

from accord.comms.models import Call
from accord.comms.services.calls import telephony_save
from accord.comms.telephony import generic_signature, zadarma_api_headers
from accord.contacts.services import person_create
from tests.conftest import log_in, run_worker

AUDIO = b"ID3\x03\x00fake-mp3-frames" * 100


@pytest.fixture
def pbx_server(settings, httpserver):
    settings.ACCORD_WEBHOOK_ALLOWED_HOSTS = [f"{httpserver.host}:{httpserver.port}"]
    settings.ACCORD_ZADARMA_API = httpserver.url_for("/")
    return httpserver


def talk(telephony, recording_url: str):
    events = [{"call_id": "c1", "event": "ended", "direction": "in", "from": "+79161234567",
               "duration": 65, "recording_url": recording_url}]  # fmt: skip
    body = json.dumps(events).encode()
    Client().post(f"/hooks/telephony/{telephony.hook_token}/", body,
                  content_type="application/json",
                  headers={"X-Accord-Signature": generic_signature("s3cret", body)})  # fmt: skip
    run_worker()
    return Call.objects.get()


def test_the_recording_plays_through_accord_for_those_who_see_the_call(
    pbx_server, admin, owner, admin_client, otto
):
    pbx_server.expect_request("/rec/c1.mp3").respond_with_data(AUDIO, content_type="audio/mpeg")
    telephony = telephony_save(actor=admin, data={"name": "PBX", "secret": "s3cret"})
    person_create(actor=admin, data={"first_name": "Vera", "owner": owner,
                                     "phones": ["+79161234567"]})  # fmt: skip
    call = talk(telephony, pbx_server.url_for("/rec/c1.mp3"))

    card = admin_client.get(f"/clients/people/{call.person_id}/").content.decode()
    assert f"/calls/{call.pk}/recording/" in card
    assert "/rec/c1.mp3" not in card  # the PBX's address stays on the server
    played = admin_client.get(f"/calls/{call.pk}/recording/")
    assert played.status_code == 200 and played.content == AUDIO
    assert played["Content-Type"] == "audio/mpeg"

    client = Client()
    assert log_in(client, otto.email)
    assert client.get(f"/calls/{call.pk}/recording/").status_code == 404


def test_a_zadarma_recording_is_asked_of_its_api_with_the_signed_key(pbx_server, admin):
    zadarma = {"name": "Zadarma", "provider": "zadarma", "api_key": "key1", "secret": "zsecret"}
    telephony = telephony_save(actor=admin, data=zadarma)
    Call.objects.create(telephony=telephony, provider_call_id="p1", direction="in",
                        number="+79161234567", state=Call.ENDED, recording="rec-77",
                        started_at="2026-12-05T10:00:00Z")  # fmt: skip
    params = {"call_id": "rec-77", "lifetime": "600"}
    signed = zadarma_api_headers("key1", "zsecret", "/v1/pbx/record/request/", params)
    pbx_server.expect_request(
        "/v1/pbx/record/request/", query_string=params, headers=signed
    ).respond_with_json({"status": "success", "link": pbx_server.url_for("/files/rec-77.mp3")})
    pbx_server.expect_request("/files/rec-77.mp3").respond_with_data(
        AUDIO, content_type="audio/mpeg"
    )
    client = Client()
    assert log_in(client, admin.email)
    played = client.get(f"/calls/{Call.objects.get().pk}/recording/")
    assert played.status_code == 200 and played.content == AUDIO


def test_a_pbx_that_does_not_give_the_recording_is_a_502_with_its_reason(
    pbx_server, admin, admin_client
):
    pbx_server.expect_request("/rec/gone.mp3").respond_with_data("gone", status=404)
    telephony = telephony_save(actor=admin, data={"name": "PBX", "secret": "s3cret"})
    call = talk(telephony, pbx_server.url_for("/rec/gone.mp3"))
    played = admin_client.get(f"/calls/{call.pk}/recording/")
    assert played.status_code == 502
    said = played.content.decode()
    assert "did not give the recording" in said and pbx_server.host not in said  # logged only


def test_call_beside_a_number_asks_zadarma_to_ring_the_users_phone_first(
    pbx_server, admin, owner, manager_client
):
    from accord.comms.services.calls import extensions_set

    zadarma = {"name": "Zadarma", "provider": "zadarma", "api_key": "key1", "secret": "zsecret"}
    telephony = telephony_save(actor=admin, data=zadarma)
    vera = person_create(actor=owner, data={"first_name": "Vera", "phones": ["+79161234567"]})
    card = f"/clients/people/{vera.pk}/"
    assert "/calls/dial/" not in manager_client.get(card).content.decode()  # no extension yet

    extensions_set(actor=admin, telephony=telephony, extensions={"101": owner})
    assert "/calls/dial/" in manager_client.get(card).content.decode()
    params = {"from": "101", "to": "79161234567"}
    signed = zadarma_api_headers("key1", "zsecret", "/v1/request/callback/", params)
    pbx_server.expect_oneshot_request(
        "/v1/request/callback/", query_string=params, headers=signed
    ).respond_with_json({"status": "success", "from": 101, "to": 79161234567})
    answer = manager_client.post("/calls/dial/", {"number": "+79161234567", "next": card},
                                 follow=True)  # fmt: skip
    assert "Your phone rings now" in answer.content.decode()
    pbx_server.check_assertions()

    pbx_server.expect_oneshot_request("/v1/request/callback/").respond_with_json(
        {"status": "error", "message": "Not enough money"}
    )
    answer = manager_client.post("/calls/dial/", {"number": "+79161234567", "next": card},
                                 follow=True)  # fmt: skip
    assert "Not enough money" in answer.content.decode()


def test_call_without_a_dialing_extension_is_a_404(manager_client):
    assert manager_client.post("/calls/dial/", {"number": "+79161234567"}).status_code == 404
