"""Calls from a PBX through the webhook, in Accord's JSON format: every call on the
client's timeline, an unknown number becomes a person (once), a missed call becomes a
"call back" task that a later talk closes, and a repeat or an event out of order
changes nothing."""

import json

import pytest
import time_machine
from django.test import Client

from accord.accounts.models import Team
from accord.accounts.services import team_save, user_create
from accord.comms.models import Call, CallEvent, Telephony
from accord.comms.services.calls import extensions_set, telephony_save
from accord.comms.telephony import generic_signature
from accord.contacts.models import ContactPoint, Person
from accord.contacts.services import person_create, person_update
from accord.core.models import TimelineEvent
from accord.work.models import Task
from tests.conftest import PASSWORD, log_in, run_worker

SECRET = "pbx-signing-secret"
CALLER = "+79161234567"


@pytest.fixture
def pbx(admin):
    return telephony_save(actor=admin, data={"name": "Office PBX", "secret": SECRET})


@pytest.fixture
def anna(db):
    return user_create(email="anna@example.com", password=PASSWORD, role="manager",
                       full_name="Anna Manager")  # fmt: skip


def deliver(pbx, events, *, secret=SECRET, signature=None):
    """The PBX posts the events; then the worker takes its turn (it applies them)."""
    body = json.dumps(events).encode()
    headers = {"X-Accord-Signature": signature or generic_signature(secret, body)}
    answer = Client().post(
        f"/hooks/telephony/{pbx.hook_token}/", body, content_type="application/json",
        headers=headers,
    )  # fmt: skip
    run_worker()
    return answer


def deliver_raw(pbx, body: bytes):
    answer = Client().post(
        f"/hooks/telephony/{pbx.hook_token}/", body, content_type="application/json",
        headers={"X-Accord-Signature": generic_signature(SECRET, body)},
    )  # fmt: skip
    run_worker()
    return answer


def incoming(call_id, event, number=CALLER, **more):
    return {"call_id": call_id, "event": event, "direction": "in", "from": number,
            "to": "+74951112233", **more}  # fmt: skip


def test_a_missed_call_from_an_unknown_number_makes_one_person_and_one_call_back_task(pbx, admin):
    assert deliver(pbx, [incoming("c1", "ringing")]).status_code == 200
    assert deliver(pbx, [incoming("c1", "missed")]).status_code == 200

    person = Person.objects.get()
    assert ContactPoint.objects.get(person=person).value == CALLER
    assert person.kind == "lead"
    call = Call.objects.get()
    assert (call.state, call.person_id, call.direction) == (Call.MISSED, person.pk, "in")
    task = Task.objects.get()
    assert task.person_id == person.pk and task.status == Task.OPEN
    assert task.assignee == person.owner
    assert "Call back" in task.title
    entries = TimelineEvent.objects.filter(kind="call", subject_id=person.pk)
    assert entries.count() == 1
    assert entries.get().actor is None  # the caller's doing, not the one whose phone rang

    # The same number calls again and nobody answers: the same person, still one task.
    deliver(pbx, [incoming("c2", "ringing"), incoming("c2", "missed")])
    assert Person.objects.count() == 1
    assert Call.objects.filter(state=Call.MISSED).count() == 2
    assert Task.objects.filter(status=Task.OPEN).count() == 1


def test_a_repeated_or_late_event_changes_nothing(pbx):
    deliver(pbx, [incoming("c1", "ringing"), incoming("c1", "answered", extension="101"),
                  incoming("c1", "ended", duration=125)])  # fmt: skip
    call = Call.objects.get()
    assert (call.state, call.duration) == (Call.ENDED, 125)
    before = (TimelineEvent.objects.count(), CallEvent.objects.count(), Task.objects.count())

    again = deliver(pbx, [incoming("c1", "ended", duration=125)])
    late = deliver(pbx, [incoming("c1", "ringing")])

    assert again.json()["stored"] == 0 and late.json()["stored"] == 0
    assert (TimelineEvent.objects.count(), CallEvent.objects.count(), Task.objects.count()) == (
        before
    )
    call.refresh_from_db()
    assert (call.state, call.duration) == (Call.ENDED, 125)


