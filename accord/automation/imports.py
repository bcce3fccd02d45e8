"""An import's records' events (their cause names the import) run no rule inline: they
are gathered, and the runs they call for are queued for the worker's pass at once when
the import's batch is saved (the next event without that cause, `import.batch_saved`,
or the end of the batch of events) — not at all when the user turned automation off for
the import. An import the user started is no runaway loop: the flood guard leaves its
runs alone (the depth guard does not)."""

import logging
import threading

from django.db import IntegrityError, transaction

from accord.automation import records, triggers
from accord.automation.engine import forget_rules, runnable_rules, start
from accord.automation.models import Run
from accord.core.bulk import Table
from accord.core.events import DomainEvent, at_batch_end

log = logging.getLogger(__name__)
DEFER_BATCH = 2000  # an import's events gathered at most before their runs are queued
_deferred = threading.local()  # an import's events whose runs are not queued yet


def on_event(event: DomainEvent) -> None:
    """Keep an import's event for `queue_deferred` (subscribed to every event; the others
    are the engine's), when automation is on for the import and some rule listens to it."""
    if not triggers.by_import(event.cause):
        return
    _defer(event)


def _defer(event: DomainEvent) -> None:
    """Keep an import's event for `queue_deferred`, when automation is on for the import
    and some rule listens to it."""
    if event.cause.get("automation") is False:
        return
    matches = triggers.EVENTS.get(event.name)
    if not matches:
        return
    wanted = {trigger for trigger, _subject, _key in matches}
    if not any(rule.trigger in wanted for rule in runnable_rules()):
        return
    if getattr(_deferred, "events", None) is None:
        _deferred.events = {}
    # By the event's id: a batch handled again after a failing handler gathers it once.
    _deferred.events[event.id or id(event)] = event
    if len(_deferred.events) >= DEFER_BATCH:
        queue_deferred()


@at_batch_end
def queue_deferred() -> int:
    """Queue the runs the gathered events of an import call for, for the worker's pass
    (`scheduler.tick`): their records read a query per table, the runs written at once in
    the transaction that marks the events done. An event handled again (a retry, a
    restore) starts no rule twice. Answers how many were queued."""
    gathered, _deferred.events = getattr(_deferred, "events", None) or {}, {}
    events = list(gathered.values())
    if not events:
        return 0
    ids = [event.id for event in events if event.id is not None]
    ran = set(Run.objects.filter(event_id__in=ids).values_list("event_id", "rule_id"))
    rules = runnable_rules()
    wanted = [
        (event, trigger, subject, record_id, chosen)
        for event in events
        for trigger, subject, record_id, _payload, chosen in triggers.matching(event, rules)
    ]
    views: dict[str, dict] = {}
    for subject in {subject for _e, _t, subject, _r, _c in wanted}:
        ids = [record_id for _e, _t, s, record_id, _c in wanted if s == subject]
        views[subject] = records.views(subject, ids)
    runs = []
    for event, trigger, subject, record_id, chosen in wanted:
        gone = records.gone(subject, event.payload) if trigger == "deleted" else None
        view = gone or views[subject].get(record_id)
        if view is None:
            continue
        context = {"event": event.name, "payload": triggers.kept(event.payload), "gone": gone}
        for rule in chosen:
            if (event.id, rule.pk) in ran:
                continue
            run = start(rule, event.name, subject, record_id, view, cause=event.cause,
                        context=context, save=False, event_id=event.id)  # fmt: skip
            if run is not None:
                runs.append(run)
    table = Table(Run, with_id=False)  # executemany / COPY: bulk_create's preparing cost more
    try:
        with transaction.atomic():
            table.write({name: getattr(run, name) for name in table.attnames} for run in runs)
    except IntegrityError:  # a rule was deleted in another process meanwhile
        forget_rules()
        log.warning("automation: a rule went away while an import's runs were queued")
        return 0
    return sum(run.status == Run.QUEUED for run in runs)
