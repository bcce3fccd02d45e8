"""The engine: domain events start runs of the rules whose trigger and conditions match,
and runs go through their steps — actions, waits, branches — recording each.

A run is a row from its start: its version of the rule, its record, where it is (the
cursor) and when it goes on (`due_at`). It runs at once, in the process that saw the
event, until it waits, fails for now (retried with back-off) or ends; the worker's
scheduler (`scheduler.tick`) takes up the due ones — after a wait, a retry, or a worker
that died mid-run (its lease runs out) — so nothing is lost while the worker is down,
and a claim (a row update only one process wins) keeps each run going in one place at a
time. What starts a rule is in `triggers.py`; how a run records itself in `runlog.py`.

Guards: changes a run makes carry it as their cause (`accord.core.events.caused_by`),
so a rule triggered by a rule's change runs one level deeper, and past its `max_depth`
it is skipped with the reason. A rule that runs on one record more than `flood_limit`
times in a minute is paused, with a notice to its author.

In a batch of the worker's pass (many events, one transaction), the events' runs share
their reads and writes (`batch.py`). An import's events start no rule here: they are
gathered and queued at once (`imports.py`). Waits are in `waits.py`.
"""

import logging
import time
from collections import Counter
from contextlib import nullcontext
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.automation import actions as registry
from accord.automation import batch, conditions, records, runlog, triggers, waits
from accord.automation.models import Rule, RuleVersion, Run, RunStep
from accord.core.errors import message_of
from accord.core.events import DomainEvent, caused_by
from accord.work.models import Notification
from accord.work.services import notify

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=5)  # a run claimed longer ago than this lost its worker
RETRIES = [timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(hours=1)]
MAX_STEPS = 200  # steps one pass of a run may take (a guard against a wait-less loop)


RULES_TTL = 5.0  # seconds a process trusts its list of rules (saving one clears it at once)
_rules: dict[str, Any] = {"at": -RULES_TTL, "list": []}


def forget_rules() -> None:
    """Read the rules afresh on the next event (called when a rule is saved or paused)."""
    _rules["at"] = -RULES_TTL


def runnable_rules() -> list[Rule]:
    """The rules that run, each with its current version's definition: read once per
    RULES_TTL, so an event costs no query to find them."""

    if time.monotonic() - _rules["at"] < RULES_TTL:
        return _rules["list"]
    current = RuleVersion.objects.filter(rule=OuterRef("pk"), number=OuterRef("version"))
    found = list(
        Rule.objects.filter(enabled=True, broken="", paused_at=None)
        .annotate(version_id=Subquery(current.values("pk")[:1]))
        .select_related("created_by__role")  # the author acts: services check its role
    )
    versions = dict(
        RuleVersion.objects.filter(pk__in=[r.version_id for r in found]).values_list(
            "pk", "definition"
        )
    )
    for rule in found:
        rule.current_definition = versions.get(rule.version_id)
    _rules.update(at=time.monotonic(), list=found)
    return found


def on_event(event: DomainEvent, *, again: bool = True) -> None:
    """Start the runs an event calls for (subscribed to every event)."""
    if triggers.by_import(event.cause):
        return  # gathered apart: imports.on_event
    rules = runnable_rules()
    candidates = triggers.matching(event, rules)
    if not candidates:
        return
    # In a batch of the worker's pass: the records were read with the batch's others.
    shared = batch.shared(rules, timezone.now())
    found: list[tuple[str, Any, dict, list[Rule], Any]] = []
    for trigger, subject, record_id, payload, chosen in candidates:
        gone = records.gone(subject, payload) if trigger == "deleted" else None
        if gone:
            view = gone
        elif shared is not None:
            view = shared.view(subject, record_id)
        else:
            view = records.view(subject, record_id)
        if view is None:
            continue
        if triggers.trigger_values(payload) is not None:  # a received e-mail's sender, subject
            view = {**view, "trigger": triggers.trigger_values(payload)}
        held = [rule for rule in chosen if conditions.holds(rule.conditions, view)]
        if held:
            found.append((subject, record_id, view, held, gone))
    if not found:
        return
    try:
        _run_all(event, found, shared)
    except IntegrityError:  # a rule was deleted in another process meanwhile
        if shared is not None:
            raise  # the batch is undone and run again, each event in a savepoint
        forget_rules()
        if again:
            on_event(event, again=False)