def test_the_end_before_the_ring_makes_the_same_call(pbx):
    deliver(pbx, [incoming("c9", "ended", duration=40, at="2026-12-05T10:01:00+03:00")])
    deliver(pbx, [incoming("c9", "ringing", at="2026-12-05T10:00:00+03:00")])
    call = Call.objects.get()
    assert call.state == Call.ENDED and call.duration == 40
    assert TimelineEvent.objects.filter(kind="call").count() == 1
    assert not Task.objects.exists()


def test_a_known_client_is_found_by_a_number_typed_another_way(pbx, admin, owner, settings):
    settings.ACCORD_PHONE_REGION = "RU"  # the company's country: numbers typed the local way
    vera = person_create(actor=admin, data={"first_name": "Vera", "owner": owner,
                                            "phones": ["8 (916) 123-45-67"]})  # fmt: skip
    deliver(pbx, [incoming("c1", "missed", number="79161234567")])
    assert Person.objects.count() == 1
    assert Call.objects.get().person == vera
    assert Task.objects.get().assignee == owner


def test_the_extension_that_answers_makes_the_call_that_users(pbx, admin, anna):
    extensions_set(actor=admin, telephony=pbx, extensions={"101": anna})
    deliver(pbx, [incoming("c1", "ringing"), incoming("c1", "answered", extension="101"),
                  incoming("c1", "ended", duration=60)])  # fmt: skip
    call = Call.objects.get()
    assert call.user == anna
    entry = TimelineEvent.objects.get(kind="call")
    assert entry.actor == anna
    # A new caller with nobody's team named goes to the one who took the call.
    assert call.person.owner == anna


def test_calling_back_closes_the_task_and_marks_the_missed_call_returned(pbx, admin, anna):
    extensions_set(actor=admin, telephony=pbx, extensions={"101": anna})
    deliver(pbx, [incoming("c1", "missed")])
    task = Task.objects.get()
    outgoing = {"call_id": "c2", "direction": "out", "from": "+74951112233", "to": CALLER,
                "extension": "101"}  # fmt: skip
    deliver(pbx, [{**outgoing, "event": "answered"}, {**outgoing, "event": "ended",
                                                      "duration": 30}])  # fmt: skip
    task.refresh_from_db()
    assert task.status == Task.DONE
    assert Call.objects.get(provider_call_id="c1").returned_at is not None


def test_an_unanswered_outgoing_call_leaves_the_task_open(pbx, admin):
    deliver(pbx, [incoming("c1", "missed")])
    deliver(pbx, [{"call_id": "c2", "event": "ended", "direction": "out", "to": CALLER,
                   "duration": 0}])  # fmt: skip
    assert Task.objects.get().status == Task.OPEN
    assert Call.objects.get(provider_call_id="c2").state == Call.NOT_REACHED


def test_new_callers_go_to_the_connections_team_by_its_lead_rule(admin, anna):
    team = team_save(actor=admin, name="Sales", head=None, members=[anna],
                     lead_rule=Team.ROUND_ROBIN)  # fmt: skip
    pbx = telephony_save(actor=admin, data={"name": "PBX", "secret": SECRET, "lead_team": team})
    with time_machine.travel("2026-12-08 09:00:00+00:00", tick=True):  # a Tuesday, at work
        deliver(pbx, [incoming("c1", "missed")])
    assert Person.objects.get().owner == anna
    assert Task.objects.get().assignee == anna


def test_a_bad_signature_is_refused_stores_nothing_and_is_kept_for_the_admin(pbx):
    response = deliver(pbx, [incoming("c1", "ringing")], secret="not-the-secret")
    assert response.status_code == 403
    assert not CallEvent.objects.exists() and not Call.objects.exists()
    pbx.refresh_from_db()
    assert "signature" in pbx.problems[0]["reason"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not JSON"),
        (json.dumps({"event": "ringing"}).encode(), "call_id"),
        (json.dumps({"call_id": "x", "event": "exploded", "direction": "in"}).encode(), "event"),
        (json.dumps({**incoming("x", "ringing"), "direction": "sideways"}).encode(), "direction"),
        (json.dumps({**incoming("x", "ended"), "duration": "long"}).encode(), "duration"),
        (json.dumps([1, 2]).encode(), "object"),
    ],
)
def test_a_malformed_delivery_is_a_400_with_its_reason(pbx, body, reason):
    response = Client().post(
        f"/hooks/telephony/{pbx.hook_token}/", body, content_type="application/json",
        headers={"X-Accord-Signature": generic_signature(SECRET, body)},
    )  # fmt: skip
    assert response.status_code == 400
    assert reason in response.json()["error"]
    assert not CallEvent.objects.exists()
    pbx.refresh_from_db()
    assert reason in pbx.problems[0]["reason"]


