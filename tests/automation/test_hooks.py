"""Another system calls a rule's web address: the rule runs on the record the call names,
with the call's values in its texts; bad calls get a clear problem and start nothing."""

import json

import pytest
from django.test import Client

from accord.automation.models import Run
from accord.contacts.services import person_create
from accord.work.models import Notification, Task

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def paid_rule(rule_for, stages):
    return rule_for(
        name="Payment arrived",
        subject="person",
        trigger="webhook",
        actions=[
            {
                "type": "create_task",
                "params": {
                    "title": "{{ person.first_name }} paid {{ trigger.amount }}: book the fitter",
                    "assignee": {"to": "owner"},
                    "due_in": {"amount": 1, "unit": "hours"},
                },
            }
        ],
    )


@pytest.fixture
def vera(owner):
    return person_create(actor=owner, data={"first_name": "Vera", "emails": ["vera@example.com"]})


def call(secret, body, **headers):
    data = body if isinstance(body, bytes) else json.dumps(body)
    return Client().post(
        f"/api/v1/hooks/{secret}", data, content_type="application/json", headers=headers
    )


def test_a_call_by_e_mail_runs_the_rule_on_that_client(paid_rule, vera, owner):
    answer = call(paid_rule.secret, {"email": "Vera@Example.com", "amount": "1,200 AMD"})
    assert answer.status_code == 202
    assert answer.json()["status"] == "done"
    task = Task.objects.get()
    assert (task.title, task.assignee, task.person) == (
        "Vera paid 1,200 AMD: book the fitter",
        owner,
        vera,
    )
    assert Run.objects.get().event == "webhook"


def test_a_repeated_call_with_the_same_idempotency_key_runs_once(paid_rule, vera):
    first = call(paid_rule.secret, {"id": vera.pk, "amount": 5}, **{"Idempotency-Key": "p-1"})
    again = call(paid_rule.secret, {"id": vera.pk, "amount": 5}, **{"Idempotency-Key": "p-1"})
    assert first.status_code == again.status_code == 202
    assert again.json()["run_id"] == first.json()["run_id"]
    assert Task.objects.count() == 1


def test_bad_calls_get_a_clear_problem_and_start_nothing(paid_rule, vera, admin):
    from accord.automation.services import rule_enable

    assert call("not-a-secret", {"id": vera.pk}).status_code == 404
    assert call(paid_rule.secret, b"{not json").status_code == 400
    answer = call(paid_rule.secret, {"email": "nobody@example.com"})
    assert answer.status_code == 422
    assert answer["Content-Type"] == "application/problem+json"
    assert answer.json()["errors"][0]["field"] == "email"
    assert call(paid_rule.secret, {"id": vera.pk, "items": [1, 2]}).status_code == 422
    assert call(paid_rule.secret, [1, 2]).status_code == 422
    assert call(paid_rule.secret, {"amount": 5}).status_code == 422
    assert call(paid_rule.secret, b"{" + b'"x": "' + b"a" * 70_000 + b'"}').status_code == 413
    rule_enable(actor=admin, rule=paid_rule, enabled=False)
    assert call(paid_rule.secret, {"id": vera.pk}).status_code == 422
    assert not Run.objects.exists() and not Task.objects.exists()


def test_a_call_the_rules_conditions_refuse_answers_so(rule_for, vera):
    rule = rule_for(
        subject="person",
        trigger="webhook",
        conditions={
            "match": "all",
            "items": [{"field": "person.city", "op": "eq", "value": "Oslo"}],
        },
        actions=[{"type": "notify", "params": {"to": {"to": "owner"}, "message": "x"}}],
    )
    answer = call(rule.secret, {"id": vera.pk})
    assert (answer.status_code, answer.json()["status"]) == (200, "skipped")
    assert not Notification.objects.filter(kind="automation").exists()


def test_a_request_from_a_new_visitor_becomes_a_client_when_the_rule_says_so(rule_for, admin):
    from accord.contacts.models import Person

    rule = rule_for(
        subject="person",
        trigger="webhook",
        trigger_options={"create": True},
        actions=[{"type": "add_tag", "params": {"tag": "web"}}],
    )
    answer = call(rule.secret, {"phone": "+374 91 234567", "source": "landing page"})
    assert answer.status_code == 202
    visitor = Person.objects.get()
    assert (visitor.first_name, visitor.primary_phone, visitor.source, visitor.owner) == (
        "+374 91 234567",  # no name given: named by what was sent, nothing lost
        "+37491234567",
        "landing page",
        admin,
    )
    assert [tag.name for tag in visitor.tags.all()] == ["web"]
    again = call(rule.secret, {"phone": "+37491234567", "name": "Ani"})
    assert again.status_code == 202 and Person.objects.count() == 1  # found, not made again


def test_odd_numbers_and_json_get_a_problem_not_a_crash(paid_rule, vera):
    assert call(paid_rule.secret, {"id": "²"}).status_code == 422
    assert call(paid_rule.secret, {"id": "99999999999999999999999"}).status_code == 422
    assert call(paid_rule.secret, b'{"id": %d, "a": NaN}' % vera.pk).status_code == 400
    assert call(paid_rule.secret, b"[" * 20_000).status_code == 400
    assert not Run.objects.exists()


def test_an_unknown_address_keeps_no_idempotent_answer(paid_rule, vera):
    from accord.api.models import IdempotentAnswer

    for n in range(3):
        assert call("nope", {"id": 1}, **{"Idempotency-Key": f"k{n}"}).status_code == 404
    assert not IdempotentAnswer.objects.exists()


def test_a_flood_of_calls_pauses_the_rule_and_says_so(rule_for, vera):
    rule = rule_for(
        subject="person",
        trigger="webhook",
        flood_limit=2,
        actions=[{"type": "add_tag", "params": {"tag": "called"}}],
    )
    answers = [call(rule.secret, {"id": vera.pk}) for _n in range(3)]
    assert [a.status_code for a in answers] == [202, 202, 422]
    assert "paused" in answers[-1].json()["errors"][0]["message"]


def test_a_new_request_goes_to_the_teams_rule_though_its_author_is_in_the_team(
    rule_for, admin, owner
):
    """The rule's author (an administrator who heads the team) owns the new client only
    until the team's rule gives it out; a second request stays with its manager."""
    import time_machine
    from django.utils import timezone

    from accord.accounts.services import team_save
    from accord.contacts.models import Person

    team_save(actor=admin, name="Sales", head=admin, members=[admin, owner],
              lead_rule="round_robin")  # fmt: skip
    rule = rule_for(
        subject="person",
        trigger="webhook",
        trigger_options={"create": True},
        actions=[{"type": "assign_owner", "params": {"owner": {"to": "team", "team": "Sales"}}}],
    )
    tuesday = timezone.make_aware(timezone.datetime(2026, 3, 10, 11, 0))
    with time_machine.travel(tuesday, tick=False):
        assert call(rule.secret, {"email": "ani@example.com", "name": "Ani"}).status_code == 202
        assert Person.objects.get().owner == owner
        Person.objects.update(owner=admin)  # say the head took her over
        assert call(rule.secret, {"email": "ani@example.com"}).status_code == 202
    assert Person.objects.get().owner == admin