def _run_all(
    event: DomainEvent,
    found: list[tuple[str, Any, dict, list[Rule], Any]],
    shared: batch.Shared | None = None,
) -> None:
    """Start the event's runs and go through them in one transaction, each action in a
    savepoint of its own (`_act`): one commit for them all, not one per run and step —
    waiting for commits to reach the disk was most of a run's time on PostgreSQL. A
    crash before the commit leaves nothing of them, as if the event had not come.

    In a batch of the worker's pass (`shared`), the batch's transaction is theirs, with
    no savepoint (a failure undoes the batch, run again with them), and their steps and
    timeline entries are written with the batch's."""
    started: list[tuple[Run, dict]] = []
    now = timezone.now()
    # An event dispatched again (a handler failed, a restore): the rules it started already
    # are not started twice. A first dispatch cannot have any (they commit together).
    ran = set()
    if event.id is not None and event.attempt > 1:
        ran = set(Run.objects.filter(event_id=event.id).values_list("rule_id", flat=True))
    if shared is None:
        within, gathering = transaction.atomic(), runlog.gathering()
    else:
        within, gathering = nullcontext(), runlog.gathering(shared.gathered, shared.users)
    with within, gathering:
        for subject, record_id, view, held, gone in found:
            if shared is not None:
                recent = shared.recent_runs(held, subject, record_id, now)
            else:
                recent = _recent_runs(held, subject, record_id, now)
            for rule in held:
                if rule.pk in ran:
                    continue
                run = start(
                    rule,
                    event.name,
                    subject,
                    record_id,
                    view,
                    cause=event.cause,
                    context={
                        "event": event.name,
                        "payload": triggers.kept(event.payload),
                        "gone": gone,
                        **({"data": view["trigger"]} if "trigger" in view else {}),
                    },
                    claimed=True,
                    recent=recent.get(rule.pk, 0),
                    event_id=event.id,
                    save=shared is None,  # a batch's runs: written at its end, in their state
                )
                if run is not None and shared is not None:
                    run.definition = getattr(rule, "current_definition", None)
                    shared.started(run)
                if run is not None and run.status == Run.RUNNING:
                    started.append((run, view))
        changed: set[tuple[str, Any]] = set()  # records a run changed: read again after
        for run, view in started:
            record = (run.subject_type, run.subject_id)
            go_on(run, timezone.now(), None if record in changed else view, inline=True)
            if getattr(run, "changed_record", False):
                changed.add(record)
                if shared is not None:
                    shared.changed(*record)


def _recent_runs(rules: list[Rule], subject: str, record_id: int, now: datetime) -> dict:
    """{rule id: its runs on the record in the last minute} for the flood guard, at once
    (counted here: a GROUP BY, or the rules' ids in the query, cost more to build than
    the few rows of the record's last minute cost to read)."""
    recent = Run.objects.filter(
        subject_type=subject, subject_id=record_id, created_at__gte=now - timedelta(minutes=1)
    )
    counts = Counter(recent.order_by().values_list("rule_id", flat=True))
    return {rule.pk: counts[rule.pk] for rule in rules}


