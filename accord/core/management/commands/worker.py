"""`accord worker`: runs background tasks on the configured backend, with a heartbeat
and the scheduler (the periodic jobs of accord.core.periodic: reminders, escalations).

A job that meets a locked database (another writer held SQLite's write lock past the
busy timeout) is run again after a pause instead of failing, and the worker's own
bookkeeping waits the lock out: a long write elsewhere never stops the worker."""

import logging
import threading
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import OperationalError, close_old_connections, connection
from django.tasks import TaskContext
from django.tasks.signals import task_finished, task_started
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand
from django_tasks_db.management.commands.db_worker import Worker as DatabaseWorker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import is_locked_database_exception

from accord.core import periodic
from accord.core.services import heartbeat_beat, heartbeat_forget

RQ_BACKEND = "django_tasks_rq.RQBackend"
LOCKED_ATTEMPTS = 8  # runs of one job that met a locked database before it fails
LOCKED_PAUSE_MAX = 60.0  # seconds; the pause doubles from 1 s up to this
# An idle worker looks for a job this often: a call's "ringing" the webhook queued is
# applied within about half a second, well inside the ringing card's 3-second poll.
POLL_SECONDS = 0.5

logger = logging.getLogger("accord.worker")


def locked_pause(attempt: int) -> float:
    """Seconds to wait before the next try: 1, 2, 4 ... up to a minute."""
    return min(2.0 ** (attempt - 1), LOCKED_PAUSE_MAX)


class PatientWorker(DatabaseWorker):
    """The database queue's worker, made to wait out a locked database."""

    def run(self) -> None:
        # Taking the next job opens an exclusive transaction; a lock held past the busy
        # timeout fails that BEGIN outside the queue's own guard. Wait, then go on.
        attempt = 1
        while True:
            try:
                super().run()
                return
            except OperationalError as error:
                if not is_locked_database_exception(error):
                    raise
                pause = locked_pause(attempt)
                logger.warning("the database is locked; taking the next job in %.0f s", pause)
                connection.close()
                time.sleep(pause)
                attempt = attempt + 1 if attempt < LOCKED_ATTEMPTS else attempt

    def run_task(self, db_task_result: DBTaskResult) -> None:
        try:
            self.running_task = True
            task = db_task_result.task
            task_result = db_task_result.task_result
            sender = type(task.get_backend())
            task_started.send(sender=sender, task_result=task_result)
            try:
                value = self._call(db_task_result, task, task_result)
            except BaseException as error:  # recorded on the job, as the queue does
                self._patiently(db_task_result.set_failed, error)
            else:
                self._patiently(db_task_result.set_successful, value)
            task_finished.send(sender=sender, task_result=db_task_result.task_result)
        finally:
            self.running_task = False
            self._run_tasks += 1

    def _call(self, db_task_result, task, task_result):
        attempt = 1
        while True:
            try:
                if task.takes_context:
                    context = TaskContext(task_result=task_result)
                    return task.call(context, *task_result.args, **task_result.kwargs)
                return task.call(*task_result.args, **task_result.kwargs)
            except OperationalError as error:
                if not is_locked_database_exception(error) or attempt >= LOCKED_ATTEMPTS:
                    raise
                pause = locked_pause(attempt)
                logger.warning(
                    "job %s (%s) met a locked database; run %d of %d again in %.0f s",
                    db_task_result.id,
                    db_task_result.task_path,
                    attempt + 1,
                    LOCKED_ATTEMPTS,
                    pause,
                )
                connection.close()  # a fresh connection: no transaction left half-open
                time.sleep(pause)
                attempt += 1

    def _patiently(self, write: Callable[[object], None], argument: object) -> None:
        """Record a job's end however long the database stays locked."""
        attempt = 1
        while True:
            try:
                write(argument)
                return
            except OperationalError as error:
                if not is_locked_database_exception(error):
                    raise
                logger.warning("the database is locked; recording a job's end again")
                connection.close()
                time.sleep(locked_pause(attempt))
                attempt += 1


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
            default=POLL_SECONDS,
            help="Seconds between polls of an empty database queue (default: 0.5).",
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
                self._run_database_queue(batch, interval, worker_id, verbosity)
        finally:
            stop.set()
            beats.join(timeout=5)
            if scheduler.is_alive():
                scheduler.join(timeout=30)
            heartbeat_forget(worker_id=worker_id)

    def _run_database_queue(self, batch, interval, worker_id, verbosity):
        """The queue's own `db_worker` loop, with a worker that waits out locks."""
        DatabaseWorkerCommand(stdout=self.stdout, stderr=self.stderr).configure_logging(verbosity)
        worker = PatientWorker(
            queue_names=["*"],
            interval=interval,
            batch=batch,
            backend_name="default",
            startup_delay=not batch,
            max_tasks=None,
            worker_id=worker_id[:64],
            excluded_queue_names=[],
        )
        worker.configure_signals()
        worker.run()

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
