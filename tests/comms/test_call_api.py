"""The calls in the API: as the timelines show them (whoever may see the client sees the
call, a 404 for anyone else), filtered by client, state and direction; the telephony
connections for administrators, never with their secret."""

import json

from django.test import Client

from accord.accounts.services import token_create
from accord.comms.models import Call
from accord.comms.services.calls import telephony_save
from accord.comms.telephony import generic_signature
from accord.contacts.services import person_create
from tests.conftest import ApiClient, run_worker


def deliver(telephony, events):
    body = json.dumps(events).encode()
    answer = Client().post(
        f"/hooks/telephony/{telephony.hook_token}/", body, content_type="application/json",
        headers={"X-Accord-Signature": generic_signature("s3cret", body)},
    )  # fmt: skip
    run_worker()
    return answer


def api_of(user) -> ApiClient:
    _token, key = token_create(user=user, name="tests")
    return ApiClient(key)


def test_calls_are_listed_for_those_who_see_their_client(admin, otto):
    telephony = telephony_save(actor=admin, data={"name": "PBX", "secret": "s3cret"})
    karl = person_create(actor=otto, data={"first_name": "Karl", "phones": ["+79161110000"]})
    person_create(actor=admin, data={"first_name": "Vera", "phones": ["+79162220000"]})
    deliver(telephony, [
        {"call_id": "k1", "event": "missed", "direction": "in", "from": "+79161110000"},
        {"call_id": "v1", "event": "ended", "direction": "out", "to": "+79162220000",
         "duration": 30},
    ])  # fmt: skip
    mine = api_of(otto).get("/api/v1/calls").json()["items"]
    assert [(c["person"], c["state"]) for c in mine] == [(str(karl.pk), "missed")]
    everyone = api_of(admin)
    assert len(everyone.get("/api/v1/calls").json()["items"]) == 2
    missed = everyone.get("/api/v1/calls?state=missed").json()["items"]
    assert [c["number"] for c in missed] == ["+79161110000"]
    assert missed[0]["task"] is not None
    hidden = Call.objects.get(provider_call_id="v1")
    assert api_of(otto).get(f"/api/v1/calls/{hidden.pk}").status_code == 404
    assert everyone.get("/api/v1/calls?person=²").status_code == 400  # a digit int() refuses
    bad = everyone.get("/api/v1/calls?state=exploded&colour=red")
    assert bad.status_code == 400
    assert {e["field"] for e in bad.json()["errors"]} == {"state", "colour"}


def test_connections_are_for_administrators_and_never_show_the_secret(admin, owner):
    telephony = telephony_save(actor=admin, data={"name": "PBX", "secret": "s3cret"})
    answer = api_of(admin).get("/api/v1/telephony")
    item = answer.json()["items"][0]
    assert item["secret_set"] is True and "s3cret" not in answer.content.decode()
    assert item["hook_path"] == f"/hooks/telephony/{telephony.hook_token}/"
    assert api_of(owner).get("/api/v1/telephony").status_code == 404


def test_a_call_someone_took_with_a_client_they_may_not_see_stays_hidden(admin, otto):
    from accord.comms.services.calls import extensions_set
    from accord.contacts.models import Person

    telephony = telephony_save(actor=admin, data={"name": "PBX", "secret": "s3cret"})
    extensions_set(actor=admin, telephony=telephony, extensions={"101": otto})
    person_create(actor=admin, data={"first_name": "Vera", "phones": ["+79162220000"]})
    deliver(telephony, [{"call_id": "v1", "event": "ringing", "direction": "in",
                         "from": "+79162220000", "extension": "101"}])  # fmt: skip
    client = Client()
    from tests.conftest import log_in

    assert log_in(client, otto.email)
    ringing = client.get("/calls/ringing/").content.decode()
    assert "A client" in ringing and "Vera" not in ringing
    deliver(telephony, [{"call_id": "v1", "event": "ended", "direction": "in",
                         "from": "+79162220000", "extension": "101", "duration": 9}])  # fmt: skip
    assert api_of(otto).get("/api/v1/calls").json()["items"] == []
    assert Person.objects.count() == 1
