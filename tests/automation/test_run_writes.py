"""What a run leaves behind now that its writes are gathered: every step logged in order,
every action on the record's timeline, and no action done twice when the process dies
between steps."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accord.automation import actions, engine, scheduler
from accord.automation.models import Run
from accord.core.timeline import timeline_of
from accord.sales.services import deal_create
from accord.work.models import Notification

pytestmark = pytest.mark.django_db(transaction=True)


class Crash(BaseException):
    """The process dying mid-step (not an error a step's handler would catch)."""


def notify_owner(message):
    return {"type": "notify", "params": {"to": {"to": "owner"}, "message": message}}


def wait_hours(hours):
    return {"type": "wait", "params": {"amount": hours, "unit": "hours"}}


def messages():
    found = Notification.objects.filter(kind="automation").order_by("id")
    return list(found.values_list("data__message", flat=True))


def crash_on(monkeypatch, text):
    """Make the notify action die when its message would be `text`."""
    real = actions.ACTIONS["notify"].run

    def dying(step, params):
        if params["message"] == text:
            raise Crash
        return real(step, params)

    monkeypatch.setattr(actions.ACTIONS["notify"], "run", dying)


def test_every_step_of_a_run_is_logged_in_order_and_each_action_is_on_the_timeline(
    admin, owner, stages, rule_for
):
    rule_for(
        name="Big deals",
        actions=[
            {
                "type": "branch",
                "if": {"items": [{"field": "deal.amount", "op": "gt", "value": "100"}]},
                "then": [notify_owner("big")],
                "else": [notify_owner("small")],
            },
            {"type": "add_tag", "params": {"tag": "hot"}},
            notify_owner("done"),
        ],
    )
    deal = deal_create(actor=owner, data={"title": "Tower", "amount": "500"})
    run = Run.objects.get()
    steps = list(run.steps.order_by("id").values_list("path", "action", "status"))
    assert steps == [
        ("0", "branch", "done"),
        ("0.then.0", "notify", "done"),
        ("1", "add_tag", "done"),
        ("2", "notify", "done"),
    ]
    assert (run.status, run.cursor, run.finished_at is not None) == ("done", [3], True)
    entries = [e.data["message"] for e in timeline_of(deal) if e.kind == "automation"]
    assert len(entries) == 2 and "Tagged hot" not in entries  # the notices
    tagged = [e for e in timeline_of(deal) if e.kind == "changed" and e.data.get("by_rule")]
    assert [c["field"] for c in tagged[0].data["changes"]] == ["tags"]
    assert messages() == ["big", "done"]


def test_a_second_rule_on_the_same_event_sees_what_the_first_changed(
    admin, owner, stages, rule_for
):
    rule_for(name="A tagger", actions=[{"type": "add_tag", "params": {"tag": "hot"}}])
    rule_for(
        name="B reader",
        actions=[
            {
                "type": "branch",
                "if": {"items": [{"field": "deal.tags", "op": "contains", "value": "hot"}]},
                "then": [notify_owner("{{ deal.title }} is hot")],
                "else": [notify_owner("{{ deal.title }} is not hot")],
            }
        ],
    )
    deal_create(actor=owner, data={"title": "Roof"})
    assert messages() == ["Roof is hot"]


def test_a_retry_after_a_wait_does_not_wait_again(admin, owner, stages, rule_for, monkeypatch):
    real = actions.ACTIONS["notify"].run
    failures = []

    def once_down(step, params):
        if not failures:
            failures.append(step.now)
            raise ConnectionError("the mail server is down")
        return real(step, params)

    monkeypatch.setattr(actions.ACTIONS["notify"], "run", once_down)
    rule_for(actions=[wait_hours(2), notify_owner("{{ deal.title }}: look")])
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        deal_create(actor=owner, data={"title": "Porch"})
    woke = start + timedelta(hours=2, seconds=1)
    scheduler.tick(woke)
    run = Run.objects.get()
    assert (run.status, run.due_at) == ("queued", woke + engine.RETRIES[0])
    scheduler.tick(woke + engine.RETRIES[0] + timedelta(seconds=1))
    run.refresh_from_db()
    assert run.status == "done" and messages() == ["Porch: look"]
    assert list(run.steps.filter(action="wait").values_list("status", flat=True)) == [
        "waiting",
        "done",
    ]


def test_a_crash_between_steps_in_the_scheduler_never_does_an_action_twice(
    admin, owner, stages, rule_for, monkeypatch
):
    rule_for(actions=[wait_hours(1), notify_owner("first"), notify_owner("second")])
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        deal_create(actor=owner, data={"title": "Gate"})
    crash_on(monkeypatch, "second")
    woke = start + timedelta(hours=1, seconds=1)
    with pytest.raises(Crash):
        scheduler.tick(woke)
    monkeypatch.undo()
    assert scheduler.tick(woke + timedelta(minutes=1)) == 0  # still held by the dead worker
    assert scheduler.tick(woke + engine.LEASE + timedelta(seconds=1)) == 1
    run = Run.objects.get()
    assert run.status == "done"
    assert messages() == ["first", "second"]
    assert run.steps.filter(action="notify", status="done").count() == 2


def test_a_crash_while_an_events_runs_go_through_leaves_none_half_done(
    admin, owner, stages, rule_for, monkeypatch
):
    rule_for(actions=[notify_owner("first"), notify_owner("second")])
    crash_on(monkeypatch, "second")
    with pytest.raises(Crash):
        deal_create(actor=owner, data={"title": "Fence"})
    monkeypatch.undo()
    # As if the event had not come: nothing done, nothing to do again.
    assert not Run.objects.exists() and messages() == []