def test_an_unknown_address_or_a_removed_connection_is_a_404(pbx):
    assert Client().post("/hooks/telephony/nothing-here/", {}).status_code == 404
    Telephony.objects.filter(pk=pbx.pk).update(active=False)
    assert deliver(pbx, [incoming("c1", "ringing")]).status_code == 404


def test_a_connection_turned_off_in_settings_stops_answering_at_once(pbx, admin):
    # The webhook keeps the connection it read for a few seconds (the first delivery
    # notes the connection's last event, the second finds it kept); a change forgets it.
    assert deliver(pbx, [incoming("c1", "ringing")]).status_code == 200
    assert deliver(pbx, [incoming("c1", "answered")]).status_code == 200
    telephony_save(actor=admin, telephony=pbx, data={"name": "Office PBX", "active": False})
    assert deliver(pbx, [incoming("c1", "ended", duration=30)]).status_code == 404
    assert Call.objects.get().state == Call.TALKING


def test_a_new_secret_counts_from_the_next_delivery(pbx, admin):
    assert deliver(pbx, [incoming("c1", "ringing")]).status_code == 200
    assert deliver(pbx, [incoming("c2", "ringing")]).status_code == 200
    telephony_save(actor=admin, telephony=pbx, data={"name": "Office PBX", "secret": "new-one"})
    assert deliver(pbx, [incoming("c1", "answered")]).status_code == 403
    assert deliver(pbx, [incoming("c1", "answered")], secret="new-one").status_code == 200
    assert Call.objects.get(provider_call_id="c1").state == Call.TALKING


def test_a_hidden_number_keeps_the_call_with_nobody(pbx):
    deliver(pbx, [incoming("c1", "missed", number="anonymous")])
    call = Call.objects.get()
    assert call.person is None and call.number == "anonymous"
    assert not Person.objects.exists()
    assert Task.objects.get().assignee == pbx.created_by


def test_the_clients_card_shows_the_calls_and_whether_a_missed_one_was_returned(pbx, admin_client):
    deliver(pbx, [incoming("c1", "missed")])
    person = Person.objects.get()
    card = admin_client.get(f"/clients/people/{person.pk}/").content.decode()
    assert "a missed call" in card and "not called back yet" in card
    outgoing = {"call_id": "c2", "direction": "out", "to": CALLER}
    deliver(pbx, [{**outgoing, "event": "ended", "duration": 75}])
    card = admin_client.get(f"/clients/people/{person.pk}/").content.decode()
    assert "called back" in card and "not called back yet" not in card
    assert "made a call" in card and "1 min 15 s" in card
    assert "Telephony · <bdi>Office PBX</bdi>" in card  # the call-back task, planned by the PBX


def call_rule(admin, trigger: str, title: str):
    from accord.automation.services import rule_save

    return rule_save(actor=admin, data={
        "name": title, "subject": "person", "trigger": trigger, "enabled": True,
        "actions": [{"type": "create_task", "params": {
            "title": title, "kind": "email", "assignee": {"to": "owner"},
            "due_in": {"amount": 1, "unit": "hours"}}}],
    })  # fmt: skip


