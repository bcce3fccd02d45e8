"""Periodic jobs: feature apps register a function, every worker calls them all on each
tick of its loop (at least every 30 seconds). A job must be safe to run in several
workers at once and must catch up after downtime by itself (claim rows, do not count
ticks)."""

import logging
from collections.abc import Callable
from datetime import datetime

log = logging.getLogger(__name__)
JOBS: list[Callable[[datetime], object]] = []


def every(job: Callable[[datetime], object]) -> None:
    if job not in JOBS:
        JOBS.append(job)


def run_all(now: datetime) -> None:
    """Run each job; one failing job is logged and does not stop the others."""
    for job in JOBS:
        try:
            job(now)
        except Exception:
            log.exception("periodic job %s failed", job.__qualname__)
