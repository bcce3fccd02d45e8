"""Domain events: services emit them in their transaction; automation and webhooks
subscribe.

An event is a name ("deal.stage_changed") and a payload of plain JSON values: ids,
never model instances, so a handler always reads the current state and a payload can
be queued or sent over the wire unchanged.

Each event is a row of the outbox (`OutboxEvent`), written in the transaction of the
change it announces: a rollback takes it back, a commit keeps it, and then its handlers
run from the row at least once. Right after the commit they run in the process that
committed (or, with `ACCORD_EVENTS_ON_WORKERS`, as a task on the workers), in one
transaction that also marks the events done; an event still pending — the process died
after its commit, a handler failed, a backup was restored — is taken up by the worker's
pass (`catch_up`), a batch per transaction. A row lock taken with SKIP LOCKED (SQLite:
its one writer) keeps each event in one place at a time. Handlers are idempotent by the
event's id: `DomainEvent.attempt` above 1 says an earlier dispatch may have run.
"""

import contextvars
import functools
import logging
import operator
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from accord.core.bulk import Table, take_ids
from accord.core.models import OutboxEvent

logger = logging.getLogger(__name__)

Handler = Callable[["DomainEvent"], None]

BATCH = 100  # events the worker's pass takes in one transaction
RETRIES = [timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(hours=1)]
KEEP = timedelta(days=7)  # how long a done event stays in the outbox
PASS_SECONDS = 20.0  # the worker's pass leaves the rest to its next tick after this long
PRUNE_CHUNK = 5000
SQLITE_PAUSE = 0.11  # seconds between the pass's batches on SQLite (see catch_up)

_handlers: dict[str, list[Handler]] = defaultdict(list)
# What is making the changes now, when it is not a person: an automation run ({"rule",
# "run", "depth"}). Events emitted meanwhile carry it, so a rule can tell that a rule's
# change triggered it, and how deep such a chain is.
_cause: contextvars.ContextVar[dict | None] = contextvars.ContextVar("cause", default=None)
# Inside `held()`, events are only recorded: the worker's pass runs them.
_held: contextvars.ContextVar[bool] = contextvars.ContextVar("held", default=False)
# Inside `emits_gathered()`: the events emitted so far (name, payload, cause, time,
# held), written when it ends.
_gathered: contextvars.ContextVar[list[tuple] | None] = contextvars.ContextVar(
    "emits_gathered", default=None
)
# The task that runs events on the workers (`accord.core.tasks.events_dispatch`),
# registered by the core app: the tasks module imports this one.
_task: dict[str, Any] = {"task": None}


@dataclass(frozen=True)
class DomainEvent:
    name: str
    payload: dict[str, Any]
    occurred_at: Any = field(default_factory=timezone.now)
    cause: dict | None = None
    id: int | None = None  # its outbox row
    attempt: int = 1  # above 1: an earlier dispatch of this event may have run


@contextmanager
def caused_by(cause: dict):
    """Events emitted inside carry `cause`."""
    token = _cause.set(cause)
    try:
        yield
    finally:
        _cause.reset(token)


def current_cause() -> dict | None:
    """What the events emitted now carry as their cause (an automation run, an import)."""
    return _cause.get()


@contextmanager
def held():
    """Events emitted inside are recorded but not dispatched after the commit: the
    worker's pass takes them up (a batch of them per transaction)."""
    token = _held.set(True)
    try:
        yield
    finally:
        _held.reset(token)


def subscribe(*names: str) -> Callable[[Handler], Handler]:
    """Register a handler for events by name; "*" receives every event."""

    def register(handler: Handler) -> Handler:
        for name in names:
            if handler not in _handlers[name]:
                _handlers[name].append(handler)
        return handler

    return register


def unsubscribe(handler: Handler) -> None:
    for handlers in _handlers.values():
        if handler in handlers:
            handlers.remove(handler)


def run_on_workers(task) -> None:
    """The django.tasks task that dispatches events when `ACCORD_EVENTS_ON_WORKERS` is on."""
    _task["task"] = task