@pytest.mark.django_db(transaction=True)  # rules run after their events' commit
def test_rules_start_on_a_missed_call_and_on_a_talk(pbx, admin):
    call_rule(admin, "call_missed", "Text them we will call back")
    call_rule(admin, "call_ended", "Write down what was agreed")
    deliver(pbx, [incoming("c1", "missed")])
    person = Person.objects.get()
    titles = set(Task.objects.filter(person=person).values_list("title", flat=True))
    assert "Text them we will call back" in titles
    assert "Write down what was agreed" not in titles
    deliver(pbx, [incoming("c2", "answered"), incoming("c2", "ended", duration=20)])
    titles = set(Task.objects.filter(person=person).values_list("title", flat=True))
    assert "Write down what was agreed" in titles


def test_the_caller_s_card_shows_for_the_user_whose_extension_rings(pbx, admin, owner):
    extensions_set(actor=admin, telephony=pbx, extensions={"101": owner})
    manager = Client()
    assert log_in(manager, owner.email)
    assert 'id="call-watch"' in manager.get("/inbox/badge/").content.decode()
    admin_client = Client()
    assert log_in(admin_client, admin.email)
    assert 'id="call-watch"' not in admin_client.get("/inbox/badge/").content.decode()

    deliver(pbx, [incoming("c1", "ringing", extension="101")])
    ringing = manager.get("/calls/ringing/").content.decode()
    assert "A new client" in ringing and "+7 916 123-45-67" in ringing
    assert "ringing-call" not in admin_client.get("/calls/ringing/").content.decode()

    deliver(
        pbx, [incoming("c1", "answered", extension="101"), incoming("c1", "ended", duration=10)]
    )
    assert "ringing-call" not in manager.get("/calls/ringing/").content.decode()
    named = {"first_name": "Vera", "last_name": "Orlova"}
    person_update(actor=admin, person=Person.objects.get(), data=named)
    deliver(pbx, [incoming("c2", "ringing", extension="101")])
    ringing = manager.get("/calls/ringing/").content.decode()
    assert "Vera Orlova" in ringing and "A new client" not in ringing
    # Put away (×), it stays away while it rings.
    ringing_call = Call.objects.get(provider_call_id="c2")
    assert manager.post(f"/calls/{ringing_call.pk}/put-away/").status_code == 200
    assert "ringing-call" not in manager.get("/calls/ringing/").content.decode()


def test_odd_text_in_an_event_is_a_400_or_kept_clean_never_a_500(pbx):
    bad_date = deliver(pbx, [incoming("c1", "ringing", at="2026-13-45T10:00:00")])
    assert bad_date.status_code == 400 and "ISO 8601" in bad_date.json()["error"]
    lone = json.dumps([incoming("c2", "ringing")]).replace('"in"', '"\\ud800"').encode()
    odd = deliver_raw(pbx, lone)
    assert odd.status_code == 400 and "not valid Unicode" in odd.json()["error"]
    nul = deliver(pbx, [incoming("c3", "ringing", number="+79161234567\u0000")])
    assert nul.status_code == 200
    assert Call.objects.get().number == CALLER  # the NUL dropped


def test_inbox_calls_lists_the_missed_calls_left_to_return_then_every_call(pbx, admin_client):
    outgoing = {"call_id": "o1", "direction": "out", "to": "+79160000002"}
    deliver(pbx, [incoming("c1", "missed"), incoming("c2", "missed", number="+79160000001"),
                  {**outgoing, "event": "ended", "duration": 200}])  # fmt: skip
    assert "/inbox/calls/" in admin_client.get("/inbox/").content.decode()
    missed = admin_client.get("/inbox/calls/").content.decode()
    assert missed.count('class="call-row"') == 2 and "not called back yet" in missed
    deliver(pbx, [{"call_id": "o2", "direction": "out", "to": CALLER, "event": "ended",
                   "duration": 30}])  # fmt: skip
    missed = admin_client.get("/inbox/calls/").content.decode()
    assert missed.count('class="call-row"') == 1 and "+7 916 000-00-01" in missed
    every = admin_client.get("/inbox/calls/?show=all").content.decode()
    assert every.count('class="call-row"') == 4 and "3 min 20 s" in every


def test_inbox_calls_before_any_telephony_says_how_to_connect_one(admin_client, manager_client):
    assert "Connect a PBX" in admin_client.get("/inbox/calls/").content.decode()
    page = manager_client.get("/inbox/calls/").content.decode()
    assert "No telephony yet" in page and "/settings/telephony/new/" not in page


