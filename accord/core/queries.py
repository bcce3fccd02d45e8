"""Reads of the kernel: health of the database and of the workers."""

from dataclasses import dataclass

from django.db import connection
from django.db.utils import DatabaseError
from django.utils import timezone

from accord.core.models import WorkerHeartbeat


@dataclass(frozen=True)
class Health:
    database_ok: bool
    database_error: str
    worker_age_seconds: float | None  # None: no worker has ever reported

    def as_dict(self) -> dict:
        return {
            "database": "ok" if self.database_ok else "unreachable",
            "database_error": self.database_error or None,
            "worker_heartbeat_age_seconds": (
                None if self.worker_age_seconds is None else round(self.worker_age_seconds, 1)
            ),
        }


def health_now() -> Health:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        newest = WorkerHeartbeat.objects.order_by("-seen_at").values_list("seen_at", flat=True)
        seen_at = newest.first()
    except DatabaseError as error:
        return Health(False, str(error).splitlines()[0][:200], None)
    age = None if seen_at is None else (timezone.now() - seen_at).total_seconds()
    return Health(True, "", age)