def emit(name: str, **payload: Any) -> None:
    """Announce that something happened: recorded in the current transaction; handlers
    run once it commits (at least once, by the worker if not at once).

    Emitted outside a transaction, it is recorded and its handlers run at once. When the
    transaction rolls back, nothing is announced.
    """
    _check_plain(name, payload)
    now = timezone.now()
    gathered = _gathered.get()
    if gathered is not None:
        gathered.append((name, payload, _cause.get(), now, _held.get()))
        return
    row = OutboxEvent.objects.create(
        name=name, payload=payload, cause=_cause.get(), occurred_at=now, due_at=now
    )
    if not _held.get():
        _after_commit(row.pk)


def emit_many(name: str, payloads: list[dict[str, Any]]) -> None:
    """`emit` for many events of one name (a batch's new records): inside a transaction
    their outbox rows go in one statement (COPY on PostgreSQL), their ids taken up front.
    A row per event by the ORM cost more than the rest of an import's batch."""
    if not payloads:
        return
    if not transaction.get_connection().in_atomic_block or _gathered.get() is not None:
        for payload in payloads:
            emit(name, **payload)
        return
    for payload in payloads:
        _check_plain(name, payload)
    now, cause = timezone.now(), _cause.get()
    ids = take_ids(OutboxEvent, len(payloads))
    _outbox().write_columns(
        ["id", "name", "payload", "cause", "occurred_at", "due_at"],
        [(pk, name, payload, cause, now, now) for pk, payload in zip(ids, payloads, strict=True)],
    )
    if not _held.get():
        _after_commit(*ids)


@contextmanager
def emits_gathered():
    """The events emitted inside the block (in a transaction) go to the outbox together
    when it ends, in one statement and in the order they were emitted (a worker's batch
    of calls or messages emits hundreds); an exception records none. Nested, the
    outermost block writes."""
    if _gathered.get() is not None:
        yield
        return
    events: list[tuple] = []
    token = _gathered.set(events)
    try:
        yield
    finally:
        _gathered.reset(token)
    if not events:
        return
    ids = take_ids(OutboxEvent, len(events))
    _outbox().write_columns(
        ["id", "name", "payload", "cause", "occurred_at", "due_at"],
        [(pk, name, payload, cause, at, at)
         for pk, (name, payload, cause, at, _held_) in zip(ids, events, strict=True)],
    )  # fmt: skip
    if dispatched := [pk for pk, event in zip(ids, events, strict=True) if not event[4]]:
        _after_commit(*dispatched)


_tables: dict[str, Table] = {}


def _outbox() -> Table:
    if "outbox" not in _tables:
        _tables["outbox"] = Table(OutboxEvent)
    return _tables["outbox"]


def _after_commit(*event_ids: int) -> None:
    """The events of a transaction are dispatched together after its commit: each adds
    its id to its connection's list and a callback; the first callback takes the list
    (ids a rollback took back are found in no row: nothing to do for them)."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        _send(list(event_ids))
        return
    if not hasattr(connection, "accord_events"):
        connection.accord_events = []
    connection.accord_events.extend(event_ids)
    # robust: the change is committed; a dispatch that fails is the worker's to redo
    transaction.on_commit(_flush, robust=True)


def _flush() -> None:
    connection = transaction.get_connection()
    ids, connection.accord_events = getattr(connection, "accord_events", []), []
    if ids:
        _send(ids)


def _send(ids: list[int]) -> None:
    task = _task["task"]
    if settings.ACCORD_EVENTS_ON_WORKERS and task is not None:
        try:
            task.enqueue(ids)
            return
        except Exception:  # the queue is away: the events are still in the outbox
            logger.exception("events %s could not be queued; dispatching here", ids)
    try:
        dispatch(ids)
    except Exception:  # e.g. the database is busy: the worker's pass takes them up
        logger.exception("events %s left for the worker", ids)


def dispatch(ids: list[int]) -> int:
    """Run the handlers of these events, those still pending and not taken by another
    process, in one transaction that marks them done. Answers how many it ran."""
    with transaction.atomic():
        rows = pending(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(among(ids), state=OutboxEvent.PENDING)
            .order_by("pk")
        )
        _run(rows)
    return len(rows)


class Pending(NamedTuple):
    """What running an outbox row's handlers needs of it."""

    pk: int
    name: str
    payload: dict
    cause: dict | None
    occurred_at: datetime
    attempts: int