def start(
    rule: Rule,
    event: str,
    subject: str,
    record_id: int | None,
    view: dict,
    *,
    cause: dict | None = None,
    context: dict | None = None,
    dry_run: bool = False,
    dedupe_key: str = "",
    claimed: bool = False,
    recent: int | None = None,
    save: bool = True,
    event_id: int | None = None,
) -> Run | None:
    """A run of the rule on the record when its conditions hold (else None): queued to go,
    or skipped with the reason when a guard stops it (unsaved without `save`: the caller
    writes many at once)."""
    if not dry_run and not conditions.holds(rule.conditions, view):
        return None
    now = timezone.now()
    depth = (cause or {}).get("depth", -1) + 1 if cause else 0
    version_id = getattr(rule, "version_id", None) or (
        rule.versions.order_by("-number").values_list("pk", flat=True).first()
    )
    if version_id is None:
        return None
    run = Run(
        rule=rule,
        version_id=version_id,
        event=event,
        subject_type=subject,
        subject_id=record_id,
        depth=depth,
        cursor=[0],
        context=context or {},
        dry_run=dry_run,
        due_at=now,
        dedupe_key=dedupe_key,
        event_id=event_id,
    )
    if depth > rule.max_depth:
        run.status, run.finished_at = Run.SKIPPED, now
        run.reason = _(
            "Stopped: rules triggering rules %(depth)s deep (this rule allows %(max)s)."
        ) % {"depth": depth, "max": rule.max_depth}
    elif (
        not dry_run
        and record_id is not None
        and not triggers.by_import(cause)  # many events at once by design, not a loop
        and _flooded(rule, subject, record_id, now, recent)
    ):
        return None
    elif claimed:  # this process goes through it now
        run.status, run.claimed_until, run.started_at = Run.RUNNING, now + LEASE, now
    if not save:
        return run
    try:
        if dedupe_key:
            with transaction.atomic():
                if Run.objects.filter(rule=rule, dedupe_key=dedupe_key).exists():
                    return None
                run.save()
        else:  # no savepoint: within an event's transaction a deleted rule shows at its commit
            run.save()
    except IntegrityError:  # the rule was deleted in another process meanwhile
        forget_rules()
        return None
    run.definition = getattr(rule, "current_definition", None)
    return run


def _flooded(
    rule: Rule, subject: str, record_id: int, now: datetime, recent: int | None = None
) -> bool:
    """Past its flood limit on this record (`recent` runs in the last minute, counted here
    when not given): the rule is paused and its author told."""
    if recent is None:
        recent = _recent_runs([rule], subject, record_id, now).get(rule.pk, 0)
    if recent < rule.flood_limit:
        return False

    reason = _("Paused: it ran %(count)s times in a minute on one record (%(subject)s %(id)s).") % {
        "count": recent,
        "subject": subject,
        "id": record_id,
    }
    forget_rules()
    with transaction.atomic():
        paused = Rule.objects.filter(pk=rule.pk, paused_at=None).update(
            paused_at=now, paused_reason=reason
        )
        if paused:
            notify(
                rule.created_by,
                Notification.AUTOMATION,
                f"automation-paused:{rule.pk}:{now:%s}",
                message=_("The rule “%(rule)s” is paused. %(reason)s")
                % {"rule": rule.name, "reason": reason},
                rule=rule.name,
            )
    return True


# --- going through a run ---------------------------------------------------------------


def at(actions: list, cursor: list) -> dict | None:
    """The step the cursor points at ([2] or [1, "then", 0]), None past the end."""
    steps, item = actions, None
    for part in cursor:
        if isinstance(part, int):
            if not isinstance(steps, list) or part >= len(steps):
                return None
            item = steps[part]
        else:
            steps = (item or {}).get(part) or []
    return item


def advance(actions: list, cursor: list) -> list:
    """The cursor of the step after: the next in its list, or after the branch it is in."""
    cursor = [*cursor[:-1], cursor[-1] + 1]
    while len(cursor) > 1 and at(actions, cursor) is None:
        cursor = [*cursor[:-3], cursor[-3] + 1]
    return cursor


def claim(run_id: int, now: datetime) -> Run | None:
    """Take a due run for this process: only one process's update wins."""
    free = Q(claimed_until=None) | Q(claimed_until__lt=now)
    taken = Run.objects.filter(
        free, pk=run_id, status__in=[Run.QUEUED, Run.WAITING, Run.RUNNING], due_at__lte=now
    ).update(**lease(now))
    if not taken:
        return None
    return with_rules([run_id])[0]


def lease(now: datetime) -> dict:
    started = Coalesce(F("started_at"), Value(now, output_field=DateTimeField()))
    return {"status": Run.RUNNING, "claimed_until": now + LEASE, "started_at": started}


def with_rules(ids: list[int]) -> list[Run]:
    """The claimed runs, with what going through them reads (the author's role too)."""
    runs = Run.objects.select_related("rule__created_by__role", "version").filter(pk__in=ids)
    return list(runs.order_by("due_at", "pk"))


def execute(run_id: int, now: datetime | None = None) -> Run | None:
    """Take a due run and go through its steps."""
    now = now or timezone.now()
    run = claim(run_id, now)
    return None if run is None else go_on(run, now)


