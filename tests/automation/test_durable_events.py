"""Rules run from the outbox: a process killed between a change's commit and its rule's
run loses nothing, and an event dispatched again never starts a rule twice."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
import redis
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from accord.automation.models import Run
from accord.core import events
from accord.core.events import held, subscribe, unsubscribe
from accord.core.models import OutboxEvent
from accord.sales.models import Deal
from accord.sales.services import deal_create, deal_move
from accord.work.models import Task

pytestmark = pytest.mark.django_db(transaction=True)
REDIS_DB = 3

CALL_TASK = {
    "type": "create_task",
    "params": {
        "title": "Call about {{ deal.title }}",
        "assignee": {"to": "owner"},
        "due_in": {"amount": 1, "unit": "hours"},
    },
}

# A process that commits a new deal, then dies (SIGKILL: no clean-up, no `finally`) at
# the first thing run after the commit — before the dispatch of its events.
COMMIT_THEN_DIE = """
import os, signal, django
django.setup()
from django.db import transaction
from accord.accounts.models import User
from accord.sales.services import deal_create
with transaction.atomic():
    transaction.on_commit(lambda: os.kill(os.getpid(), signal.SIGKILL))
    deal_create(actor=User.objects.get(pk={owner}), data={{"title": "3 windows"}})
"""


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def test_a_process_killed_between_the_commit_and_the_rule_loses_no_run(
    owner, stages, rule_for, settings
):
    rule = rule_for(name="Call new requests", actions=[CALL_TASK])
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "REDIS_", "PYTEST"))
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="accord.settings",
        DATABASE_URL=database_url(),
        ACCORD_DATA_DIR=str(settings.DATA_DIR),
    )
    died = subprocess.run(
        [sys.executable, "-c", COMMIT_THEN_DIE.format(owner=owner.pk)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert died.returncode == -9, died.stderr  # killed, as a crash would
    deal = Deal.objects.get(title="3 windows")  # the change is committed
    assert not Task.objects.exists() and not Run.objects.exists()  # its rule did not run
    assert OutboxEvent.objects.get(name="deal.created").state == "pending"

    call_command("worker", batch=True, verbosity=0)  # the worker's pass takes it up
    call_command("worker", batch=True, verbosity=0)  # and a second pass changes nothing

    task = Task.objects.get()
    assert (task.title, task.deal, task.assignee) == ("Call about 3 windows", deal, owner)
    run = Run.objects.get(rule=rule)
    assert (run.status, run.subject_id) == ("done", deal.pk)
    assert not OutboxEvent.objects.filter(state="pending").exists()


def test_an_event_run_again_does_not_start_its_rule_twice(owner, stages, rule_for):
    rule = rule_for(name="Call new requests", actions=[CALL_TASK])
    deal = deal_create(actor=owner, data={"title": "3 windows"})
    assert Run.objects.filter(rule=rule).count() == 1
    # Delivered again, as after a restore of a copy taken before it was marked done.
    event = OutboxEvent.objects.get(name="deal.created")
    OutboxEvent.objects.filter(pk=event.pk).update(state="pending", done_at=None)
    assert events.catch_up(timezone.now()) == 1
    assert events.catch_up(timezone.now()) == 0
    assert Run.objects.filter(rule=rule).count() == 1
    assert Task.objects.filter(deal=deal).count() == 1


def test_another_handler_failing_retries_the_event_without_running_the_rule_again(
    owner, stages, rule_for
):
    rule = rule_for(name="Call new requests", actions=[CALL_TASK])
    calls = []

    def webhook_down(event):
        calls.append(event.attempt)
        if len(calls) == 1:
            raise ConnectionError("the receiver is down")

    subscribe("deal.created")(webhook_down)
    try:
        deal = deal_create(actor=owner, data={"title": "3 windows"})
        assert OutboxEvent.objects.get(name="deal.created").state == "pending"
        assert events.catch_up(timezone.now() + timedelta(minutes=1)) == 1
    finally:
        unsubscribe(webhook_down)
    assert calls == [1, 2]
    assert OutboxEvent.objects.get(name="deal.created").state == "done"
    assert Run.objects.filter(rule=rule).count() == 1
    assert Task.objects.filter(deal=deal).count() == 1


def test_a_burst_left_to_the_worker_runs_each_rule_once(owner, stages, rule_for):
    rule_for(
        name="Measure",
        trigger="stage_entered",
        trigger_options={"stage": stages["Measured"].pk},
        actions=[CALL_TASK, {"type": "add_tag", "params": {"tag": "measure"}}],
    )
    deals = [deal_create(actor=owner, data={"title": f"Lot {n}"}) for n in range(12)]
    with held():  # committed; their events are left for the worker's batches
        for deal in deals:
            deal_move(actor=owner, deal=deal, stage=stages["Measured"])
    assert not Task.objects.exists()
    events.catch_up(timezone.now())
    assert Task.objects.filter(title__startswith="Call about Lot").count() == 12
    assert sorted(Task.objects.values_list("deal__title", flat=True)) == sorted(
        d.title for d in deals
    )
    assert Deal.objects.filter(tags__name="measure").count() == 12
    assert not OutboxEvent.objects.filter(state="pending").exists()


def test_with_redis_the_rule_runs_as_a_task_on_a_worker(owner, stages, rule_for, settings):
    """ACCORD_EVENTS_ON_WORKERS: the web process only queues; an RQ worker runs the rule."""
    rule = rule_for(name="Call new requests", actions=[CALL_TASK])
    queue, url = "default", f"redis://127.0.0.1:6379/{REDIS_DB}"  # a database of its own
    settings.RQ_QUEUES = {queue: {"URL": url}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": [queue]}}
    settings.ACCORD_EVENTS_ON_WORKERS = True
    try:
        deal = deal_create(actor=owner, data={"title": "3 windows"})
        assert not Task.objects.exists()  # not in the request: queued
        assert OutboxEvent.objects.get(name="deal.created").state == "pending"
        call_command(
            "rqworker",
            queue,
            burst=True,
            job_class="django_tasks_rq.Job",
            worker_class="rq.worker.SimpleWorker",
            verbosity=0,
        )
        assert Task.objects.get().deal == deal
        assert Run.objects.get(rule=rule).status == "done"
        assert OutboxEvent.objects.get(name="deal.created").state == "done"
    finally:
        redis_connection = redis.Redis.from_url(url)
        for key in redis_connection.scan_iter("rq:*"):
            redis_connection.delete(key)