def pending(rows) -> list[Pending]:
    """The rows as plain tuples: read faster than model instances, which cost more than
    the handlers for an import's thousand events a batch."""
    return [Pending(*row) for row in rows.values_list(*Pending._fields)]


def among(ids: list[int]) -> Q:
    """`pk__in=ids`, a run of consecutive ids (a batch's events) as one range: the ORM's
    preparing of a thousand values for IN cost more than the query."""
    ids = sorted(set(ids))
    singles, ranges, start = [], [], 0
    for n in range(1, len(ids) + 1):
        if n == len(ids) or ids[n] != ids[n - 1] + 1:
            run = ids[start:n]
            if len(run) > 2:
                ranges.append(Q(pk__range=(run[0], run[-1])))
            else:
                singles.extend(run)
            start = n
    return functools.reduce(operator.or_, ranges, Q(pk__in=singles))


def catch_up(now: datetime | None = None) -> int:
    """The worker's pass: run the pending events that are due, oldest first, a batch per
    transaction, until none is left (or PASS_SECONDS have gone: the next tick goes on).
    Events the handlers emit meanwhile wait for the next batch. Answers how many ran."""
    began, total = time.monotonic(), 0
    with held():
        while time.monotonic() - began < PASS_SECONDS:
            moment = max(now, timezone.now()) if now else timezone.now()
            try:  # no savepoint per handler, the common case: a round trip less on each
                taken = _take(moment, isolated=False)
            except Exception:  # a handler failed: the batch again, each handler on its own
                taken = _take(moment, isolated=True)
            if not taken:
                break
            total += taken
            if connection.vendor == "sqlite":
                # SQLite has one writer, and a waiting one polls every 100 ms at most:
                # without a pause between batches, the web's writes would starve.
                time.sleep(SQLITE_PAUSE)
    return total


def _take(moment: datetime, *, isolated: bool) -> int:
    with transaction.atomic():
        rows = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(state=OutboxEvent.PENDING, due_at__lte=moment)
            .order_by("due_at", "pk")[:BATCH]
        )
        _run(rows, isolated=isolated)
    return len(rows)


def prune(now: datetime | None = None) -> int:
    """Delete the events done more than KEEP ago, a chunk at a time."""
    before, total = (now or timezone.now()) - KEEP, 0
    while True:
        old = OutboxEvent.objects.filter(state=OutboxEvent.DONE, done_at__lt=before)
        chunk = list(old.values_list("pk", flat=True)[:PRUNE_CHUNK])
        if not chunk:
            return total
        total += OutboxEvent.objects.filter(pk__in=chunk).delete()[0]


# Called with no arguments at the end of each batch of events, inside the transaction that
# marks them done: a subscriber that gathers events to handle them together (automation
# queues an import's thousands of runs in one write) finishes there, so what it writes
# commits with the events, or neither does.
_batch_ends: list[Callable[[], None]] = []


def at_batch_end(hook: Callable[[], None]) -> Callable[[], None]:
    if hook not in _batch_ends:
        _batch_ends.append(hook)
    return hook


@dataclass
class Batch:
    """The events one transaction runs, seen by their handlers (`current_batch`), so a
    subscriber can read what they need at once and write together at the batch's end.
    Not `isolated`: a failing handler undoes the whole batch, which is run again with a
    savepoint per handler — so a handler needs none of its own. `kept` is the handlers'
    to keep what they read or gathered; a batch run again starts with an empty one."""

    events: list[DomainEvent]
    isolated: bool
    kept: dict = field(default_factory=dict)


_batch: contextvars.ContextVar[Batch | None] = contextvars.ContextVar("batch", default=None)


