"""The actions' registry: what a rule can do, one `Action` per kind of step in ACTIONS,
each with a `check` (refuses a step naming a user, stage or field that is not there: the
rule is flagged as broken) and a `run` (does it through the domain services, as the
rule's author, and answers what it did, for the run's log and the record's timeline).
Later features add theirs with `register`: the engine, the rule screen and the checks
take any action registered here."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class ActionError(Exception):
    """A step that cannot be done now (it may be retried) or ever (`final`)."""

    def __init__(self, message: str, *, final: bool = False):
        super().__init__(message)
        self.final = final


@dataclass
class Step:
    """What an action's `run` gets: the run's record (its plain view, fresh), who acts,
    the time, and whether it is a dry run (nothing is written)."""

    subject: str
    record_id: int | None
    view: dict
    actor: Any
    now: datetime
    rule_name: str
    dry_run: bool = False
    made: dict = field(default_factory=dict)  # what earlier steps made (task ids...)
    # Set false by an action that found nothing to do (the tag is there already): the
    # record's view need not be read again.
    changed: bool = True


@dataclass
class Action:
    kind: str
    label: Any
    subjects: tuple[str, ...]
    check: Callable[[dict, str], list[str]]
    run: Callable[[Step, dict], str]
    changes_record: bool = True  # the record's view is read again after it
    # It waits on another machine (a webhook, a gateway): done by the worker, outside any
    # database transaction, so a slow receiver holds up neither a user nor a write.
    network: bool = False
    # On a rule about these records, what it did is on the record's own timeline already
    # (a change, a planned task) by "Automation · the rule": no second entry saying it.
    traced: tuple[str, ...] = ()


ACTIONS: dict[str, Action] = {}


def register(action: Action) -> Action:
    ACTIONS[action.kind] = action
    return action
