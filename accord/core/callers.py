"""Callers of the API that are neither a token nor a session: an app serving a web
address of its own (automation's inbound hooks, whose secret is in the address)
registers how to tell who calls it, so the shared API plumbing (idempotency) knows them
without importing the app."""

from collections.abc import Callable

from django.http import HttpRequest

# Answers the caller's credentials as a string, or None for an unknown caller.
Recogniser = Callable[[HttpRequest], str | None]

_recognisers: dict[str, Recogniser] = {}


def register(prefix: str, recognise: Recogniser) -> None:
    """Requests whose path starts with `prefix` are told by `recognise`."""
    _recognisers[prefix] = recognise


def recogniser_for(path: str) -> Recogniser | None:
    for prefix, recognise in _recognisers.items():
        if path.startswith(prefix):
            return recognise
    return None