def current_batch() -> Batch | None:
    """The batch of events being run now (None outside the handlers and batch-end hooks)."""
    return _batch.get()


def _run(rows: list, *, isolated: bool = True) -> None:
    """Each event's handlers, each in a savepoint of its own (a failing one is undone,
    logged and the event retried later, up to len(RETRIES) times), then the events'
    rows updated in the same transaction. Not `isolated`: no savepoints, and a failing
    handler's exception goes up (the caller runs the batch again isolated)."""
    now = timezone.now()
    done, failed = [], []
    batch = Batch([_event_of(row) for row in rows], isolated)
    token = _batch.set(batch)
    savepoints = _Savepoints()
    try:
        with transaction.get_connection().execute_wrapper(savepoints):
            for row, event in zip(rows, batch.events, strict=True):
                errors = _handle(event, savepoints if isolated else None)
                if errors:
                    failed.append((row, errors))
                else:
                    done.append(row.pk)
        for hook in _batch_ends:
            hook()
    finally:
        _batch.reset(token)
    if done:
        OutboxEvent.objects.filter(among(done)).update(
            state=OutboxEvent.DONE, done_at=now, attempts=F("attempts") + 1, error=""
        )
    for row, errors in failed:
        attempts = row.attempts + 1
        last = attempts > len(RETRIES)
        OutboxEvent.objects.filter(pk=row.pk).update(
            state=OutboxEvent.FAILED if last else OutboxEvent.PENDING,
            attempts=attempts,
            due_at=now if last else now + RETRIES[attempts - 1],
            error="\n".join(errors)[:4000],
        )


def _handle(event: DomainEvent, savepoints: "_Savepoints | None") -> list[str]:
    """Run one event's handlers; what failed (none without `savepoints`: it goes up)."""
    errors = []
    # dict.fromkeys keeps the order and calls a handler subscribed twice only once.
    for handler in dict.fromkeys([*_handlers.get(event.name, []), *_handlers.get("*", [])]):
        if savepoints is None:
            handler(event)
            continue
        try:
            savepoints.run(handler, event)
        except Exception as error:
            # One broken subscriber must not stop the others nor the request that
            # already committed; it is logged for the operator and retried.
            logger.exception("Handler %r failed on event %s", handler, event.name)
            errors.append(f"{getattr(handler, '__qualname__', handler)}: {error!r}")
    return errors


def _event_of(row) -> DomainEvent:
    return DomainEvent(
        name=row.name,
        payload=row.payload,
        occurred_at=row.occurred_at,
        cause=row.cause,
        id=row.pk,
        attempt=row.attempts + 1,
    )


class _Savepoints:
    """Each handler in `transaction.atomic()`, its savepoint taken at the handler's first
    statement (an execute wrapper): one that only gathers events (automation's, for an
    import's thousands) costs no savepoint, which cost more than the rest of its event.
    (A COPY is no statement Django sees: a handler's first write must not be one.)"""

    def __init__(self):
        self.armed, self.block = False, None

    def __call__(self, execute, sql, params, many, context):
        if self.armed and self.block is None:
            self.block = transaction.atomic()
            self.block.__enter__()  # its SAVEPOINT comes through here: block is set
        return execute(sql, params, many, context)

    def run(self, handler: Handler, event: DomainEvent) -> None:
        self.armed, self.block = True, None
        try:
            handler(event)
        except BaseException as error:
            self.armed = False
            if self.block is not None:
                self.block.__exit__(type(error), error, error.__traceback__)
            raise
        self.armed = False
        if self.block is not None:
            self.block.__exit__(None, None, None)


def _check_plain(path: str, value: Any) -> None:
    if value is None or isinstance(value, str | int | float | bool):
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_plain(f"{path}[{index}]", item)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"Event payload keys must be strings ({path}).")
            _check_plain(f"{path}.{key}", item)
        return
    raise TypeError(
        f"Event payload {path} is a {type(value).__name__}; events carry ids and plain values."
    )