def go_on(run: Run, now: datetime, view: dict | None = None, *, inline: bool = False) -> Run:
    """Go through a claimed run's steps from its cursor until it waits, fails for now or
    ends. The record's view is read when a step needs it and again after a step that
    changed the record. `inline` (in a user's request): a step that calls another machine
    is left to the worker, which takes the run up at once."""
    definition = getattr(run, "definition", None) or run.version.definition
    steps = definition.get("actions") or []
    made = dict(run.context.get("made") or {})
    for _count in range(MAX_STEPS):
        item = at(steps, run.cursor)
        if item is None:  # the last action's transaction may have finished it already
            return run if run.status == Run.DONE else _finish(run, Run.DONE, now, made=made)
        if view is None:
            view = view_of(run)
        if view is None:
            return _finish(run, Run.SKIPPED, now, reason=_("The record is gone."), made=made)
        path = ".".join(str(part) for part in run.cursor)
        kind = item.get("type", "")
        if kind == "branch":
            yes = conditions.holds(item.get("if"), view)
            runlog.note(
                run,
                path,
                kind,
                RunStep.DONE,
                _("Yes: the first way") if yes else _("No: the other way"),
            )
            run.cursor = [*run.cursor, "then" if yes else "else", 0]
            if at(steps, run.cursor) is None:
                run.cursor = advance(steps, run.cursor[:-2])
            continue
        if kind == "wait":
            outcome = waits.wait(run, item, view, now, path)
            if outcome == "wait":
                return run
            if outcome == "timeout" and item.get("timeout_steps"):
                run.cursor = [*run.cursor, "timeout_steps", 0]
                continue
            run.cursor = advance(steps, run.cursor)
            continue
        action = registry.ACTIONS.get(kind)
        if inline and action is not None and action.network and not run.dry_run:
            return _to_worker(run, now)
        following = advance(steps, run.cursor)
        outcome = _act(run, item, view, now, path, made, following, at(steps, following) is None)
        if outcome not in ("done", "unchanged"):
            return run
        action = registry.ACTIONS.get(kind)
        if outcome == "done" and (action is None or action.changes_record):
            view, run.changed_record = None, True
    return _finish(
        run,
        Run.FAILED,
        now,
        error=_("More than %(count)s steps in one go.") % {"count": MAX_STEPS},
        made=made,
    )


def view_of(run: Run) -> dict | None:
    """What the run's steps see: the record now (None when it is gone) — or, for a rule
    on a deletion, the record as it was — with what an inbound call sent as `trigger`."""
    if run.context.get("gone"):
        return run.context["gone"]
    return with_trigger(
        run, records.view(run.subject_type, run.subject_id) if run.subject_id else {}
    )


def with_trigger(run: Run, view: dict | None) -> dict | None:
    if run.context.get("gone"):
        return run.context["gone"]
    if view is not None and run.context.get("data") is not None:
        view = {**view, "trigger": run.context["data"]}
    return view


