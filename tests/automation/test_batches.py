"""Rules run by the worker's pass, a batch of events per transaction with no savepoint:
few queries per event, and the same outcome as one event at a time — a failure recorded
on its run alone, the guards, each rule once per event, what an earlier event's run
changed seen by a later one."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accord.automation import actions
from accord.automation.models import Run
from accord.core import events
from accord.core.events import held
from accord.core.models import OutboxEvent, TimelineEvent
from accord.core.timeline import timeline_of
from accord.sales.models import Deal
from accord.sales.services import deal_create, deal_update
from accord.work.models import Notification, Task

pytestmark = pytest.mark.django_db(transaction=True)


class Crash(BaseException):
    """The process dying mid-batch (not an error a handler would catch)."""


def notify_owner(message="{{ deal.title }}: look"):
    return {"type": "notify", "params": {"to": {"to": "owner"}, "message": message}}


def add_tag(name):
    return {"type": "add_tag", "params": {"tag": name}}


def messages():
    found = Notification.objects.filter(kind="automation").order_by("id")
    return list(found.values_list("data__message", flat=True))


def changed(deals, data):
    """Change each deal, its events left to the worker's pass."""
    with held():
        for deal in deals:
            deal_update(actor=deal.owner, deal=deal, data=data)


def test_a_batch_costs_few_queries_per_event(owner, stages, rule_for):
    rule_for(trigger="updated", actions=[notify_owner()])
    rule_for(name="Second", trigger="updated", actions=[notify_owner("{{ deal.title }}: again")])
    deals = [deal_create(actor=owner, data={"title": f"Lot {n}"}) for n in range(40)]
    changed(deals, {"source": "web"})
    # The rules read as a process keeps them, before the batch's queries are counted.
    from accord.automation.engine import runnable_rules

    runnable_rules()
    with CaptureQueriesContext(connection) as queries:
        assert events.catch_up(timezone.now()) == 40
    # Two runs and two notices per event: a notice is a write of its own; reading the
    # records, counting for the flood guard, the runs, steps and timeline entries are a
    # few statements for the whole batch.
    assert len(messages()) == 80 and Run.objects.filter(status="done").count() == 80
    assert len(queries) <= 80 + 15, [q["sql"][:80] for q in queries]


def test_a_failing_step_is_recorded_on_its_run_and_the_other_events_go_through(
    owner, stages, rule_for, monkeypatch
):
    real = actions.ACTIONS["notify"].run

    def down_for_lot_3(step, params):
        if step.view["deal"]["title"] == "Lot 3":
            raise ConnectionError("the mail server is down")
        return real(step, params)

    monkeypatch.setattr(actions.ACTIONS["notify"], "run", down_for_lot_3)
    rule_for(trigger="updated", actions=[notify_owner()])
    deals = [deal_create(actor=owner, data={"title": f"Lot {n}"}) for n in range(6)]
    changed(deals, {"source": "web"})
    assert events.catch_up(timezone.now()) == 6
    assert sorted(messages()) == sorted(f"Lot {n}: look" for n in range(6) if n != 3)
    failing = Run.objects.get(subject_id=deals[3].pk)
    assert failing.status == "queued" and "mail server is down" in failing.error
    assert Run.objects.filter(status="done").count() == 5  # each event's rule once
    assert not OutboxEvent.objects.filter(state="pending").exists()


def test_a_crash_mid_batch_leaves_nothing_and_the_next_pass_runs_each_rule_once(
    owner, stages, rule_for, monkeypatch
):
    real = actions.ACTIONS["notify"].run

    def dying_on_lot_4(step, params):
        if step.view["deal"]["title"] == "Lot 4":
            raise Crash
        return real(step, params)

    rule_for(trigger="updated", actions=[notify_owner()])
    deals = [deal_create(actor=owner, data={"title": f"Lot {n}"}) for n in range(6)]
    changed(deals, {"source": "web"})
    monkeypatch.setattr(actions.ACTIONS["notify"], "run", dying_on_lot_4)
    with pytest.raises(Crash):
        events.catch_up(timezone.now())
    assert not Run.objects.exists() and messages() == []
    assert OutboxEvent.objects.filter(name="deal.updated", state="pending").count() == 6
    monkeypatch.undo()
    assert events.catch_up(timezone.now()) == 6
    assert sorted(messages()) == sorted(f"Lot {n}: look" for n in range(6))
    assert Run.objects.filter(status="done").count() == 6


