"""What the events of one batch of the worker's pass share, when it runs them in one
transaction without savepoints (`accord.core.events.Batch`, not isolated): their
records' views and flood counts read at once, each owner read once, and their runs,
steps and timeline entries written together at the batch's end (a run in its state then:
one INSERT, not an INSERT and an UPDATE).

Such a batch undoes itself as a whole when anything fails, and is run again with a
savepoint per handler; what is shared lives on the batch, so the run again starts
afresh. An event outside such a batch (a web request's, a batch run again isolated)
reads and writes on its own, as before.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from accord.automation import records, runlog, triggers
from accord.automation.models import Rule, Run
from accord.core.events import DomainEvent, at_batch_end, current_batch

FLOOD_WINDOW = timedelta(minutes=1)  # the flood guard counts a rule's runs on a record in it
# The views a run's change may show in, by the run's record: tasks show their deal, deals
# and tasks their client, people their company; a task's step may move its deal.
SHOWN_IN = {
    "deal": ("task",),
    "task": ("deal", "task"),
    "person": ("deal", "task"),
    "company": ("person", "deal", "task"),
}


@dataclass
class Shared:
    """The batch's reads and writes: views by (subject, id) — None for a record gone —
    the runs of the last minute by (subject, id, rule id) for the records counted, the
    owners steps name, and the runs, steps and timeline entries to write at the end."""

    views: dict[tuple[str, Any], dict | None] = field(default_factory=dict)
    recent: Counter = field(default_factory=Counter)
    counted: set[tuple[str, Any]] = field(default_factory=set)
    users: dict = field(default_factory=dict)
    gathered: dict[str, list] = field(default_factory=runlog.gathered_nothing)

    def view(self, subject: str, record_id: Any) -> dict | None:
        """The record as the batch began, unless a run of the batch changed a record
        since (then read now)."""
        key = (subject, record_id)
        if key not in self.views:
            self.views[key] = records.view(subject, record_id)
        return self.views[key]

    def changed(self, subject: str, record_id: Any) -> None:
        """A run on this record changed it: its view is read again when needed, and those
        that may show the change (SHOWN_IN)."""
        self.views.pop((subject, record_id), None)
        kinds = SHOWN_IN.get(subject, tuple(records.FIELDS))
        for key in [key for key in self.views if key[0] in kinds]:
            del self.views[key]

    def recent_runs(self, rules: list[Rule], subject: str, record_id: Any, now: datetime) -> dict:
        """{rule id: its runs on the record in the last minute}: read when the batch
        began, with the runs the batch started since."""
        if (subject, record_id) not in self.counted:
            self._count(subject, [record_id], now)
        return {rule.pk: self.recent[subject, record_id, rule.pk] for rule in rules}

    def started(self, run: Run) -> None:
        """A run the batch started, written at its end."""
        self.recent[run.subject_type, run.subject_id, run.rule_id] += 1
        self.gathered["runs"].append(run)

    def _count(self, subject: str, ids: list, now: datetime) -> None:
        found = Run.objects.filter(
            subject_type=subject, subject_id__in=ids, created_at__gte=now - FLOOD_WINDOW
        )
        self.recent.update(
            (subject, record_id, rule_id)
            for record_id, rule_id in found.order_by().values_list("subject_id", "rule_id")
        )
        self.counted.update((subject, record_id) for record_id in ids)

    def prepare(self, events: list[DomainEvent], rules: list[Rule], now: datetime) -> None:
        """Read the views and flood counts of the records the events' rules are about:
        a query per table, and one for the counts."""
        wanted: dict[str, set] = {}
        for event in events:
            # An import's events are gathered apart; an activity's records take a query.
            if event.name == "activity.logged" or (event.cause or {}).get("import"):
                continue
            for trigger, subject, record_id, _payload, _chosen in triggers.matching(event, rules):
                if trigger != "deleted":
                    wanted.setdefault(subject, set()).add(record_id)
        for subject, ids in wanted.items():
            found = records.views(subject, sorted(ids))
            self.views.update({(subject, pk): found.get(pk) for pk in ids})
            self._count(subject, sorted(ids), now)


def shared(rules: list[Rule], now: datetime) -> Shared | None:
    """What the current batch's events share, prepared on its first event's call; None
    outside a batch without savepoints."""
    batch = current_batch()
    if batch is None or batch.isolated:
        return None
    found = batch.kept.get("automation")
    if found is None:
        found = batch.kept["automation"] = Shared()
        found.prepare(batch.events, rules, now)
    return found


def without_savepoints() -> bool:
    """Inside a batch that is run again with savepoints when anything in it fails: an
    action then needs no savepoint of its own."""
    batch = current_batch()
    return batch is not None and not batch.isolated


@at_batch_end
def write_gathered() -> None:
    """The batch's runs, their steps and timeline entries: a statement per table."""
    batch = current_batch()
    found = batch.kept.get("automation") if batch is not None else None
    if found is not None:
        runlog.write(found.gathered)
        found.gathered = runlog.gathered_nothing()
