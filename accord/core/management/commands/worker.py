"""`accord worker`: runs background tasks on the configured backend, with a heartbeat
and the scheduler (the periodic jobs of accord.core.periodic: reminders, escalations)."""

import threading
import uuid

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection
from django.utils import timezone

from accord.core import periodic
from accord.core.services import heartbeat_beat, heartbeat_forget

RQ_BACKEND = "django_tasks_rq.RQBackend"


class Command(BaseCommand):
    help = "Run background tasks (database queue, or Redis when REDIS_URL is set)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch",
            action="store_true",
            help="Run the tasks already queued, then exit.",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="Seconds between polls of an empty database queue (default: 1).",
        )

    def handle(self, *args, batch: bool, interval: float, verbosity: int, **options):
        backend = settings.TASKS["default"]["BACKEND"]
        worker_id = f"{timezone.now():%Y%m%d%H%M%S}-{uuid.uuid4().hex[:12]}"
        started_at = timezone.now()
        stop = threading.Event()
        heartbeat_beat(worker_id=worker_id, backend=backend, started_at=started_at)
        beats = threading.Thread(
            target=self._beat,
            args=(stop, worker_id, backend, started_at),
            name="accord-heartbeat",
            daemon=True,
        )
        beats.start()
        scheduler = threading.Thread(
            target=self._schedule, args=(stop,), name="accord-scheduler", daemon=True
        )
        if batch:
            periodic.run_all(timezone.now())  # once, before the queued tasks
        else:
            scheduler.start()
        try:
            if backend == RQ_BACKEND:
                # Tasks run in this process, as on the database queue: no fork() beside
                # the heartbeat thread, and Django's connections stay where they are.
                rq_options = {
                    "job_class": "django_tasks_rq.Job",
                    "worker_class": "rq.worker.SimpleWorker",
                    "verbosity": verbosity,
                }
                if batch:
                    rq_options["burst"] = True
                call_command("rqworker", *settings.TASKS["default"]["QUEUES"], **rq_options)
            else:
                call_command(
                    "db_worker",
                    queue_name="*",
                    batch=batch,
                    interval=interval,
                    reload=False,
                    startup_delay=not batch,
                    worker_id=worker_id[:64],
                    verbosity=verbosity,
                )
        finally:
            stop.set()
            beats.join(timeout=5)
            if scheduler.is_alive():
                scheduler.join(timeout=30)
            heartbeat_forget(worker_id=worker_id)

    def _schedule(self, stop):
        """Run the periodic jobs now, then every ACCORD_SCHEDULER_SECONDS (30)."""
        try:
            while not stop.is_set():
                close_old_connections()
                periodic.run_all(timezone.now())
                stop.wait(settings.ACCORD_SCHEDULER_SECONDS)
        finally:
            connection.close()

    def _beat(self, stop, worker_id, backend, started_at):
        period = settings.ACCORD_WORKER_HEARTBEAT_SECONDS
        try:
            while not stop.wait(period):
                close_old_connections()
                try:
                    heartbeat_beat(worker_id=worker_id, backend=backend, started_at=started_at)
                except Exception as error:  # the database may be briefly away
                    self.stderr.write(f"heartbeat failed: {error}")
        finally:
            connection.close()
