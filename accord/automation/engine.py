"""The engine: domain events start runs of the rules whose trigger and conditions match,
and runs go through their steps — actions, waits, branches — recording each.

A run is a row from its start: its version of the rule, its record, where it is (the
cursor) and when it goes on (`due_at`). It runs at once, in the process that saw the
event, until it waits, fails for now (retried with back-off) or ends; the worker's
scheduler (`tick`) takes up the due ones — after a wait, a retry, or a worker that died
mid-run (its lease runs out) — so nothing is lost while the worker is down, and a claim
(a row update only one process wins) keeps each run going in one place at a time.

Guards: changes a run makes carry it as their cause (`accord.core.events.caused_by`),
so a rule triggered by a rule's change runs one level deeper, and past its `max_depth`
it is skipped with the reason. A rule that runs on one record more than `flood_limit`
times in a minute is paused, with a notice to its author.
"""

import logging
import time
from collections import Counter
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import DateTimeField, F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.automation import actions as registry
from accord.automation import conditions, records
from accord.automation.models import Rule, Run, RunStep
from accord.core.events import DomainEvent, caused_by

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=5)  # a run claimed longer ago than this lost its worker
RETRIES = [timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(hours=1)]
MAX_STEPS = 200  # steps one pass of a run may take (a guard against a wait-less loop)
POLL = timedelta(minutes=5)  # how often "wait until a condition holds" looks again
BATCH = 200  # due runs the scheduler takes at a time
PER_COMMIT = 20  # due runs a pass goes through in one transaction
PASS_SECONDS = 20.0  # a pass goes on with further batches this long (the worker's beat is 30 s)


@dataclass(frozen=True)
class Trigger:
    label: Any
    subjects: tuple[str, ...]
    events: dict[str, str]  # event name -> the payload's key holding the record's id


TRIGGERS = {
    "created": Trigger(
        gettext_lazy("A record is created"),
        ("person", "company", "deal", "task"),
        {
            "person.created": "person_id",
            "company.created": "company_id",
            "deal.created": "deal_id",
            "task.created": "task_id",
        },
    ),
    "updated": Trigger(
        gettext_lazy("A record is changed"),
        ("person", "company", "deal", "task"),
        {
            "person.updated": "person_id",
            "company.updated": "company_id",
            "deal.updated": "deal_id",
            "task.updated": "task_id",
        },
    ),
    "stage_entered": Trigger(
        gettext_lazy("A deal enters a stage"), ("deal",), {"deal.stage_changed": "deal_id"}
    ),
    "stage_left": Trigger(
        gettext_lazy("A deal leaves a stage"), ("deal",), {"deal.stage_changed": "deal_id"}
    ),
    "won": Trigger(gettext_lazy("A deal is won"), ("deal",), {"deal.won": "deal_id"}),
    "lost": Trigger(gettext_lazy("A deal is lost"), ("deal",), {"deal.lost": "deal_id"}),
    "task_completed": Trigger(
        gettext_lazy("A task is completed"), ("task",), {"task.completed": "task_id"}
    ),
    "task_overdue": Trigger(
        gettext_lazy("A task becomes overdue"), ("task",), {"task.overdue": "task_id"}
    ),
    "activity_logged": Trigger(
        gettext_lazy("A call, meeting or note is logged"),
        ("person", "company", "deal"),
        {"activity.logged": "activity_id"},
    ),
    "date_reached": Trigger(
        gettext_lazy("A date comes (a birthday, a close date)"), ("person", "deal"), {}
    ),
    "deal_idle": Trigger(gettext_lazy("A deal stays in its stage too long"), ("deal",), {}),
    "manual": Trigger(gettext_lazy("By hand, on a record"), ("person", "company", "deal"), {}),
    "deleted": Trigger(
        gettext_lazy("A record is deleted"),
        ("person", "company"),
        {"person.deleted": "person_id", "company.deleted": "company_id"},
    ),
    "schedule": Trigger(
        gettext_lazy("On a schedule (every day, week or month)"),
        ("person", "company", "deal", "task"),
        {},
    ),
    "webhook": Trigger(
        gettext_lazy("Another system calls the rule's web address"),
        ("person", "company", "deal", "task"),
        {},
    ),
}
TIME_TRIGGERS = ("date_reached", "deal_idle", "schedule")
EVENTS: dict[str, list[tuple[str, str, str]]] = {}  # event -> [(trigger, subject, id key)]
for _key, _trigger in TRIGGERS.items():
    for _event, _id_key in _trigger.events.items():
        EVENTS.setdefault(_event, []).append((_key, _event.split(".")[0], _id_key))


