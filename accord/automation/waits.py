"""A run's waits: for a time, until a date in the record, or until a condition holds
(looked at again every POLL, up to a timeout) — the run sleeps with its due time and the
scheduler's pass takes it up then."""

from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from accord.automation import conditions, runlog
from accord.automation.actions.durations import later
from accord.automation.describe import duration
from accord.automation.models import Run, RunStep

POLL = timedelta(minutes=5)  # how often "wait until a condition holds" looks again


def wait(run: Run, item: dict, view: dict, now: datetime, path: str) -> str:
    """A wait step: "wait" (the run sleeps until its due time), "go" or "timeout"."""
    params = item.get("params") or {}
    if run.dry_run:
        runlog.note(run, path, "wait", RunStep.DRY, _describe_wait(params))
        return "go"
    started = run.wait_started_at
    if started is None:
        started = now
        wake = _wake(params, view, now)
        if params.get("until") and conditions.holds(params["until"], view):
            runlog.note(run, path, "wait", RunStep.DONE, _("The condition holds already"))
            return "go"
        if wake is not None and wake <= now:
            runlog.note(run, path, "wait", RunStep.DONE, _("The time has come already"))
            return "go"
        runlog.note(run, path, "wait", RunStep.WAITING, _describe_wait(params))
        return _sleep(run, started, wake or now + POLL, params, now)
    if params.get("until"):
        if conditions.holds(params["until"], view):
            return _woke(run, path, _("The condition holds"))
        deadline = _deadline(params, started)
        if deadline is not None and now >= deadline:
            return _woke(run, path, _("Timed out: the condition did not hold"), "timeout")
        return _sleep(run, started, now + POLL, params, now)
    return _woke(run, path, _("Waited"))


def _wake(params: dict, view: dict, now: datetime) -> datetime | None:
    if params.get("until"):
        return None
    if params.get("until_field"):
        value = conditions.read(view, params["until_field"])
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return now
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment)
    return later(now, params.get("amount", 0), params.get("unit", "minutes"))


def _deadline(params: dict, started: datetime) -> datetime | None:
    timeout = params.get("timeout") or {}
    if not timeout.get("amount"):
        return None
    return later(started, timeout["amount"], timeout.get("unit", "hours"))


def _sleep(run: Run, started: datetime, wake: datetime, params: dict, now: datetime) -> str:
    deadline = _deadline(params, started) if params.get("until") else None
    if deadline is not None:
        wake = min(wake, deadline)
    runlog.save(
        run,
        status=Run.WAITING,
        due_at=wake,
        wait_started_at=started,
        claimed_until=None,
        cursor=run.cursor,
    )
    run.status = Run.WAITING
    return "wait"


def _woke(run: Run, path: str, message: str, outcome: str = "go") -> str:
    runlog.note(run, path, "wait", RunStep.DONE, message)
    run.wait_started_at = None
    runlog.unsaved(run)["fields"]["wait_started_at"] = None  # saved with the run's next change
    return outcome


def _describe_wait(params: dict) -> str:
    if params.get("until"):
        return _("Waiting until the condition holds")
    if params.get("until_field"):
        return _("Waiting until %(field)s") % {"field": params["until_field"]}

    return _("Waiting %(time)s") % {
        "time": duration(params.get("amount", 0), params.get("unit", "minutes"))
    }
