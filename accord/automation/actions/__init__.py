"""What a rule can do: create a task or a deal, give the record an owner, change a
field, move a deal, add a tag, notify people, send an e-mail, call a webhook — each an
`Action` in the one registry (`registry.py`: ACTIONS, `register`), its code in the module
of its topic: `changes.py`, `new_records.py`, `messages.py`; whom a step names in
`people.py`, amounts of time in `durations.py`; a document from the deal `documents.py`.

Waiting and branching are steps of the engine itself (`engine.py`). Later features add
theirs with `register` ("send_sms", "generate_document", "send_message")."""

# Each topic module registers its actions when imported.
from accord.automation.actions import (  # noqa: F401
    billing,
    changes,
    chats,
    documents,
    messages,
    new_records,
    reports,
    surveys,
)
from accord.automation.actions.registry import ACTIONS, Action, ActionError, Step, register

__all__ = ["ACTIONS", "Action", "ActionError", "Step", "register"]
