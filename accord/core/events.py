"""Domain events: services emit them after commit; automation and webhooks subscribe.

An event is a name ("deal.stage_changed") and a payload of plain JSON values: ids,
never model instances, so a handler always reads the current state and a payload can
be queued or sent over the wire unchanged.
"""

import contextvars
import logging
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

Handler = Callable[["DomainEvent"], None]

_handlers: dict[str, list[Handler]] = defaultdict(list)
# What is making the changes now, when it is not a person: an automation run ({"rule",
# "run", "depth"}). Events emitted meanwhile carry it, so a rule can tell that a rule's
# change triggered it, and how deep such a chain is.
_cause: contextvars.ContextVar[dict | None] = contextvars.ContextVar("cause", default=None)


@dataclass(frozen=True)
class DomainEvent:
    name: str
    payload: dict[str, Any]
    occurred_at: Any = field(default_factory=timezone.now)
    cause: dict | None = None


@contextmanager
def caused_by(cause: dict):
    """Events emitted inside carry `cause`."""
    token = _cause.set(cause)
    try:
        yield
    finally:
        _cause.reset(token)


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


def emit(name: str, **payload: Any) -> None:
    """Announce that something happened; handlers run once the transaction commits.

    Emitted outside a transaction, handlers run at once. When the transaction rolls
    back, nothing is announced.
    """
    _check_plain(name, payload)
    event = DomainEvent(name=name, payload=payload, cause=_cause.get())
    transaction.on_commit(lambda: _dispatch(event), robust=False)


def _dispatch(event: DomainEvent) -> None:
    # dict.fromkeys keeps the order and calls a handler subscribed twice only once.
    for handler in dict.fromkeys([*_handlers.get(event.name, []), *_handlers.get("*", [])]):
        try:
            handler(event)
        except Exception:
            # One broken subscriber must not stop the others nor the request that
            # already committed; it is logged for the operator.
            logger.exception("Handler %r failed on event %s", handler, event.name)


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