def _act(
    run: Run,
    item: dict,
    view: dict,
    now: datetime,
    path: str,
    made: dict,
    following: list,
    last: bool = False,
) -> str:
    """Do one action — with its log entry and the run's move to the `following` step (its
    end, when it is the `last`), in one transaction, so a crash never does it twice;
    "done" ("unchanged": it found nothing to change), or the run is left failed or due
    for a retry. In a batch that is run again with savepoints when anything in it fails,
    the action has none of its own, and its failure goes up to undo the batch."""
    action = registry.ACTIONS.get(item.get("type", ""))
    started = time.perf_counter()
    if action is None:
        error = _("Unknown action %(action)s.") % {"action": item.get("type")}
        runlog.note(run, path, item.get("type", ""), RunStep.FAILED, "", error)
        _finish(run, Run.FAILED, now, error=error, made=made)
        return "failed"
    step = registry.Step(
        subject=run.subject_type,
        record_id=run.subject_id,
        view=view,
        actor=run.rule.created_by,
        now=now,
        rule_name=run.rule.name,
        dry_run=run.dry_run,
        made={**made, "run": run.key, "path": path},
    )
    params = item.get("params") or {}
    isolated = action.network or not batch.without_savepoints()
    try:
        cause = {"rule": run.rule_id, "rule_name": run.rule.name, "run": run.pk or run.key,
                 "depth": run.depth}  # fmt: skip
        with caused_by(cause):
            # A call to another machine is made before the transaction: a crash between the
            # two repeats the call (receivers get the same id), never half a write.
            message = action.run(step, params) if action.network else ""
            with transaction.atomic() if isolated else nullcontext():
                if not action.network:
                    message = action.run(step, params)
                took = int((time.perf_counter() - started) * 1000)
                status = RunStep.DRY if run.dry_run else RunStep.DONE
                done = runlog.step(
                    path, action.kind, status, message, attempt=run.attempts + 1, took=took
                )
                if run.subject_id is None and step.record_id is not None:
                    # A step made the record a rule on a stranger's e-mail is about.
                    run.subject_id = step.record_id
                traced = run.subject_type in action.traced
                shown = not (run.dry_run or run.context.get("gone") or traced)
                shown = shown and run.subject_id is not None
                entry = runlog.timeline_entry(run, message) if shown else None
                made.update({k: v for k, v in step.made.items() if k not in ("run", "path")})
                moved = {
                    "cursor": following,
                    "attempts": 0,
                    "context": {**run.context, "made": made},
                }
                if run.subject_id is not None:
                    moved["subject_id"] = run.subject_id
                runlog.save(run, done, entry, **moved, **(runlog.ended(Run.DONE) if last else {}))
        run.cursor, run.attempts = following, 0
        if last:
            run.status, run.error, run.reason = Run.DONE, "", ""
    except Exception as error:
        if not isolated:
            raise  # the batch is undone and run again, each action in a savepoint
        return _failure(run, path, action.kind, error, now, made)
    return "done" if step.changed else "unchanged"


def _failure(run: Run, path: str, kind: str, error: Exception, now: datetime, made: dict) -> str:
    """A failed action on the run's log: a step that cannot be done ever fails the run,
    others are retried with back-off."""
    if isinstance(error, registry.ActionError):
        return _failed(run, path, kind, str(error), now, made, final=error.final)
    if isinstance(error, ValidationError | PermissionDenied):
        return _failed(run, path, kind, _plain_error(error), now, made, final=True)
    # A broken step must not stop the worker: retried, logged.
    log.exception("automation run %s step %s failed", run.pk, path, exc_info=error)
    return _failed(run, path, kind, f"{type(error).__name__}: {error}", now, made)


def _failed(run, path, kind, error, now, made, *, final=False) -> str:
    attempts = run.attempts + 1
    runlog.note(run, path, kind, RunStep.FAILED, "", error, attempt=attempts)
    if final or attempts > len(RETRIES) or run.dry_run:
        _finish(run, Run.FAILED, now, error=error, made=made)
        if not run.dry_run:
            _tell_author(run, error)
        return "failed"
    runlog.save(
        run,
        status=Run.QUEUED,
        attempts=attempts,
        due_at=now + RETRIES[attempts - 1],
        claimed_until=None,
        error=error,
        cursor=run.cursor,  # past a wait that ended: the retry must not wait again
        context={**run.context, "made": made},
    )
    return "retry"


def _to_worker(run: Run, now: datetime) -> Run:
    """Leave the run's next step (a call to another machine) to be taken up alone, outside
    any transaction shared with other runs: by the scheduler's pass, at once."""
    runlog.save(run, status=Run.QUEUED, due_at=now, claimed_until=None, cursor=run.cursor)
    run.status, run.to_worker = Run.QUEUED, True
    return run


def _finish(
    run: Run,
    status: str,
    now: datetime,
    *,
    error: str = "",
    reason: str = "",
    made: dict | None = None,
) -> Run:
    runlog.save(
        run,
        **runlog.ended(status, error, reason),
        cursor=run.cursor,
        context={**run.context, "made": made or {}},
    )
    run.status, run.error, run.reason = status, error, reason
    return run


def _tell_author(run: Run, error: str) -> None:
    notify(
        run.rule.created_by,
        Notification.AUTOMATION,
        f"automation-failed:{run.pk}",
        message=_("The rule “%(rule)s” failed: %(error)s")
        % {"rule": run.rule.name, "error": error},
        rule=run.rule.name,
    )


def _plain_error(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return message_of(error)
    return str(error)