def test_the_flood_guard_counts_the_runs_of_its_own_batch(admin, owner, stages, rule_for):
    rule = rule_for(trigger="updated", flood_limit=3, actions=[notify_owner()])
    deal = deal_create(actor=owner, data={"title": "Busy"})
    with held():
        for n in range(5):
            deal_update(actor=owner, deal=deal, data={"source": f"s{n}"})
    events.catch_up(timezone.now())
    rule.refresh_from_db()
    assert rule.paused_at is not None and "3 times in a minute" in rule.paused_reason
    assert Run.objects.filter(rule=rule).count() == 3
    assert any("paused" in n.data["message"] for n in Notification.objects.filter(user=admin))


def test_a_later_event_of_the_batch_sees_what_an_earlier_ones_rule_changed(owner, stages, rule_for):
    rule_for(name="Tag big ones", trigger="updated", actions=[add_tag("hot")])
    rule_for(
        name="Tell",
        trigger="updated",
        conditions={"items": [{"field": "deal.tags", "op": "contains", "value": "hot"}]},
        actions=[notify_owner("{{ deal.title }} is hot")],
    )
    deal = deal_create(actor=owner, data={"title": "Roof"})
    with held():
        deal_update(actor=owner, deal=deal, data={"source": "web"})
        deal_update(actor=owner, deal=deal, data={"amount": "900"})
    events.catch_up(timezone.now())
    # The first change: tagged (its view had no tag: nobody told); the second change, in
    # the same batch, sees the tag, and so does the change the tag itself announced.
    assert messages() == ["Roof is hot"] * 2
    assert list(Deal.objects.get(pk=deal.pk).tags.values_list("name", flat=True)) == ["hot"]


def test_a_rule_tagging_a_deal_adds_the_tag_alone_with_its_timeline_and_event(
    owner, stages, rule_for
):
    rule_for(trigger="updated", max_depth=0, actions=[add_tag("hot")])
    deal = deal_create(actor=owner, data={"title": "Roof", "source": "web", "tags": ["roof"]})
    changed([deal], {"amount": "900"})
    events.catch_up(timezone.now())
    deal.refresh_from_db()
    assert sorted(deal.tags.values_list("name", flat=True)) == ["hot", "roof"]
    assert (deal.version, deal.source) == (3, "web")  # the change, then the tag alone
    change = next(e for e in timeline_of(deal) if e.kind == "changed")  # newest first
    assert change.data["changes"] == [{"field": "tags", "old": ["roof"], "new": ["hot", "roof"]}]
    announced = OutboxEvent.objects.filter(name="deal.updated").order_by("-id").first()
    assert announced.payload["fields"] == ["tags"]
    assert announced.cause["depth"] == 0  # a rule's change: the guard sees how deep
    # The tag's own event starts the rule one level deeper: past its depth, skipped.
    events.catch_up(timezone.now())
    assert list(Run.objects.order_by("id").values_list("depth", "status")) == [
        (0, "done"),
        (1, "skipped"),
    ]
    # Once on the timeline: the tag's change, by the rule (no second "automation" entry).
    assert change.data["by_rule"] and not TimelineEvent.objects.filter(kind="automation").exists()


def test_a_burst_through_the_worker_creates_each_task_once(owner, stages, rule_for):
    rule_for(
        trigger="updated",
        actions=[
            {
                "type": "create_task",
                "params": {
                    "title": "Call about {{ deal.title }}",
                    "assignee": {"to": "owner"},
                    "due_in": {"amount": 1, "unit": "hours"},
                },
            }
        ],
    )
    deals = [deal_create(actor=owner, data={"title": f"Lot {n}"}) for n in range(events.BATCH + 5)]
    changed(deals, {"source": "web"})
    many = events.BATCH + 5  # two batches
    assert events.catch_up(timezone.now()) == 2 * many  # and each new task's own event
    assert events.catch_up(timezone.now()) == 0
    titles = sorted(Task.objects.values_list("title", flat=True))
    assert titles == sorted(f"Call about Lot {n}" for n in range(many))
    assert Run.objects.filter(status="done").count() == many
