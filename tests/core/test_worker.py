"""The background worker runs queued tasks, on the database queue and on Redis."""

import uuid

import pytest
import redis
from django.core.management import call_command
from django.tasks import TaskResultStatus, task_backends

from accord.core.models import WorkerHeartbeat
from accord.core.tasks import ping


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_a_queued_ping_from_the_database_queue():
    result = ping.enqueue("hello")
    assert result.status == TaskResultStatus.READY

    call_command("worker", batch=True, verbosity=0)

    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == "hello"
    # A worker that stops cleanly takes its heartbeat with it.
    assert not WorkerHeartbeat.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_a_queued_ping_through_redis(settings):
    queue = f"accord-test-{uuid.uuid4().hex[:8]}"
    url = "redis://127.0.0.1:6379/0"
    settings.RQ_QUEUES = {"default": {"URL": url}, queue: {"URL": url}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": [queue]}}
    try:
        result = ping.using(queue_name=queue).enqueue("over redis")
        assert type(task_backends["default"]).__name__ == "RQBackend"
        assert result.status == TaskResultStatus.READY

        call_command("worker", batch=True, verbosity=0)

        result.refresh()
        assert result.status == TaskResultStatus.SUCCESSFUL
        assert result.return_value == "over redis"
    finally:
        connection = redis.Redis.from_url(url)
        for key in connection.scan_iter(f"rq:*{queue}*"):
            connection.delete(key)