RULES_TTL = 5.0  # seconds a process trusts its list of rules (saving one clears it at once)
_rules: dict[str, Any] = {"at": -RULES_TTL, "list": []}


def forget_rules() -> None:
    """Read the rules afresh on the next event (called when a rule is saved or paused)."""
    _rules["at"] = -RULES_TTL


def runnable_rules() -> list[Rule]:
    """The rules that run, each with its current version's definition: read once per
    RULES_TTL, so an event costs no query to find them."""
    from django.db.models import OuterRef, Subquery

    from accord.automation.models import RuleVersion

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
    matches = EVENTS.get(event.name)
    if not matches:
        return
    triggers = {trigger for trigger, _subject, _key in matches}
    rules = [rule for rule in runnable_rules() if rule.trigger in triggers]
    if not rules:
        return
    found: list[tuple[str, Any, dict, list[Rule]]] = []
    for trigger, subject, record_id, payload in _records_of(event, matches):
        chosen = [r for r in rules if r.trigger == trigger and r.subject == subject]
        chosen = [r for r in chosen if _options_match(r, payload)]
        if record_id is None or not chosen:
            continue
        gone = records.gone(subject, payload) if trigger == "deleted" else None
        view = gone or records.view(subject, record_id)
        if view is None:
            continue
        held = [rule for rule in chosen if conditions.holds(rule.conditions, view)]
        if held:
            found.append((subject, record_id, view, held, gone))
    if not found:
        return
    try:
        _run_all(event, found)
    except IntegrityError:  # a rule was deleted in another process meanwhile
        forget_rules()
        if again:
            on_event(event, again=False)


def _run_all(event: DomainEvent, found: list[tuple[str, Any, dict, list[Rule], Any]]) -> None:
    """Start the event's runs and go through them in one transaction, each action in a
    savepoint of its own (`_act`): one commit for them all, not one per run and step —
    waiting for commits to reach the disk was most of a run's time on PostgreSQL. A
    crash before the commit leaves nothing of them, as if the event had not come."""
    started: list[tuple[Run, dict]] = []
    now = timezone.now()
    with transaction.atomic(), _gathering():
        for subject, record_id, view, held, gone in found:
            recent = _recent_runs(held, subject, record_id, now)
            for rule in held:
                run = start(
                    rule,
                    event.name,
                    subject,
                    record_id,
                    view,
                    cause=event.cause,
                    context={"event": event.name, "payload": _kept(event.payload), "gone": gone},
                    claimed=True,
                    recent=recent.get(rule.pk, 0),
                )
                if run is not None and run.status == Run.RUNNING:
                    started.append((run, view))
        changed: set[tuple[str, Any]] = set()  # records a run changed: read again after
        for run, view in started:
            record = (run.subject_type, run.subject_id)
            go_on(run, timezone.now(), None if record in changed else view, inline=True)
            if getattr(run, "changed_record", False):
                changed.add(record)