def test_what_follows_a_call_never_undoes_it(pbx, admin, owner, settings):
    """The call-back task's assignee left; the admin who set the PBX up is no longer one;
    an answer then an end with no duration: the call is kept, ended, and the task closed."""
    from accord.accounts.services import user_set_active

    vera = person_create(actor=admin, data={"first_name": "Vera", "owner": owner,
                                            "phones": [CALLER]})  # fmt: skip
    deliver(pbx, [incoming("c1", "missed")])
    task = Task.objects.get()
    assert task.assignee == owner
    user_set_active(actor=admin, user=owner, active=False)
    deliver(pbx, [incoming("c2", "answered"), incoming("c2", "ended")])
    call = Call.objects.get(provider_call_id="c2")
    assert call.state == Call.ENDED and call.person == vera  # answered, not made missed
    task.refresh_from_db()
    assert task.status == Task.DONE
    assert TimelineEvent.objects.filter(kind="call", subject_id=vera.pk).count() == 2


def test_a_signature_in_odd_characters_is_a_403_not_a_500(pbx):
    answer = deliver(pbx, [incoming("c1", "ringing")], signature="sha256=é")
    assert answer.status_code == 403
    deep = b"[" * 100_000
    assert deliver_raw(pbx, deep).status_code == 400


def test_hidden_numbers_are_not_one_caller(pbx):
    deliver(pbx, [incoming("c1", "missed", number="anonymous"),
                  incoming("c2", "missed", number="anonymous")])  # fmt: skip
    assert Task.objects.filter(status=Task.OPEN).count() == 2
    deliver(pbx, [incoming("c3", "answered", number="anonymous"),
                  incoming("c3", "ended", number="anonymous", duration=5)])  # fmt: skip
    assert Task.objects.filter(status=Task.OPEN).count() == 2
    assert not Call.objects.filter(returned_at__isnull=False).exists()


def test_the_team_report_counts_each_employees_phone_calls(pbx, admin, owner, admin_client):
    from accord.comms.services.calls import extensions_set

    extensions_set(actor=admin, telephony=pbx, extensions={"101": owner})
    person_create(actor=admin, data={"first_name": "Vera", "owner": owner, "phones": [CALLER]})
    with time_machine.travel("2026-12-07 10:00:00+00:00", tick=False):
        deliver(pbx, [incoming("c1", "missed"), incoming("c2", "missed", number="+79160000009")])
    with time_machine.travel("2026-12-07 10:12:00+00:00", tick=False):
        outgoing = {"call_id": "o1", "direction": "out", "to": CALLER, "extension": "101"}
        deliver(pbx, [{**outgoing, "event": "answered"},
                      {**outgoing, "event": "ended", "duration": 90}])  # fmt: skip
        deliver(pbx, [incoming("c3", "answered", extension="101"),
                      incoming("c3", "ended", extension="101", duration=30)])  # fmt: skip
    page = admin_client.get("/reports/people/?from=2026-12-01&to=2026-12-31").content.decode()
    row = page[page.index("Olivia Owner") :]
    row = row[: row.index("</tr>")]
    assert "1 / 1" in row  # one taken, one made
    assert "2 min" in row  # 90 + 30 s of talk
    assert "12 min" in row  # Vera's missed call returned 12 minutes later


def test_a_caller_named_by_their_number_reads_left_to_right_in_hebrew(pbx, admin, admin_client):
    """The name holds no letter: isolated (<bdi>), it keeps its order on a right-to-left
    page; the avatar shows "#", not "+9"."""
    from accord.accounts.services import user_update

    deliver(pbx, [incoming("c1", "missed")])
    user_update(actor=admin, user=admin, language="he")
    person = Person.objects.get()
    card = admin_client.get(f"/clients/people/{person.pk}/").content.decode()
    assert '<h1 class="page-title"><bdi>+7 916 123-45-67</bdi></h1>' in card
    listed = admin_client.get("/clients/people/").content.decode()
    assert "<strong><bdi>+7 916 123-45-67</bdi></strong>" in listed
    assert '<span class="avatar avatar-sm" aria-hidden="true">#</span>' in listed
