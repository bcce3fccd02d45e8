"""Jobs the worker tests queue (a worker in another process imports them by path)."""

import sqlite3
import threading
from pathlib import Path

from django.db import connection
from django.tasks import task
from django.utils import timezone

from accord.core.services import heartbeat_beat

LOCK_HELD_SECONDS = 1.5


@task
def write_past_a_lock(name: str, marker: str) -> str:
    """Writes a row; on its first run another connection holds SQLite's write lock.

    As when a long web request holds the lock: this job's write waits its (short)
    busy timeout and meets "database is locked"; the lock goes 1.5 s later.
    """
    first_run = Path(marker)
    if not first_run.exists():
        first_run.write_text("locked once")
        holder = sqlite3.connect(
            connection.settings_dict["NAME"], isolation_level=None, check_same_thread=False
        )
        holder.execute("BEGIN IMMEDIATE")
        threading.Timer(LOCK_HELD_SECONDS, holder.execute, args=["ROLLBACK"]).start()
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout=100")
    now = timezone.now()
    heartbeat_beat(worker_id=name, backend="test", started_at=now)
    return f"written {name}"