def _recent_runs(rules: list[Rule], subject: str, record_id: int, now: datetime) -> dict:
    """{rule id: its runs on the record in the last minute} for the flood guard, at once
    (counted here: a GROUP BY, or the rules' ids in the query, cost more to build than
    the few rows of the record's last minute cost to read)."""
    recent = Run.objects.filter(
        subject_type=subject, subject_id=record_id, created_at__gte=now - timedelta(minutes=1)
    )
    counts = Counter(recent.order_by().values_list("rule_id", flat=True))
    return {rule.pk: counts[rule.pk] for rule in rules}


def _kept(payload: dict) -> dict:
    """What a run keeps of its event: ids and field names, not the values that changed
    (personal data that would outlive an erasure)."""
    return {key: value for key, value in payload.items() if key != "changes"}


def _records_of(event: DomainEvent, matches) -> list[tuple[str, str, Any, dict]]:
    """(trigger, subject, record id, payload) of each record the event is about: an
    activity is about its deal and its client."""
    if event.name != "activity.logged":
        return [
            (trigger, subject, event.payload.get(key), event.payload)
            for trigger, subject, key in matches
        ]
    from accord.work.models import Activity

    activity = (
        Activity.objects.filter(pk=event.payload.get("activity_id"))
        .values("kind", "deal_id", "person_id", "company_id")
        .first()
    )
    if activity is None:
        return []
    payload = {**event.payload, "kind": activity["kind"]}
    return [
        ("activity_logged", subject, activity[f"{subject}_id"], payload)
        for subject in ("deal", "person", "company")
        if activity[f"{subject}_id"]
    ]


def _options_match(rule: Rule, payload: dict) -> bool:
    options = rule.trigger_options or {}
    if rule.trigger in ("stage_entered", "stage_left"):
        entered, left = payload.get("stage_id"), payload.get("from_stage_id")
        if entered == left:
            return False  # a card reordered in its column
        stage = options.get("stage")
        moved = entered if rule.trigger == "stage_entered" else left
        return not stage or str(stage) == str(moved)
    if rule.trigger == "activity_logged" and options.get("kind"):
        return options["kind"] == payload.get("kind")
    if rule.trigger == "updated" and options.get("field"):
        return _changed(options, payload)
    return True


def _changed(options: dict, payload: dict) -> bool:
    """The field changed, and from and to the values the rule names (when it names them)."""
    change = next(
        (c for c in payload.get("changes") or [] if c.get("field") == options["field"]), None
    )
    if change is None:
        return options["field"] in (payload.get("fields") or [])
    return all(
        conditions.compare(change.get(end), "eq", options[key])
        for key, end in (("from", "old"), ("to", "new"))
        if str(options.get(key) or "").strip()
    )


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
) -> Run | None:
    """A run of the rule on the record when its conditions hold (else None): queued to go,
    or skipped with the reason when a guard stops it."""
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
    )
    if depth > rule.max_depth:
        run.status, run.finished_at = Run.SKIPPED, now
        run.reason = _(
            "Stopped: rules triggering rules %(depth)s deep (this rule allows %(max)s)."
        ) % {"depth": depth, "max": rule.max_depth}
    elif not dry_run and record_id is not None and _flooded(rule, subject, record_id, now, recent):
        return None
    elif claimed:  # this process goes through it now
        run.status, run.claimed_until, run.started_at = Run.RUNNING, now + LEASE, now
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
    from accord.work.models import Notification
    from accord.work.services import notify

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
    ).update(**_claimed(now))
    if not taken:
        return None
    return _runs([run_id])[0]


def claim_due(now: datetime) -> list[Run]:
    """Take up to BATCH due runs for this process at once, in one transaction: on
    PostgreSQL the rows another worker is taking are skipped; SQLite lets one writer in."""
    free = Q(claimed_until=None) | Q(claimed_until__lt=now)
    with transaction.atomic():
        due = Run.objects.filter(
            free, status__in=[Run.QUEUED, Run.WAITING, Run.RUNNING], due_at__lte=now
        ).order_by("due_at")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("pk", flat=True)[:BATCH])
        Run.objects.filter(pk__in=ids).update(**_claimed(now))
    return _runs(ids)


