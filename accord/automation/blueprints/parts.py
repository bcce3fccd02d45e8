"""What the blueprints' rules are made of: who a task or notice is for, the placeholders
filled in when a rule runs, tasks and notices written in every language."""

from collections.abc import Callable

from django.conf import settings
from django.utils import translation

OWNER, HEAD = {"to": "owner"}, {"to": "head"}
# What the texts' placeholders stand for, filled in when a rule runs.
CLIENT, DEAL, OWNER_NAME = "{{ client.name }}", "{{ deal.title }}", "{{ owner.name }}"
AMOUNT = "{{ deal.amount }} {{ deal.currency }}"
NAME = "{{ person.first_name }}"


def in_every_language(write: Callable[[], dict]) -> dict:
    """The texts `write` gives in the active language (the installer's), with a variant
    in each other language Accord speaks: whoever reads a task or a notice gets theirs."""
    texts = write()
    variants = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            if (written := write()) != texts:
                variants[code] = written
    return {**texts, "translations": variants}


def task(title: Callable[[], str], who: dict, amount: int, unit: str, kind: str = "call") -> dict:
    return {
        "type": "create_task",
        "params": {
            **in_every_language(lambda: {"title": title()}),
            "kind": kind,
            "assignee": who,
            "due_in": {"amount": amount, "unit": unit},
        },
    }


def notify(who: dict, message: Callable[[], str]) -> dict:
    return {
        "type": "notify",
        "params": {"to": who, **in_every_language(lambda: {"message": message()})},
    }


def stage_is(name: str, op: str = "eq") -> dict:
    return {"match": "all", "items": [{"field": "deal.stage", "op": op, "value": name}]}
