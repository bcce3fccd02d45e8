"""Measuring one request: server time, its queries, the same SQL run raw, its memory.

Server time is the wall time of a Django test client request, in process: the whole
middleware stack, the view, the queries and the template, without a network.
"""

import math
import os
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.test.utils import CaptureQueriesContext

Request = Callable[[], object]


@dataclass(frozen=True)
class Timing:
    median_ms: float
    p95_ms: float
    min_ms: float


def summarise(samples_ms: list[float]) -> Timing:
    """Median, nearest-rank 95th percentile (the 19th of 20) and minimum."""
    ordered = sorted(samples_ms)
    p95 = ordered[math.ceil(0.95 * len(ordered)) - 1]
    return Timing(round(statistics.median(ordered), 2), round(p95, 2), round(ordered[0], 2))


def checked(request: Request) -> object:
    response = request()
    status = getattr(response, "status_code", 200)
    if status != 200:
        body = getattr(response, "content", b"")[:400]
        raise RuntimeError(f"the request answered {status}: {body!r}")
    return response


def time_requests(request: Request, repeat: int, before: Callable | None = None) -> Timing:
    """One warm-up, then `repeat` timed requests; `before` runs untimed ahead of each."""
    checked(request)
    samples = []
    for _n in range(repeat):
        if before is not None:
            before()
        started = time.perf_counter()
        checked(request)
        samples.append((time.perf_counter() - started) * 1000)
    return summarise(samples)


@dataclass(frozen=True)
class Statement:
    sql: str
    params: object


def capture(request: Request) -> tuple[int, list[Statement]]:
    """The number of queries one request makes, and the SQL and parameters it sent."""
    sent: list[Statement] = []

    def record(execute, sql, params, many, context):
        sent.append(Statement(sql, params))
        return execute(sql, params, many, context)

    with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(record):
        checked(request)
    return len(queries.captured_queries), sent


def raw_ms(statement: Statement, repeat: int) -> float:
    """Median time of the statement run directly on a cursor (rows fetched), one warm-up."""
    samples = []
    with connection.cursor() as cursor:
        for n in range(repeat + 1):
            started = time.perf_counter()
            cursor.execute(statement.sql, statement.params)
            cursor.fetchall()
            if n:
                samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples), 3)


def query_plan(statement: Statement) -> list[str]:
    """How the database runs the statement (EXPLAIN; not executed on PostgreSQL)."""
    explain = "EXPLAIN " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    with connection.cursor() as cursor:
        cursor.execute(explain + statement.sql, statement.params)
        return [str(row[-1] if connection.vendor == "sqlite" else row[0]) for row in cursor]


def python_peak_kb(request: Request) -> int:
    """The most memory Python held at once during one request (tracemalloc; untimed)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        checked(request)
        return round(tracemalloc.get_traced_memory()[1] / 1024)
    finally:
        tracemalloc.stop()


def rss_mb() -> float:
    """The process's resident memory now (Linux)."""
    with open("/proc/self/statm") as statm:
        return round(int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)
