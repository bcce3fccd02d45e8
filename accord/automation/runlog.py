"""A run's record of itself: its steps (what each did, or why it failed) and its entries
on the record's timeline, kept on the run and written with its next change — or, within
one transaction of the engine's (an event's runs, a share of a scheduler pass), all at
its end, an INSERT per table."""

from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from accord.automation import records
from accord.automation.actions.people import users_read_once
from accord.automation.models import Run, RunStep
from accord.core.bulk import Table, take_ids
from accord.core.models import TimelineEvent


def ended(status: str, error: str = "", reason: str = "") -> dict:
    return {
        "status": status,
        "finished_at": timezone.now(),
        "claimed_until": None,
        "due_at": None,
        "error": error,
        "reason": reason,
    }


def note(run, path, action, status, message, error="", *, attempt=1, took=0) -> None:
    """Note a step of the run: written with the run's next change (`save`)."""
    unsaved(run)["steps"].append(
        step(path, action, status, message, error, attempt=attempt, took=took)
    )


def step(path, action, status, message, error="", *, attempt=1, took=0) -> dict:
    return {
        "path": path,
        "action": action,
        "status": status,
        "message": message[:2000],
        "error": error[:2000],
        "attempt": attempt,
        "started_at": timezone.now(),
        "duration_ms": took,
    }


def unsaved(run: Run) -> dict:
    """The steps logged and the fields changed since the run was last saved."""
    if not hasattr(run, "unsaved"):
        run.unsaved = {"steps": [], "fields": {}}
    return run.unsaved


def save(run: Run, done: dict | None = None, entry=None, **fields) -> None:
    """Save the run's change with the steps logged since the last, and an action's own
    step (`done`) and timeline `entry`: one UPDATE, then one INSERT per table, or none
    while `gathering`. Logged steps are kept on the run until then, so a rolled-back
    action's savepoint loses none of them. A run not written yet (a batch's, `gathering`
    writes it) takes the change on itself."""
    pending = unsaved(run)
    if run.pk is None:
        for name, value in {**pending["fields"], **fields}.items():
            setattr(run, name, value)
    else:
        Run.objects.filter(pk=run.pk).update(**{**pending["fields"], **fields})
    rows = [*pending["steps"], *([done] if done else [])]
    steps = [RunStep(run=run, **row) for row in rows]
    run.unsaved = {"steps": [], "fields": {}}
    gathered = _gathered.get()
    if gathered is not None:
        gathered["steps"] += steps
        gathered["timeline"] += [entry] if entry else []
        return
    RunStep.objects.bulk_create(steps)
    if entry is not None:
        entry.save()


_gathered: ContextVar[dict | None] = ContextVar("automation_gathered", default=None)


@contextmanager
def gathering(into: dict | None = None, users: dict | None = None):
    """Within one transaction (an event's runs, a share of a scheduler pass): the runs'
    steps and timeline entries are written at its end, an INSERT per table, rather than
    two INSERTs per action; the people actions name are read once (`who_is`). `into`
    (a batch's, with its `users`): kept there for the batch's end to write."""

    gathered = into if into is not None else gathered_nothing()
    token = _gathered.set(gathered)
    try:
        with users_read_once(users):
            yield
    finally:
        _gathered.reset(token)
    if into is None:
        write(gathered)


def gathered_nothing() -> dict[str, list]:
    return {"runs": [], "steps": [], "timeline": []}


def write(gathered: dict[str, list]) -> None:
    """What was gathered, a statement per table (PostgreSQL: a COPY; the ORM's bulk_create
    cost more to prepare): the runs not written yet first, numbered at once, as their
    steps name them."""
    runs, tables = gathered["runs"], _tables()
    for run, pk in zip(runs, take_ids(Run, len(runs)), strict=True):
        run.pk = pk
    for row in gathered["steps"]:
        if row.run_id is None:  # its run was numbered just now
            row.run_id = row.run.pk
    for name in ("runs", "steps", "timeline"):
        table = tables[name]
        table.write({a: getattr(row, a) for a in table.attnames} for row in gathered[name])


@cache
def _tables() -> dict[str, Table]:
    return {
        "runs": Table(Run),
        "steps": Table(RunStep, with_id=False),
        "timeline": Table(TimelineEvent, with_id=False),
    }


def timeline_entry(run: Run, message: str):
    """The run's entry on its record's timeline, unsaved (`save` writes it)."""

    model = records.model_of(run.subject_type)
    return TimelineEvent(
        subject_type=ContentType.objects.get_for_model(model),
        subject_id=run.subject_id,
        kind="automation",
        data={"rule": run.rule.name, "rule_id": run.rule_id, "message": message},
        occurred_at=timezone.now(),
    )
