"""The scheduler: the worker's pass (`tick`, every few seconds) starts the rules whose
moment has come — a date field reaching its day, a deal stuck in its stage, a schedule
(every day, some weekdays, a day of the month) — and goes on with the due runs: after a
wait, a retry, a webhook step left to it, or a worker that died mid-run."""

import logging
import time
from datetime import datetime, timedelta
from itertools import batched
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accord.automation import engine, holidays, records, runlog
from accord.automation.engine import execute, forget_rules, go_on, runnable_rules, start
from accord.automation.models import Rule, Run
from accord.sales.models import Deal

log = logging.getLogger(__name__)
BATCH = 200  # due runs the scheduler takes at a time
PER_COMMIT = 20  # due runs a pass goes through in one transaction
PASS_SECONDS = 20.0  # a pass goes on with further batches this long (the worker's beat is 30 s)
TIME_TRIGGERS = ("date_reached", "deal_idle", "schedule")
# "holiday": the days of Settings → Automation → Holidays (automation/holidays.py).
DATE_FIELDS = {"person": ["birthday", "holiday"], "deal": ["expected_close_date"]}
IDLE_EVERY = timedelta(hours=1)  # how often stuck deals are looked for


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
        Run.objects.filter(pk__in=ids).update(**engine.lease(now))
    return engine.with_rules(ids)


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
    # The records' views a batch at a time (a query per table, not per record); no flood
    # count: the dedupe key already makes it one run per record and moment.
    for batch in batched(_due_records(rule, now, rule.next_fire_at), BATCH):
        views = records.views(rule.subject, [record_id for record_id, _key in batch])
        for record_id, key in batch:
            if (view := views.get(record_id)) is None:
                continue
            run = start(
                rule, rule.trigger, rule.subject, record_id, view,
                dedupe_key=key, context={"event": rule.trigger}, recent=0,
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
    if field == "holiday":  # once a year each: the key names the holiday and the year
        for holiday, people in holidays.greeted_on(day):
            for record_id in people.iterator():
                yield record_id, f"holiday:{holiday.pk}:{day.year}:{record_id}"
        return
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
            with transaction.atomic(), runlog.gathering():
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
        go_on(run, now, engine.with_trigger(run, view), inline=True)
