"""The engine through the services: events start runs of matching rules, which create
tasks, notify, wait, branch, retry, and stop at the loop and flood guards."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from accord.accounts.services import user_create
from accord.automation import engine, scheduler
from accord.automation.models import Run, RunStep
from accord.automation.services import rule_run, rule_save, rules_check
from accord.core.timeline import timeline_of
from accord.sales.services import deal_create, deal_move, deal_update
from accord.work.models import Notification, Task
from tests.conftest import PASSWORD

# Rules run on events, which services announce when their transaction commits: these
# tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)

CALL_TASK = {
    "type": "create_task",
    "params": {
        "title": "Call {{ client.first_name }} about {{ deal.title }}",
        "kind": "call",
        "assignee": {"to": "owner"},
        "due_in": {"amount": 15, "unit": "minutes"},
    },
}


def notify_owner(message="{{ deal.title }}: look"):
    return {"type": "notify", "params": {"to": {"to": "owner"}, "message": message}}


@pytest.fixture
def anna(admin):
    from accord.contacts.services import person_create

    return person_create(actor=admin, data={"first_name": "Anna", "last_name": "Petrova"})


def test_a_new_deal_gets_a_call_task_for_its_owner_due_in_15_minutes(
    admin, owner, stages, rule_for, anna
):
    rule = rule_for(name="Call new requests", actions=[CALL_TASK])
    moment = timezone.now().replace(microsecond=0)
    with time_machine.travel(moment, tick=False):
        deal = deal_create(actor=owner, data={"title": "3 windows", "person": anna})
    task = Task.objects.get(deal=deal)
    assert (task.title, task.assignee, task.due_at) == (
        "Call Anna about 3 windows",
        owner,
        moment + timedelta(minutes=15),
    )
    run = Run.objects.get(rule=rule)
    assert (run.status, run.event, run.subject_id, run.depth) == (
        "done",
        "deal.created",
        deal.pk,
        0,
    )
    step = run.steps.get()
    assert step.status == "done" and "Call Anna about 3 windows" in step.message
    # Once on the timeline: the planned task, by "Automation · Call new requests".
    planned = [e for e in timeline_of(deal) if e.kind == "task_added"]
    assert [e.data.get("by_rule") for e in planned] == ["Call new requests"]
    assert not [e for e in timeline_of(deal) if e.kind == "automation"]


def test_conditions_choose_the_deals(admin, owner, stages, rule_for):
    rule_for(
        actions=[notify_owner()],
        conditions={
            "match": "all",
            "items": [
                {"field": "deal.amount", "op": "gte", "value": "1000"},
                {
                    "match": "any",
                    "items": [
                        {"field": "deal.title", "op": "contains", "value": "window"},
                        {"field": "deal.source", "op": "eq", "value": "web"},
                    ],
                },
            ],
        },
    )
    deal_create(actor=owner, data={"title": "Windows", "amount": "1500"})
    deal_create(actor=owner, data={"title": "Door", "amount": "5000", "source": "web"})
    deal_create(actor=owner, data={"title": "Windows", "amount": "999"})
    deal_create(actor=owner, data={"title": "Door", "amount": "5000"})
    texts = sorted(
        Notification.objects.filter(kind="automation").values_list("data__message", flat=True)
    )
    assert texts == ["Door: look", "Windows: look"]


def test_a_wait_goes_on_when_its_time_comes_through_the_scheduler(admin, owner, stages, rule_for):
    rule_for(actions=[{"type": "wait", "params": {"amount": 2, "unit": "hours"}}, notify_owner()])
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        deal_create(actor=owner, data={"title": "Balcony"})
    run = Run.objects.get()
    assert (run.status, run.due_at) == ("waiting", start + timedelta(hours=2))
    assert scheduler.tick(start + timedelta(hours=1)) == 0
    assert not Notification.objects.filter(kind="automation").exists()
    later = start + timedelta(hours=2, seconds=1)
    with time_machine.travel(later, tick=False):
        assert scheduler.tick(later) == 1
        assert scheduler.tick(later) == 0  # exactly once
    run.refresh_from_db()
    assert run.status == "done"
    assert Notification.objects.filter(kind="automation", user=owner).count() == 1


def test_a_wait_until_a_condition_holds_takes_its_timeout_way_when_it_never_does(
    admin, owner, stages, rule_for
):
    rule_for(
        actions=[
            {
                "type": "wait",
                "params": {
                    "until": {"items": [{"field": "deal.stage", "op": "eq", "value": "Offer"}]},
                    "timeout": {"amount": 1, "unit": "days"},
                },
                "timeout_steps": [notify_owner("{{ deal.title }} stuck")],
            },
            notify_owner("{{ deal.title }} reached the offer"),
        ]
    )
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fast = deal_create(actor=owner, data={"title": "Fast"})
        deal_create(actor=owner, data={"title": "Slow"})
    with time_machine.travel(start + timedelta(hours=3), tick=False):
        deal_move(actor=owner, deal=fast, stage=fast.pipeline.stages.get(name="Offer"))
        scheduler.tick(timezone.now() + timedelta(minutes=10))
    with time_machine.travel(start + timedelta(days=1, minutes=1), tick=False):
        scheduler.tick(timezone.now())
    texts = sorted(
        Notification.objects.filter(kind="automation").values_list("data__message", flat=True)
    )
    assert texts == ["Fast reached the offer", "Slow reached the offer", "Slow stuck"]
    assert set(Run.objects.values_list("status", flat=True)) == {"done"}


def test_a_branch_takes_one_way(admin, owner, stages, rule_for):
    rule_for(
        actions=[
            {
                "type": "branch",
                "if": {"items": [{"field": "deal.amount", "op": "gt", "value": "10000"}]},
                "then": [notify_owner("{{ deal.title }} is big")],
                "else": [notify_owner("{{ deal.title }} is small")],
            },
            notify_owner("{{ deal.title }} done"),
        ]
    )
    deal_create(actor=owner, data={"title": "Tower", "amount": "20000"})
    deal_create(actor=owner, data={"title": "Window", "amount": "300"})
    texts = sorted(
        Notification.objects.filter(kind="automation").values_list("data__message", flat=True)
    )
    assert texts == ["Tower done", "Tower is big", "Window done", "Window is small"]


def test_a_failing_step_is_retried_with_back_off_then_fails_and_the_author_is_told(
    admin, owner, stages, rule_for, monkeypatch
):
    from accord.automation import actions

    calls = []

    def flaky(step, params):
        calls.append(step.now)
        raise ConnectionError("the mail server is down")

    monkeypatch.setattr(actions.ACTIONS["notify"], "run", flaky)
    rule_for(name="Flaky", actions=[notify_owner()])
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        deal_create(actor=owner, data={"title": "Balcony"})
    run = Run.objects.get()
    assert (run.status, run.attempts, run.due_at) == ("queued", 1, start + engine.RETRIES[0])
    moment = start
    for delay in engine.RETRIES:
        moment += delay + timedelta(seconds=1)
        scheduler.tick(moment)
    run.refresh_from_db()
    assert run.status == "failed" and "mail server is down" in run.error
    assert len(calls) == len(engine.RETRIES) + 1
    assert run.steps.filter(status="failed").count() == len(engine.RETRIES) + 1
    told = Notification.objects.get(user=admin, kind="automation")
    assert "Flaky" in told.data["message"]


def test_a_rule_changing_what_triggers_it_stops_at_its_depth(admin, owner, stages, rule_for):
    rule = rule_for(
        trigger="updated",
        max_depth=2,
        actions=[
            {"type": "change_field", "params": {"field": "source", "value": "{{ deal.source }}x"}}
        ],
    )
    deal = deal_create(actor=owner, data={"title": "Loop"})
    deal_update(actor=owner, deal=deal, data={"source": "web"})
    deal.refresh_from_db()
    assert deal.source == "webxxx"  # the change, then two levels of rules triggering rules
    runs = list(Run.objects.filter(rule=rule).order_by("id").values_list("depth", "status"))
    assert runs == [(0, "done"), (1, "done"), (2, "done"), (3, "skipped")]
    assert "3 deep" in Run.objects.get(depth=3).reason


def test_a_runaway_rule_is_paused_with_a_notice(admin, owner, stages, rule_for):
    rule = rule_for(trigger="updated", flood_limit=3, actions=[notify_owner()])
    deal = deal_create(actor=owner, data={"title": "Busy"})
    for n in range(5):
        deal_update(actor=owner, deal=deal, data={"source": f"s{n}"})
    rule.refresh_from_db()
    assert rule.paused_at is not None and "3 times in a minute" in rule.paused_reason
    assert Run.objects.filter(rule=rule).count() == 3
    told = Notification.objects.filter(user=admin, kind="automation")
    assert any("paused" in notice.data["message"] for notice in told)


def test_editing_a_rule_leaves_a_waiting_run_on_its_version(admin, owner, stages, rule_for):
    rule = rule_for(
        actions=[
            {"type": "wait", "params": {"amount": 1, "unit": "hours"}},
            notify_owner("old text"),
        ]
    )
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        deal_create(actor=owner, data={"title": "Balcony"})
    rule_save(
        actor=admin, rule=rule, data={"name": rule.name, "actions": [notify_owner("new text")]}
    )
    scheduler.tick(start + timedelta(hours=1, seconds=1))
    assert Notification.objects.get(kind="automation").data["message"] == "old text"
    deal_create(actor=owner, data={"title": "Door"})
    assert Notification.objects.filter(data__message="new text").count() == 1
    assert list(rule.versions.values_list("number", flat=True)) == [2, 1]


def test_a_rule_naming_a_deactivated_user_is_flagged_broken_and_skipped(
    admin, owner, stages, rule_for
):
    from accord.accounts.services import user_set_active

    measurer = user_create(email="mark@example.com", password=PASSWORD, role="manager")
    rule = rule_for(
        actions=[
            {
                "type": "create_task",
                "params": {
                    "title": "Measure",
                    "assignee": {"to": "user", "user": "mark@example.com"},
                    "due_in": {"amount": 1, "unit": "days"},
                },
            }
        ]
    )
    user_set_active(actor=admin, user=measurer, active=False)
    assert rules_check() == 1
    rule.refresh_from_db()
    assert "mark@example.com" in rule.broken
    deal_create(actor=owner, data={"title": "Balcony"})
    assert not Run.objects.exists()


def test_a_template_with_a_syntax_error_is_refused_with_where(admin, stages):
    with pytest.raises(ValidationError) as error:
        rule_save(
            actor=admin,
            data={
                "name": "Bad",
                "subject": "deal",
                "trigger": "created",
                "actions": [notify_owner("Hi {{ client.first_name }")],
            },
        )
    assert "Line 1" in str(error.value.message_dict["actions"])


def test_a_run_whose_worker_died_is_taken_up_after_its_lease(
    admin, owner, stages, rule_for, monkeypatch
):
    rule_for(actions=[notify_owner()])
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        monkeypatch.setattr(engine, "go_on", lambda run, now, view=None, **_: run)  # dies at once
        deal_create(actor=owner, data={"title": "Crash"})
        monkeypatch.undo()
    run = Run.objects.get()
    assert (run.status, run.claimed_until) == ("running", start + engine.LEASE)
    assert scheduler.tick(start + timedelta(minutes=1)) == 0  # its lease still holds
    assert scheduler.tick(start + engine.LEASE + timedelta(seconds=1)) == 1
    run.refresh_from_db()
    assert run.status == "done"
    assert Notification.objects.filter(kind="automation").count() == 1


def test_a_dry_run_says_what_each_step_would_do_and_writes_nothing(
    admin, owner, stages, rule_for, anna
):
    rule = rule_for(
        enabled=False,
        actions=[
            CALL_TASK,
            {"type": "wait", "params": {"amount": 3, "unit": "days"}},
            notify_owner(),
        ],
    )
    deal = deal_create(actor=owner, data={"title": "3 windows", "person": anna})
    run = rule_run(actor=admin, rule=rule, record_id=deal.pk, dry_run=True)
    assert run.status == "done" and run.dry_run
    assert [s.status for s in run.steps.all()] == ["dry", "dry", "dry"]
    assert (
        "Would create the task “Call Anna about 3 windows” for Olivia Owner"
        in run.steps.first().message
    )
    assert not Task.objects.exists() and not Notification.objects.filter(kind="automation").exists()


def test_stage_triggers_follow_the_chosen_stage(admin, owner, stages, rule_for):
    rule_for(
        trigger="stage_entered",
        trigger_options={"stage": stages["Measured"].pk},
        actions=[notify_owner("{{ deal.title }} measured")],
    )
    deal = deal_create(actor=owner, data={"title": "Balcony"})
    deal_move(actor=owner, deal=deal, stage=stages["Offer"])
    deal_move(actor=owner, deal=deal, stage=stages["Measured"])
    deal_move(actor=owner, deal=deal, stage=stages["Measured"])  # reordered in its column
    assert Notification.objects.filter(data__message="Balcony measured").count() == 1
    assert RunStep.objects.count() == 1


def test_a_logged_call_and_an_overdue_task_start_their_rules(admin, owner, stages, rule_for, anna):
    from accord.work.scheduler import tick
    from accord.work.services import activity_log, task_create

    rule_for(
        trigger="activity_logged",
        trigger_options={"kind": "call"},
        actions=[notify_owner("{{ deal.title }}: called")],
    )
    rule_for(
        subject="task",
        trigger="task_overdue",
        actions=[
            {
                "type": "notify",
                "params": {"to": {"to": "owner"}, "message": "{{ task.title }} is late"},
            }
        ],
    )
    deal = deal_create(actor=owner, data={"title": "Balcony", "person": anna})
    activity_log(actor=owner, data={"kind": "meeting", "deal": deal})
    activity_log(actor=owner, data={"kind": "call", "deal": deal})
    start = timezone.now()
    task_create(actor=owner, data={"title": "Send the offer", "due_at": start + timedelta(hours=1)})
    tick(start + timedelta(hours=2))
    tick(start + timedelta(hours=3))  # once
    texts = sorted(
        Notification.objects.filter(kind="automation").values_list("data__message", flat=True)
    )
    assert texts == ["Balcony: called", "Send the offer is late"]


def test_a_birthday_rule_greets_once_on_the_day_at_its_time(admin, owner, rule_for):
    from datetime import date, datetime

    from accord.contacts.services import person_create

    zone = timezone.get_current_timezone()
    early = datetime(2026, 3, 10, 7, 0, tzinfo=zone)
    with time_machine.travel(early, tick=False):
        person_create(actor=owner, data={"first_name": "Vera", "birthday": date(1990, 3, 10)})
        person_create(actor=owner, data={"first_name": "Ivan", "birthday": date(1985, 3, 11)})
        rule_for(
            subject="person",
            trigger="date_reached",
            trigger_options={"time": "09:00"},
            actions=[
                {
                    "type": "notify",
                    "params": {
                        "to": {"to": "owner"},
                        "message": "{{ person.first_name }}: birthday",
                    },
                }
            ],
        )
    for hour in (7, 8, 9, 10):  # the scheduler passes through the morning
        moment = datetime(2026, 3, 10, hour, 1, tzinfo=zone)
        with time_machine.travel(moment, tick=False):
            scheduler.tick(moment)
    texts = list(
        Notification.objects.filter(kind="automation").values_list("data__message", flat=True)
    )
    assert texts == ["Vera: birthday"]
    moment = datetime(2026, 3, 11, 9, 1, tzinfo=zone)
    with time_machine.travel(moment, tick=False):
        scheduler.tick(moment)
    assert Notification.objects.filter(kind="automation").count() == 2  # Ivan's, the next day


def test_a_deal_stuck_past_its_stage_limit_gets_a_task_once(admin, owner, stages, rule_for):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        deal_create(actor=owner, data={"title": "Stuck"})  # Request: stuck after 3 days
        deal_create(actor=owner, data={"title": "Also stuck"})
        rule_for(trigger="deal_idle", actions=[CALL_TASK])
        scheduler.tick(start)  # the rule's first pass is set
    with time_machine.travel(start + timedelta(days=2), tick=False):
        deal_create(actor=owner, data={"title": "Later"})
    for hours in (2, 50, 73, 75, 80):
        moment = start + timedelta(hours=hours)
        with time_machine.travel(moment, tick=False):
            scheduler.tick(moment)
    assert sorted(Task.objects.values_list("deal__title", flat=True)) == ["Also stuck", "Stuck"]
