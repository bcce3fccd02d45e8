"""Shared pieces of the API's schemas."""

from datetime import datetime, time
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import WithJsonSchema


class WithId(Schema):
    """A record in the API: ids are opaque strings."""

    id: str

    @staticmethod
    def resolve_id(record) -> str:
        return str(record.pk)


class EventOut(WithId):
    """One entry of a record's timeline."""

    kind: str
    actor: str | None
    occurred_at: datetime
    data: dict[str, Any]

    @staticmethod
    def resolve_actor(event) -> str | None:
        return str(event.actor_id) if event.actor_id else None


# A record's id in a URL path: a string of digits in the schema, like the ids in bodies;
# anything else is answered 404 (see the API's request-validation handler).
RecordId = Annotated[
    int,
    Field(ge=1, le=2**63 - 1),
    WithJsonSchema({"type": "string", "pattern": "^[0-9]{1,19}$"}),
]


def id_of(value) -> int | None:
    """The record id an API id ("42") stands for; None for anything else ("9²", "-1",
    a number past any id), so a lookup never fails on it."""
    text = str(value)
    return int(text) if text.isascii() and text.isdecimal() and len(text) <= 18 else None


# A time of day on someone's clock: JSON Schema's "time" format demands a UTC offset.
LocalTime = Annotated[
    time,
    WithJsonSchema(
        {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9](:[0-5][0-9](\\.[0-9]+)?)?$"}
    ),
]
