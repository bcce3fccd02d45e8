"""Writes of the kernel: worker heartbeats."""

import os
import socket
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accord.core.models import WorkerHeartbeat


@transaction.atomic
def heartbeat_beat(*, worker_id: str, backend: str, started_at: datetime) -> WorkerHeartbeat:
    """Record that a worker is alive now."""
    beat, _created = WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "hostname": socket.gethostname()[:255],
            "pid": os.getpid(),
            "backend": backend,
            "started_at": started_at,
            "seen_at": timezone.now(),
        },
    )
    return beat


@transaction.atomic
def heartbeat_forget(*, worker_id: str) -> None:
    """A worker that stops cleanly removes its heartbeat."""
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()