def _claimed(now: datetime) -> dict:
    started = Coalesce(F("started_at"), Value(now, output_field=DateTimeField()))
    return {"status": Run.RUNNING, "claimed_until": now + LEASE, "started_at": started}


def _runs(ids: list[int]) -> list[Run]:
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
            _log(
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
            outcome = _wait(run, item, view, now, path)
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
        if outcome != "done":
            return run
        action = registry.ACTIONS.get(kind)
        if action is None or action.changes_record:
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
    return _with_trigger(
        run, records.view(run.subject_type, run.subject_id) if run.subject_id else {}
    )


def _with_trigger(run: Run, view: dict | None) -> dict | None:
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
    "done", or the run is left failed or due for a retry."""
    action = registry.ACTIONS.get(item.get("type", ""))
    started = time.perf_counter()
    if action is None:
        error = _("Unknown action %(action)s.") % {"action": item.get("type")}
        _log(run, path, item.get("type", ""), RunStep.FAILED, "", error)
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
        made={**made, "run_id": run.pk, "path": path},
    )
    params = item.get("params") or {}
    try:
        with caused_by({"rule": run.rule_id, "run": run.pk, "depth": run.depth}):
            # A call to another machine is made before the transaction: a crash between the
            # two repeats the call (receivers get the same id), never half a write.
            message = action.run(step, params) if action.network else ""
            with transaction.atomic():
                if not action.network:
                    message = action.run(step, params)
                took = int((time.perf_counter() - started) * 1000)
                status = RunStep.DRY if run.dry_run else RunStep.DONE
                done = _step(
                    path, action.kind, status, message, attempt=run.attempts + 1, took=took
                )
                shown = not run.dry_run and not run.context.get("gone")
                entry = _on_timeline(run, message) if shown else None
                made.update({k: v for k, v in step.made.items() if k not in ("run_id", "path")})
                moved = {
                    "cursor": following,
                    "attempts": 0,
                    "context": {**run.context, "made": made},
                }
                _save(run, done, entry, **moved, **(_ended(Run.DONE) if last else {}))
        run.cursor, run.attempts = following, 0
        if last:
            run.status, run.error, run.reason = Run.DONE, "", ""
    except registry.ActionError as error:
        return _failed(run, path, action.kind, str(error), now, made, final=error.final)
    except (ValidationError, PermissionDenied) as error:
        return _failed(run, path, action.kind, _plain_error(error), now, made, final=True)
    except Exception as error:  # a broken step must not stop the worker: retried, logged
        log.exception("automation run %s step %s failed", run.pk, path)
        return _failed(run, path, action.kind, f"{type(error).__name__}: {error}", now, made)
    return "done"


def _failed(run, path, kind, error, now, made, *, final=False) -> str:
    attempts = run.attempts + 1
    _log(run, path, kind, RunStep.FAILED, "", error, attempt=attempts)
    if final or attempts > len(RETRIES) or run.dry_run:
        _finish(run, Run.FAILED, now, error=error, made=made)
        if not run.dry_run:
            _tell_author(run, error)
        return "failed"
    _save(
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


def _wait(run: Run, item: dict, view: dict, now: datetime, path: str) -> str:
    """ "wait" (the run sleeps until its due time), "go" or "timeout"."""
    params = item.get("params") or {}
    if run.dry_run:
        _log(run, path, "wait", RunStep.DRY, _describe_wait(params))
        return "go"
    started = run.wait_started_at
    if started is None:
        started = now
        wake = _wake(params, view, now)
        if params.get("until") and conditions.holds(params["until"], view):
            _log(run, path, "wait", RunStep.DONE, _("The condition holds already"))
            return "go"
        if wake is not None and wake <= now:
            _log(run, path, "wait", RunStep.DONE, _("The time has come already"))
            return "go"
        _log(run, path, "wait", RunStep.WAITING, _describe_wait(params))
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
    return registry.later(now, params.get("amount", 0), params.get("unit", "minutes"))


def _deadline(params: dict, started: datetime) -> datetime | None:
    timeout = params.get("timeout") or {}
    if not timeout.get("amount"):
        return None
    return registry.later(started, timeout["amount"], timeout.get("unit", "hours"))


def _sleep(run: Run, started: datetime, wake: datetime, params: dict, now: datetime) -> str:
    deadline = _deadline(params, started) if params.get("until") else None
    if deadline is not None:
        wake = min(wake, deadline)
    _save(
        run,
        status=Run.WAITING,
        due_at=wake,
        wait_started_at=started,
        claimed_until=None,
        cursor=run.cursor,
    )
    run.status = Run.WAITING
    return "wait"


def _to_worker(run: Run, now: datetime) -> Run:
    """Leave the run's next step (a call to another machine) to be taken up alone, outside
    any transaction shared with other runs: by the scheduler's pass, at once."""
    _save(run, status=Run.QUEUED, due_at=now, claimed_until=None, cursor=run.cursor)
    run.status, run.to_worker = Run.QUEUED, True
    return run


def _woke(run: Run, path: str, message: str, outcome: str = "go") -> str:
    _log(run, path, "wait", RunStep.DONE, message)
    run.wait_started_at = None
    _unsaved(run)["fields"]["wait_started_at"] = None  # saved with the run's next change
    return outcome


def _describe_wait(params: dict) -> str:
    if params.get("until"):
        return _("Waiting until the condition holds")
    if params.get("until_field"):
        return _("Waiting until %(field)s") % {"field": params["until_field"]}
    from accord.automation.describe import duration

    return _("Waiting %(time)s") % {
        "time": duration(params.get("amount", 0), params.get("unit", "minutes"))
    }


def _finish(
    run: Run,
    status: str,
    now: datetime,
    *,
    error: str = "",
    reason: str = "",
    made: dict | None = None,
) -> Run:
    _save(
        run,
        **_ended(status, error, reason),
        cursor=run.cursor,
        context={**run.context, "made": made or {}},
    )
    run.status, run.error, run.reason = status, error, reason
    return run


def _ended(status: str, error: str = "", reason: str = "") -> dict:
    return {
        "status": status,
        "finished_at": timezone.now(),
        "claimed_until": None,
        "due_at": None,
        "error": error,
        "reason": reason,
    }


def _log(run, path, action, status, message, error="", *, attempt=1, took=0) -> None:
    """Note a step of the run: written with the run's next change (`_save`)."""
    _unsaved(run)["steps"].append(
        _step(path, action, status, message, error, attempt=attempt, took=took)
    )


def _step(path, action, status, message, error="", *, attempt=1, took=0) -> dict:
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


def _unsaved(run: Run) -> dict:
    """The steps logged and the fields changed since the run was last saved."""
    if not hasattr(run, "unsaved"):
        run.unsaved = {"steps": [], "fields": {}}
    return run.unsaved


def _save(run: Run, done: dict | None = None, entry=None, **fields) -> None:
    """Save the run's change with the steps logged since the last, and an action's own
    step (`done`) and timeline `entry`: one UPDATE, then one INSERT per table, or none
    while `_gathering`. Logged steps are kept on the run until then, so a rolled-back
    action's savepoint loses none of them."""
    unsaved = _unsaved(run)
    Run.objects.filter(pk=run.pk).update(**{**unsaved["fields"], **fields})
    steps = [RunStep(run=run, **step) for step in [*unsaved["steps"], *([done] if done else [])]]
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
def _gathering():
    """Within one transaction (an event's runs, a share of a scheduler pass): the runs'
    steps and timeline entries are written at its end, an INSERT per table, rather than
    two INSERTs per action; the people actions name are read once (`who_is`)."""
    from accord.core.models import TimelineEvent

    gathered: dict[str, list] = {"steps": [], "timeline": []}
    token = _gathered.set(gathered)
    try:
        with registry.users_read_once():
            yield
    finally:
        _gathered.reset(token)
    RunStep.objects.bulk_create(gathered["steps"])
    TimelineEvent.objects.bulk_create(gathered["timeline"])


def _on_timeline(run: Run, message: str):
    """The run's entry on its record's timeline, unsaved (`_save` writes it)."""
    from django.contrib.contenttypes.models import ContentType

    from accord.core.models import TimelineEvent

    model = records.model_of(run.subject_type)
    return TimelineEvent(
        subject_type=ContentType.objects.get_for_model(model),
        subject_id=run.subject_id,
        kind="automation",
        data={"rule": run.rule.name, "rule_id": run.rule_id, "message": message},
        occurred_at=timezone.now(),
    )


def _tell_author(run: Run, error: str) -> None:
    from accord.work.models import Notification
    from accord.work.services import notify

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
        return " ".join(str(message) for message in error.messages)
    return str(error)


# --- the scheduler ---------------------------------------------------------------------


DATE_FIELDS = {"person": ["birthday"], "deal": ["expected_close_date"]}
IDLE_EVERY = timedelta(hours=1)  # how often stuck deals are looked for


def fire_time_rules(now: datetime) -> int:
    """Start the runs of the time-triggered rules whose moment has come: a date field
    reaching today (plus or minus days, at a time of day on the company's clock), a deal
    past its stage's limit, a schedule. Each record once per date, stay in a stage or
    scheduled moment (the run's dedupe key), however many passes or workers; the runs are
    queued for the scheduler's pass, so one rule over many records holds up nothing.
    Answers how many runs started; a rule that fails is logged and the others go on."""
    started = 0
    for rule in runnable_rules():
        if rule.trigger not in TIME_TRIGGERS:
            continue
        try:
            started += _fire(rule, now)
        except Exception:  # one bad rule must not stop every other rule, wait and retry
            log.exception("automation: firing rule %s failed", rule.pk)
    return started


def _fire(rule: Rule, now: datetime) -> int:
    if rule.next_fire_at is None:
        Rule.objects.filter(pk=rule.pk).update(next_fire_at=next_fire(rule, now))
        forget_rules()
        return 0
    if rule.next_fire_at > now:
        return 0
    claimed = Rule.objects.filter(pk=rule.pk, next_fire_at=rule.next_fire_at).update(
        next_fire_at=next_fire(rule, now)
    )
    forget_rules()
    if not claimed:
        return 0  # another worker fires it
    started = 0
    for record_id, key in _due_records(rule, now, rule.next_fire_at):
        view = records.view(rule.subject, record_id)
        if view is None:
            continue
        run = start(
            rule, rule.trigger, rule.subject, record_id, view,
            dedupe_key=key, context={"event": rule.trigger},
        )  # fmt: skip
        started += run is not None and run.status == Run.QUEUED
    return started


def next_fire(rule: Rule, now: datetime) -> datetime | None:
    """The rule's next moment after `now`, on the company's clock: hourly for stuck deals,
    daily at its time for dates, and on its days for a schedule (None: not a time rule)."""
    if rule.trigger not in TIME_TRIGGERS:
        return None
    if rule.trigger == "deal_idle":
        return now + IDLE_EVERY
    options = rule.trigger_options or {}
    hour, _colon, minute = str(options.get("time") or "09:00").partition(":")
    local = timezone.localtime(now)
    moment = local.replace(
        hour=int(hour or 9) % 24, minute=int(minute or 0) % 60, second=0, microsecond=0
    )
    scheduled = rule.trigger == "schedule"
    while moment <= local or (scheduled and not _on_schedule(options, moment)):
        moment = timezone.make_aware(
            datetime.combine(moment.date() + timedelta(days=1), moment.time())
        )
    return moment


def _on_schedule(options: dict, moment: datetime) -> bool:
    """Whether a schedule fires on the day of `moment` (a date trigger fires every day);
    the 31st of a shorter month is its last day."""
    every = options.get("every")
    if every == "week":
        return moment.weekday() in {int(day) for day in options.get("weekdays") or [0]}
    if every == "month":
        day = int(options.get("day") or 1)
        last = (moment.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        return moment.day == min(day, last.day)
    return True


def _due_records(rule: Rule, now: datetime, moment: datetime):
    """(record id, dedupe key) of the records the rule fires on now, for its `moment`."""
    from accord.sales.models import Deal

    options = rule.trigger_options or {}
    if rule.trigger == "schedule":
        for record_id in records.scheduled(rule.subject, options.get("segment")):
            yield record_id, f"schedule:{moment:%Y-%m-%dT%H:%M}:{record_id}"
        return
    if rule.trigger == "deal_idle":
        days = options.get("days")
        deals = Deal.objects.filter(status=Deal.OPEN).select_related("stage")
        for deal in deals.filter(stage_entered_at__lte=now - timedelta(days=int(days or 1))):
            limit = int(days) if days else deal.stage.rotting_days
            if limit and deal.stage_entered_at <= now - timedelta(days=limit):
                yield deal.pk, f"idle:{deal.pk}:{deal.stage_id}:{deal.stage_entered_at:%s}"
        return
    field = options.get("field") or DATE_FIELDS[rule.subject][0]
    # "3 days before" the date: today's run is for the records whose date is in 3 days.
    day = timezone.localdate(now) + timedelta(days=int(options.get("days_before") or 0))
    model = records.model_of(rule.subject)
    if field == "birthday":  # every year; 29 February on the 28th when there is none
        found = model.objects.filter(birthday__month=day.month, birthday__day=day.day)
        if day.month == 2 and day.day == 28 and not _leap(day.year):
            found = model.objects.filter(birthday__month=2, birthday__day__in=[28, 29])
    else:
        found = model.objects.filter(**{field: day})
    if rule.subject == "person":
        found = found.filter(erased_at=None)
    for record_id in found.values_list("pk", flat=True).iterator():
        yield record_id, f"date:{field}:{day.isoformat()}:{record_id}"


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def tick(now: datetime) -> int:
    """The worker's pass: start the time-triggered rules whose moment has come, then go
    on with the due runs (after a wait, a retry, a worker that died mid-run, or just
    queued), a batch at a time for at most PASS_SECONDS; answers how many were taken."""
    fire_time_rules(now)
    taken, began = 0, time.monotonic()
    while time.monotonic() - began < PASS_SECONDS:
        runs = claim_due(now)
        # PER_COMMIT runs to a transaction (each action in a savepoint): a commit each was
        # most of the pass on PostgreSQL; the rest stay claimed until their turn or lease.
        for first in range(0, len(runs), PER_COMMIT):
            share = runs[first : first + PER_COMMIT]
            with transaction.atomic(), _gathering():
                _go_through(share, now)
            # A step calling another machine is made outside the share's transaction.
            for run in share:
                if getattr(run, "to_worker", False):
                    execute(run.pk, now)
        taken += len(runs)
        if len(runs) < BATCH:
            break
    return taken


def _go_through(runs: list[Run], now: datetime) -> None:
    """Go on with claimed runs, their records read at once (a query per table, not per
    run); a run after one that changed its record reads it again."""
    known: dict[tuple[str, Any], dict | None] = {}
    for subject in {run.subject_type for run in runs if run.subject_id}:
        ids = [run.subject_id for run in runs if run.subject_type == subject and run.subject_id]
        found = records.views(subject, ids)
        known.update({(subject, pk): found.get(pk) for pk in ids})
    for run in runs:
        record = (run.subject_type, run.subject_id)
        view = known.pop(record, None) if run.subject_id else {}
        go_on(run, now, _with_trigger(run, view), inline=True)
